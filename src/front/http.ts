import { randomUUID } from 'node:crypto';
import {
  createServer,
  type Server as HttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import type { AuthInfo, Server } from '@modelcontextprotocol/server';
import { isInitializeRequest } from '@modelcontextprotocol/server';
import {
  type AuthAnswer,
  type AuthFailure,
  type Caller,
  callerLabel,
  callerOf,
  createAuthenticator,
  PROTECTED_RESOURCE_PREFIX,
  sameCaller,
} from '../auth/index.js';
import { type AuthRule, DEFAULT_MAX_MESSAGE_BYTES, type HttpSettings } from '../config/index.js';
import type { ConsoleHandler } from '../console/index.js';
import { GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ConsoleGuard } from './console-host.js';
import { isHealthPath, serveHealth } from './health-http.js';
import { header, readJsonBody, sendJson, sendRpcError, shorten } from './http-body.js';
import {
  type Endpoint,
  endpointOf,
  MCP_PATH,
  oauthProfileVerdict,
  staticAccess,
  staticTokenVerdict,
  unknownProfileMessage,
} from './http-endpoints.js';
import { allowedHostnames, checkRequest, hostnameOf, isLoopbackHost } from './http-guard.js';
import type { CallLimitCheck } from './http-limits.js';
import { createModernLeg, type ModernLeg, type ModernLegOptions } from './http-modern.js';
import { METRICS_PATH, type MetricsSource, serveMetrics } from './metrics-http.js';
import { mayUse, type ProfileAccessSettings } from './profile-access.js';
import type { ReplicaForward } from './replica-forward.js';

export { MCP_PATH } from './http-endpoints.js';
/** Requests larger than this are refused before parsing, unless `limits.max_message_size` says otherwise. */
export const MAX_BODY_BYTES = DEFAULT_MAX_MESSAGE_BYTES;
/**
 * Bound on live sessions so a client that opens and drops sessions cannot exhaust memory. At the
 * bound, a new session takes the place of the one idle longest; only when every session is busy is
 * it refused (503).
 */
export const MAX_SESSIONS = 1000;
/**
 * A session with no request in flight, no open stream and no request for this long is closed; its
 * client gets 404 on its next request and, as the MCP spec asks, initializes a new one.
 */
export const SESSION_IDLE_MS = 30 * 60_000;
/** Time a client has to send a whole request (headers and body); the answer may take longer. */
const REQUEST_TIMEOUT_MS = 60_000;

export interface HttpFrontOptions {
  settings: HttpSettings;
  /** Makes the MCP server for one new 2025-era session, of `profile` (undefined: the default view at /mcp). */
  createSession: (profile?: string) => Server;
  /** Makes the MCP server for one 2026-07-28 request; without it the front speaks the 2025 era only. */
  createModernServer?: (profile?: string) => Server;
  /** Hooks of the modern legs (subscriptions/listen's resource URIs). */
  modernLeg?: ModernLegOptions;
  /**
   * The profiles served at `/mcp/<name>`, asked on every request so a reload adds and removes
   * endpoints. None: only `/mcp`.
   */
  profiles?: () => readonly string[];
  /**
   * Each 2026-07-28 leg the front makes (one per endpoint: `/mcp` at start, a profile's on its first
   * request) is handed here, to be told of list changes; the returned function unwires it on close.
   */
  onModernLeg?: (leg: ModernLeg, profile: string | undefined) => () => void;
  /**
   * Static tokens now (`http.token`, `http.tokens`), read on every request; default: `settings`'.
   * Ignored with `http.auth`.
   */
  tokens?: () => ProfileAccessSettings;
  /** `http.auth.rules` now, for which profile endpoints an OAuth caller may use; default: `settings`'. */
  authRules?: () => readonly AuthRule[] | undefined;
  logger: Logger;
  /** Overrides {@link SESSION_IDLE_MS} (tests). */
  sessionIdleMs?: number;
  /** Overrides {@link MAX_SESSIONS} (tests). */
  maxSessions?: number;
  /** Largest request body, in bytes (`limits.max_message_size`); read per request. Default {@link MAX_BODY_BYTES}. */
  maxBodyBytes?: () => number;
  /** Serves `/metrics` (behind the same Host and token checks) when set. */
  metrics?: MetricsSource;
  /**
   * With `http.auth`: a refusal for an authenticated request the caller's token does not reach (a
   * tool only a scope it lacks would allow), answered 403 insufficient_scope before MCP sees it.
   */
  stepUp?: (authInfo: AuthInfo, body: unknown) => AuthFailure | undefined;
  /** What `/readyz` reports besides draining (config loaded, Redis reachable); default ready. */
  ready?: () => boolean;
  /** `rate_limits:`: checked for every tools/call before it reaches MCP (see http-limits.ts). */
  limitCall?: CallLimitCheck;
  /** With a cluster: a modern retry owed to another replica goes there (see replica-forward.ts). */
  forward?: ReplicaForward;
  /**
   * `http.console`: makes the web console, given the checks /mcp makes; it then answers every path
   * under {@link CONSOLE_PATH}. Without it those paths are 404 and the console is never loaded.
   */
  console?: (guard: ConsoleGuard) => Promise<ConsoleHandler>;
}

/** Where the web console is served (src/console), when `http.console` is on. */
export const CONSOLE_PATH = '/console';

export interface HttpFront {
  url: string;
  /** The 2026-07-28 leg of `/mcp`, when served: tells its listening clients of list changes. */
  modern: ModernLeg | undefined;
  /** Sessions open now. */
  sessionCount(): number;
  /**
   * Shutdown's first step: no new connection or session (503); sessions open go on, so the answers
   * to requests in flight still reach their clients.
   */
  stopAccepting(): void;
  /** True once no POST is being answered (its response sent), false if `ms` passed first. */
  whenIdle(ms: number): Promise<boolean>;
  close(): Promise<void>;
}

interface Session {
  transport: NodeStreamableHTTPServerTransport;
  server: Server;
  /** Requests being answered and streams open (a GET stream, a POST answered as SSE). */
  busy: number;
  /** When the last request on it ended (or began), for idle expiry. */
  lastActive: number;
  /** Who opened it (with `http.auth`): only the same caller may use it, whatever token it sends. */
  caller: Caller | undefined;
  /** The endpoint it was opened at: it is known there only, so a token cannot carry it to another profile. */
  path: string;
}

type AuthedRequest = IncomingMessage & { auth?: AuthInfo };

/**
 * Serves MCP over Streamable HTTP at /mcp and each profile's /mcp/<profile>, one SDK server per
 * session. Refuses to listen beyond loopback without a token: anyone who can reach the port could
 * otherwise drive every backend.
 */
export async function startHttpFront(options: HttpFrontOptions): Promise<HttpFront> {
  const { settings, logger } = options;
  checkHttpSettings(settings);
  const allowed = allowedHostnames(settings.host, settings.allowedHosts);
  const sessions = new Map<string, Session>();
  const idleMs = options.sessionIdleMs ?? SESSION_IDLE_MS;
  const maxSessions = options.maxSessions ?? MAX_SESSIONS;
  let accepting = true;
  const maxBodyBytes = () => options.maxBodyBytes?.() ?? MAX_BODY_BYTES;
  const modernLegs = new Map<string, { leg: ModernLeg; unwire: () => void }>();
  /** The 2026-07-28 leg of an endpoint: each its own handler, so its listeners hear its list changes only. */
  const modernLeg = (endpoint: Endpoint): ModernLeg | undefined => {
    const create = options.createModernServer;
    if (!create) return undefined;
    const known = modernLegs.get(endpoint.path);
    if (known) return known.leg;
    const leg = createModernLeg(() => create(endpoint.profile), logger, options.modernLeg);
    const unwire = options.onModernLeg?.(leg, endpoint.profile) ?? (() => {});
    modernLegs.set(endpoint.path, { leg, unwire });
    return leg;
  };
  const modern = modernLeg({ path: MCP_PATH, profile: undefined });
  const profiles = () => options.profiles?.() ?? [];
  const tokens = (): ProfileAccessSettings =>
    options.tokens?.() ?? {
      ...(settings.token ? { token: settings.token } : {}),
      tokens: settings.tokens ?? [],
    };
  // Started with a token, a front may listen beyond loopback: losing them all on reload must not open it.
  const requireToken = settings.token !== undefined || (settings.tokens?.length ?? 0) > 0;
  const authRules = () => (options.authRules ? options.authRules() : settings.auth?.rules);
  /** POSTs whose response is not sent yet: what shutdown waits for before closing the sessions. */
  let posts = 0;
  const idleWaiters = new Set<() => void>();
  const authenticator = settings.auth ? createAuthenticator(settings.auth, settings.token) : undefined;
  const sendAnswer = (res: ServerResponse, answer: AuthAnswer) =>
    sendJson(res, answer.status, answer.body, answer.headers);
  /** With `http.auth`: the caller, set on `req.auth` for the SDK to hand on as `ctx.http.authInfo`; false when refused (answered). */
  const authenticate = async (
    req: AuthedRequest,
    res: ServerResponse,
    endpointPath = MCP_PATH,
  ): Promise<boolean> => {
    if (!authenticator) return true;
    const verdict = await authenticator.authenticate(req, endpointPath);
    if (!verdict.ok) {
      logger.debug(`refused ${req.method} ${req.url}: ${String(verdict.answer.body.error_description)}`);
      sendAnswer(res, verdict.answer);
      return false;
    }
    req.auth = verdict.authInfo;
    return true;
  };

  const consoleHandler = options.console
    ? await options.console({
        mode: authenticator ? 'oauth' : requireToken ? 'token' : 'none',
        checkOrigin(req, res) {
          const verdict = checkRequest(req, allowed, undefined);
          if (!verdict.ok) sendJson(res, verdict.status, { error: verdict.message }, verdict.headers);
          return verdict.ok;
        },
        async authenticate(req, res) {
          const verdict = checkRequest(req, allowed, undefined);
          if (!verdict.ok) {
            sendJson(res, verdict.status, { error: verdict.message }, verdict.headers);
            return undefined;
          }
          if (!authenticator) {
            // What opens /mcp opens the console: the single token, or one of http.tokens listing `default`.
            const main = { path: MCP_PATH, profile: undefined };
            const who = staticAccess(req, main, tokens(), requireToken);
            if (!who.ok) {
              sendJson(res, who.status, { error: who.message }, who.headers);
              return undefined;
            }
            const open = staticTokenVerdict(who.access, main);
            if (!open.ok) {
              sendJson(res, open.status, { error: open.message });
              return undefined;
            }
          }
          const authed = req as AuthedRequest;
          if (!(await authenticate(authed, res))) return undefined;
          return authed.auth ? { authInfo: authed.auth } : {};
        },
      })
    : undefined;

  const handle = async (req: AuthedRequest, res: ServerResponse) => {
    if (req.method === 'POST') {
      posts++;
      res.once('close', () => {
        if (--posts === 0) for (const done of [...idleWaiters]) done();
      });
    }
    const url = new URL(req.url ?? '/', 'http://gateway');
    // Probes come by pod IP and carry no token: answered before the Host and token checks.
    if (isHealthPath(url.pathname))
      return serveHealth(req, res, url.pathname, () => accepting && (options.ready?.() ?? true));
    if (authenticator && url.pathname.startsWith(PROTECTED_RESOURCE_PREFIX)) {
      // Discovery is public (no token, any Origin), but only under a Host this gateway answers to.
      if (!allowed.has(hostnameOf(req.headers.host ?? '')))
        return sendJson(res, 403, { error: `Host header '${req.headers.host ?? ''}' is not allowed` });
      const doc = authenticator.metadataFor(url.pathname, (path) => {
        const endpoint = endpointOf(path);
        return typeof endpoint === 'object' && isServed(endpoint);
      });
      return doc ? sendAnswer(res, doc) : sendJson(res, 404, { error: 'No such protected resource' });
    }
    if (url.pathname === METRICS_PATH && options.metrics) {
      if (authenticator) {
        const hostOk = checkRequest(req, allowed, undefined);
        if (!hostOk.ok) return sendJson(res, hostOk.status, { error: hostOk.message });
        if (!(await authenticate(req, res))) return;
        return serveMetrics(req, res, options.metrics, allowed, undefined);
      }
      // What opens /mcp opens /metrics: the single token, or a token of http.tokens listing `default`.
      const hostOk = checkRequest(req, allowed, undefined);
      if (!hostOk.ok) return sendJson(res, hostOk.status, { error: hostOk.message });
      const main = { path: MCP_PATH, profile: undefined };
      const who = staticAccess(req, main, tokens(), requireToken);
      if (!who.ok) return sendJson(res, who.status, { error: who.message }, who.headers);
      const open = staticTokenVerdict(who.access, main);
      if (!open.ok) return sendJson(res, open.status, { error: open.message });
      return serveMetrics(req, res, options.metrics, allowed, undefined);
    }
    if (consoleHandler && (url.pathname === CONSOLE_PATH || url.pathname.startsWith(`${CONSOLE_PATH}/`)))
      return consoleHandler.handle(req, res, url.pathname);
    const endpoint = endpointOf(url.pathname);
    if (endpoint === undefined)
      return sendJson(res, 404, { error: `Not found; the MCP endpoint is ${MCP_PATH}` });
    if (endpoint === 'bad-profile')
      return sendJson(res, 404, {
        error: `Not found; MCP endpoints are ${MCP_PATH} and ${MCP_PATH}/<profile> (letters, digits, - and _)`,
      });
    const verdict = checkRequest(req, allowed, undefined);
    if (!verdict.ok) return sendJson(res, verdict.status, { error: verdict.message }, verdict.headers);
    if (!authenticator) {
      // A token that opens something first; then 404 naming only the endpoints it opens, then 403.
      const who = staticAccess(req, endpoint, tokens(), requireToken);
      if (!who.ok) return sendJson(res, who.status, { error: who.message }, who.headers);
      if (!isServed(endpoint)) {
        const open = profiles().filter((p) => mayUse(who.access, p));
        return sendJson(res, 404, { error: unknownProfileMessage(endpoint.profile ?? '', open) });
      }
      const open = staticTokenVerdict(who.access, endpoint);
      if (!open.ok) return sendJson(res, open.status, { error: open.message });
    } else if (!isServed(endpoint)) {
      // With OAuth, which profiles exist is public already (RFC 9728 metadata is served per endpoint).
      return sendJson(res, 404, { error: unknownProfileMessage(endpoint.profile ?? '', []) });
    }
    if (!(await authenticate(req, res, endpoint.path))) return;
    if (authenticator) {
      const open = oauthProfileVerdict(callerOf(req.auth), endpoint, authRules());
      if (!open.ok) return sendJson(res, open.status, { error: open.message });
    }

    const sessionId = header(req, 'mcp-session-id');
    if (req.method === 'POST') {
      const body = await readJsonBody(req, res, maxBodyBytes());
      if (body === undefined) return;
      const refusal = req.auth && options.stepUp?.(req.auth, body.value);
      if (refusal && authenticator) return sendAnswer(res, authenticator.refuse(refusal, endpoint.path));
      if (sessionId) {
        if (sessions.has(sessionId) && (await refusedByLimits(req, res, body.value, sessionId))) return;
        return withSession(sessionId, endpoint, req, res, (s) =>
          s.transport.handleRequest(req, res, body.value),
        );
      }
      const modern = modernLeg(endpoint);
      if (modern && (await modern.claims(req, body.value, maxBodyBytes()))) {
        // Draining: refused before it starts, and the connection closed, so the client (or the load
        // balancer) takes the request elsewhere; nothing accepted is lost.
        if (!accepting)
          return sendJson(
            res,
            503,
            { jsonrpc: '2.0', error: { code: -32000, message: 'The gateway is shutting down' }, id: null },
            { Connection: 'close', 'Retry-After': '0' },
          );
        // Before the limits: the replica that answers counts the call, not this one too.
        if (await options.forward?.(req, res, body.value)) return;
        if (await refusedByLimits(req, res, body.value, undefined)) return;
        return modern.handle(req, res, body.value);
      }
      if (!isInitializeRequest(body.value)) {
        return sendRpcError(res, 400, -32000, 'Bad Request: no session id; send initialize first');
      }
      if (!accepting) return sendRpcError(res, 503, -32000, 'The gateway is shutting down');
      if (sessions.size >= maxSessions && !evictIdlest()) {
        return sendRpcError(res, 503, -32000, 'Too many open sessions; try again later');
      }
      const session = await openSession(callerOf(req.auth), endpoint);
      await session.transport.handleRequest(req, res, body.value);
      // Refused before it began (a bad Accept header, say): close it, or its server stays subscribed
      // to the tool table for ever.
      if (!session.transport.sessionId) await session.server.close();
      return;
    }
    if (req.method === 'GET' || req.method === 'DELETE') {
      if (!sessionId) return sendRpcError(res, 400, -32000, 'Bad Request: mcp-session-id header is required');
      return withSession(sessionId, endpoint, req, res, (s) => s.transport.handleRequest(req, res));
    }
    res.setHeader('Allow', 'GET, POST, DELETE');
    return sendJson(res, 405, { error: `Method ${req.method} not allowed` });
  };

  /** Answers 429 (or 503) and returns true when `rate_limits` refuse a tools/call in `body`. */
  const refusedByLimits = async (
    req: IncomingMessage,
    res: ServerResponse,
    body: unknown,
    sessionId: string | undefined,
  ): Promise<boolean> => {
    const outcome = await options.limitCall?.(req, body, sessionId);
    if (!outcome) return false;
    if (outcome.ok) {
      // In flight until the answer is out (or the client went away).
      res.once('close', outcome.release);
      return false;
    }
    const { refusal } = outcome;
    const id = (body as { id?: unknown } | null)?.id ?? null;
    sendJson(
      res,
      refusal.status,
      { jsonrpc: '2.0', error: { code: -32000, message: refusal.message, data: refusal.data }, id },
      refusal.headers,
    );
    return true;
  };

  /** Whether `endpoint` is served now: `/mcp` always, a profile's while the config has the profile. */
  const isServed = (endpoint: Endpoint) =>
    endpoint.profile === undefined || profiles().includes(endpoint.profile);

  const withSession = (
    id: string,
    endpoint: Endpoint,
    req: AuthedRequest,
    res: ServerResponse,
    fn: (s: Session) => Promise<void>,
  ) => {
    const session = sessions.get(id);
    // A session is known at the endpoint it was opened at only: one profile's token cannot reach
    // another profile's session by sending its id to its own endpoint.
    if (!session || session.path !== endpoint.path)
      return sendRpcError(res, 404, -32001, `Session not found: ${shorten(id)}`);
    // A session id is not a credential: another caller's valid token does not open someone's session.
    if (authenticator && !sameCaller(session.caller, callerOf(req.auth)))
      return sendRpcError(res, 403, -32000, 'This session belongs to another caller');
    // Busy until the answer is sent or its stream closes: a GET stream stays open after fn returns.
    session.busy++;
    session.lastActive = Date.now();
    res.once('close', () => {
      session.busy--;
      session.lastActive = Date.now();
    });
    return fn(session);
  };

  const closeSession = (id: string, session: Session, why: string) => {
    sessions.delete(id);
    logger.info(`closing session ${id}: ${why}`);
    session.server.close().catch((err) => logger.debug(`closing session ${id}: ${String(err)}`));
  };

  /** Makes room for a new session by closing the one idle longest; false when every one is busy. */
  const evictIdlest = (): boolean => {
    let oldest: [string, Session] | undefined;
    for (const entry of sessions) {
      if (entry[1].busy === 0 && (!oldest || entry[1].lastActive < oldest[1].lastActive)) oldest = entry;
    }
    if (!oldest) return false;
    closeSession(oldest[0], oldest[1], `the session limit (${maxSessions}) was reached`);
    return true;
  };

  const sweep = setInterval(
    () => {
      const now = Date.now();
      for (const [id, session] of sessions) {
        if (session.busy === 0 && now - session.lastActive >= idleMs) {
          closeSession(id, session, `idle for ${Math.round((now - session.lastActive) / 1000)} s`);
        }
      }
    },
    Math.max(10, Math.min(idleMs / 4, 60_000)),
  );
  sweep.unref();

  const openSession = async (
    caller: Caller | undefined,
    endpoint: Endpoint,
  ): Promise<Pick<Session, 'transport' | 'server'>> => {
    const server = options.createSession(endpoint.profile);
    const transport: NodeStreamableHTTPServerTransport = new NodeStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, { transport, server, busy: 0, lastActive: Date.now(), caller, path: endpoint.path });
        if (caller) logger.info(`session ${id} opened by ${callerLabel(caller)} at ${endpoint.path}`);
      },
    });
    transport.onclose = () => {
      const id = transport.sessionId;
      if (id && sessions.get(id)?.transport === transport) sessions.delete(id);
    };
    await server.connect(transport);
    return { transport, server };
  };

  const http = createServer({ requestTimeout: REQUEST_TIMEOUT_MS }, (req, res) => {
    handle(req, res).catch((err) => {
      logger.error(`HTTP ${req.method} ${req.url}: ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent) sendRpcError(res, 500, -32603, 'Internal error');
      else res.end();
    });
  });
  await listen(http, settings.port, settings.host);
  const address = http.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${shownHost}:${address.port}${MCP_PATH}`;
  const guard = settings.auth
    ? ` (OAuth access tokens from ${settings.auth.issuer}${settings.token ? ', or the bearer token' : ''})`
    : requireToken
      ? ' (bearer token required)'
      : '';
  logger.info(`listening on ${url}${guard}`);
  const served = profiles();
  if (served.length > 0) logger.info(`profiles at ${served.map((p) => `${url}/${p}`).join(', ')}`);

  return {
    url,
    modern,
    sessionCount: () => sessions.size,
    stopAccepting() {
      accepting = false;
      // No new connections; those open stay until close(), which ends them.
      http.close();
    },
    whenIdle(ms) {
      if (posts === 0) return Promise.resolve(true);
      return new Promise((resolve) => {
        const done = (idle: boolean) => {
          clearTimeout(timer);
          idleWaiters.delete(onIdle);
          resolve(idle);
        };
        const onIdle = () => done(true);
        const timer = setTimeout(() => done(false), Math.max(0, ms));
        idleWaiters.add(onIdle);
      });
    },
    async close() {
      clearInterval(sweep);
      consoleHandler?.close();
      await Promise.allSettled([...sessions.values()].map((s) => s.server.close()));
      await Promise.allSettled(
        [...modernLegs.values()].map(({ leg, unwire }) => {
          unwire();
          return leg.close();
        }),
      );
      modernLegs.clear();
      sessions.clear();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/**
 * Throws the USAGE error startHttpFront would, without listening: lets `serve` refuse bad settings
 * before it starts any backend.
 */
export function checkHttpSettings(settings: HttpSettings): void {
  const tokens = settings.token !== undefined || (settings.tokens?.length ?? 0) > 0;
  if (!isLoopbackHost(settings.host) && !tokens && !settings.auth) {
    throw new GatewayError(
      'USAGE',
      `refusing to listen on ${settings.host} without a token: set http.token (or http.tokens) in the config or MCP_GATEWAY_TOKEN, or http.auth`,
    );
  }
}

function listen(http: HttpServer, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      reject(
        new GatewayError(
          'USAGE',
          `cannot listen on ${host}:${port}: ${err.code === 'EADDRINUSE' ? 'port in use' : err.message}`,
        ),
      );
    };
    http.once('error', onError);
    http.listen(port, host, () => {
      http.off('error', onError);
      resolve();
    });
  });
}
