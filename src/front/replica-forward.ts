import { type IncomingHttpHeaders, type IncomingMessage, request, type ServerResponse } from 'node:http';
import { request as requestTls } from 'node:https';
import { networkInterfaces } from 'node:os';
import { stateReplica } from '../bridge/index.js';
import { ADVERTISE_URL_ENV } from '../config/index.js';
import { errorMessage, GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import { sendJson } from './http-body.js';

/**
 * Retries that must reach one replica. A 2026-07-28 client's retry after `input_required` carries the
 * requestState of a call parked on the replica that issued it (src/bridge); a load balancer may send
 * it to any replica. The one it lands on looks the issuer up in the cluster's status (each replica
 * publishes its `cluster.advertise_url`), sends it the request as it came — headers and body — and
 * relays the answer, streamed. A forwarded request is marked, and a marked request is never forwarded
 * again: it is answered where it lands, so no two replicas can bounce a request between them. When the
 * issuer is gone, the parked call went with it: the client is told so and starts the request again.
 */

/** Marks a forwarded request, naming the replica that forwarded it. */
export const FORWARDED_HEADER = 'mcp-gateway-forwarded-by';
/** Reaching the issuer: a replica that does not accept the connection within this is taken as gone. */
export const CONNECT_TIMEOUT_MS = 5_000;
/**
 * A forwarded answer silent this long is given up (the client gets an error). The issuer applies the
 * call's own timeout; this only bounds a connection that died without closing.
 */
export const IDLE_TIMEOUT_MS = 10 * 60_000;

/** Headers that describe one connection, not the request (RFC 9110 §7.6.1): never passed on. */
const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'content-length',
];

export interface ReplicaForwardOptions {
  /** This replica's name in the requestStates it issues. */
  self: string;
  /**
   * The live replica issuing states under `name` and its advertised base URL; undefined when no live
   * replica goes by it. Throws when the cluster cannot be asked (Redis away).
   */
  lookup(name: string): Promise<{ replica: string; url?: string } | undefined>;
  logger: Logger;
  connectTimeoutMs?: number;
  idleTimeoutMs?: number;
}

/** Answers `req` (returns true) when it is a retry owed to another replica; false: serve it here. */
export type ReplicaForward = (req: IncomingMessage, res: ServerResponse, body: unknown) => Promise<boolean>;

export function replicaForwarder(options: ReplicaForwardOptions): ReplicaForward {
  const { self, logger } = options;
  return async (req, res, body) => {
    const owner = stateReplica(retryState(body));
    if (owner === undefined || owner === self) return false;
    // Forwarded once already: answered here, where the state's own check names the replica it wants.
    if (req.headers[FORWARDED_HEADER] !== undefined) return false;
    let target: { replica: string; url?: string } | undefined;
    try {
      target = await options.lookup(owner);
    } catch (err) {
      // Redis away: where the issuer lives is unknown; the answer here names it.
      logger.debug(`retry for replica '${owner}' not forwarded: ${errorMessage(err)}`);
      return false;
    }
    if (!target) {
      answerGone(res, body, owner, self, 'is no longer in the cluster');
      return true;
    }
    // A replica that advertises no address (an older version): answered here, as before.
    if (!target.url) return false;
    logger.info(`forwarding a retry to replica '${owner}' at ${target.url}`);
    await relay(new URL(req.url ?? '/', `${target.url}/`), req, res, body, { ...options, owner });
    return true;
  };
}

/** The requestState of a single JSON-RPC request, if it carries one. */
function retryState(body: unknown): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  return (body as { params?: { requestState?: unknown } }).params?.requestState;
}

function relay(
  target: URL,
  req: IncomingMessage,
  res: ServerResponse,
  body: unknown,
  options: ReplicaForwardOptions & { owner: string },
): Promise<void> {
  const payload = Buffer.from(JSON.stringify(body));
  const headers: IncomingHttpHeaders = { ...req.headers };
  for (const name of HOP_BY_HOP) delete headers[name];
  headers['content-length'] = String(payload.length);
  headers[FORWARDED_HEADER] = options.self;
  const send = target.protocol === 'https:' ? requestTls : request;
  const connectMs = options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;
  return new Promise((resolve) => {
    // A connection of its own (no agent): retries are rare, and the connect timer below needs a fresh socket.
    const upstream = send(target, { method: 'POST', headers, agent: false });
    const connectTimer = setTimeout(
      () => upstream.destroy(new Error(`no connection within ${connectMs} ms`)),
      connectMs,
    );
    upstream.once('socket', (socket) => socket.once('connect', () => clearTimeout(connectTimer)));
    upstream.setTimeout(options.idleTimeoutMs ?? IDLE_TIMEOUT_MS, () =>
      upstream.destroy(new Error('no answer for too long')),
    );
    upstream.once('response', (answer) => {
      clearTimeout(connectTimer);
      const out: IncomingHttpHeaders = { ...answer.headers };
      for (const name of HOP_BY_HOP) if (name !== 'content-length') delete out[name];
      res.writeHead(answer.statusCode ?? 502, out);
      answer.pipe(res);
      answer.once('error', () => res.destroy());
      answer.once('close', () => resolve());
    });
    upstream.once('error', (err) => {
      clearTimeout(connectTimer);
      if (res.headersSent) res.destroy();
      else {
        options.logger.warn(
          `replica '${options.owner}' at ${target.origin} unreachable: ${errorMessage(err)}`,
        );
        answerGone(res, body, options.owner, options.self, `could not be reached (${errorMessage(err)})`);
      }
      resolve();
    });
    // The client went away: so does the forwarded request, and the issuer cancels the call.
    res.once('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    upstream.end(payload);
  });
}

/** The issuer is gone and the call it held with it: the same -32602 as the bridge's other refusals. */
function answerGone(res: ServerResponse, body: unknown, owner: string, self: string, why: string): void {
  const id = (body as { id?: unknown }).id ?? null;
  sendJson(res, 200, {
    jsonrpc: '2.0',
    id,
    error: {
      code: -32602,
      message: `mcp-gateway: invalid requestState: it was issued by gateway replica '${owner}', which ${why}; the call waiting there is lost with it: start the request again without requestState`,
      data: { reason: 'invalid_request_state', refusal: 'replica-gone', replica: owner, here: self },
    },
  });
}

/**
 * The base URL the other replicas reach this one at: `cluster.advertise_url` when set, else the
 * listen address — with a wildcard host (0.0.0.0, ::), this machine's first non-loopback IPv4
 * address, which in a container is the one its network routes to it.
 */
export function advertisedUrl(configured: string | undefined, listening: string): string {
  if (configured) {
    checkAdvertiseUrl(configured);
    return configured;
  }
  const url = new URL(listening);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (host === '0.0.0.0' || host === '::') {
    const address = Object.values(networkInterfaces())
      .flat()
      .find((a) => a !== undefined && a.family === 'IPv4' && !a.internal)?.address;
    url.hostname = address ?? '127.0.0.1';
  }
  return url.origin;
}

/** Throws USAGE unless `configured` is an http(s) base URL: the schema checks the file's value, not the environment's. */
export function checkAdvertiseUrl(configured: string | undefined): void {
  if (configured === undefined || /^https?:\/\/[^/?#]+$/.test(configured)) return;
  throw new GatewayError(
    'USAGE',
    `cluster.advertise_url (or ${ADVERTISE_URL_ENV}) '${configured}' is not an http:// or https:// base URL like http://10.0.3.7:8003`,
  );
}
