import { randomUUID } from 'node:crypto';
import {
  createServer,
  type Server as HttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { HttpSettings } from '../config/index.js';
import { GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import { allowedHostnames, checkRequest, isLoopbackHost } from './http-guard.js';

export const MCP_PATH = '/mcp';
/** Requests larger than this are refused before parsing; MCP messages are small. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;
/** Bound on live sessions so a client that opens and drops sessions cannot exhaust memory. */
const MAX_SESSIONS = 1000;

export interface HttpFrontOptions {
  settings: HttpSettings;
  /** Makes the MCP server for one new session. */
  createSession: () => Server;
  logger: Logger;
}

export interface HttpFront {
  url: string;
  close(): Promise<void>;
}

interface Session {
  transport: StreamableHTTPServerTransport;
  server: Server;
}

/**
 * Serves MCP over Streamable HTTP at /mcp, one SDK server per session. Refuses to listen beyond
 * loopback without a token: anyone who can reach the port could otherwise drive every backend.
 */
export async function startHttpFront(options: HttpFrontOptions): Promise<HttpFront> {
  const { settings, logger } = options;
  if (!isLoopbackHost(settings.host) && !settings.token) {
    throw new GatewayError(
      'USAGE',
      `refusing to listen on ${settings.host} without a token: set http.token in the config or MCP_GATEWAY_TOKEN`,
    );
  }
  const allowed = allowedHostnames(settings.host, settings.allowedHosts);
  const sessions = new Map<string, Session>();

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://gateway');
    if (url.pathname !== MCP_PATH)
      return sendJson(res, 404, { error: `Not found; the MCP endpoint is ${MCP_PATH}` });
    const verdict = checkRequest(req, allowed, settings.token);
    if (!verdict.ok) return sendJson(res, verdict.status, { error: verdict.message }, verdict.headers);

    const sessionId = header(req, 'mcp-session-id');
    if (req.method === 'POST') {
      const body = await readJsonBody(req, res);
      if (body === undefined) return;
      if (sessionId)
        return withSession(sessionId, res, (s) => s.transport.handleRequest(req, res, body.value));
      if (!isInitializeRequest(body.value)) {
        return sendRpcError(res, 400, -32000, 'Bad Request: no session id; send initialize first');
      }
      if (sessions.size >= MAX_SESSIONS) return sendRpcError(res, 503, -32000, 'Too many open sessions');
      const session = await openSession();
      return session.transport.handleRequest(req, res, body.value);
    }
    if (req.method === 'GET' || req.method === 'DELETE') {
      if (!sessionId) return sendRpcError(res, 400, -32000, 'Bad Request: mcp-session-id header is required');
      return withSession(sessionId, res, (s) => s.transport.handleRequest(req, res));
    }
    res.setHeader('Allow', 'GET, POST, DELETE');
    return sendJson(res, 405, { error: `Method ${req.method} not allowed` });
  };

  const withSession = (id: string, res: ServerResponse, fn: (s: Session) => Promise<void>) => {
    const session = sessions.get(id);
    if (!session) return sendRpcError(res, 404, -32001, `Session not found: ${id}`);
    return fn(session);
  };

  const openSession = async (): Promise<Session> => {
    const server = options.createSession();
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, { transport, server });
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    await server.connect(transport);
    return { transport, server };
  };

  const http = createServer((req, res) => {
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
  logger.info(`listening on ${url}${settings.token ? ' (bearer token required)' : ''}`);

  return {
    url,
    async close() {
      await Promise.allSettled([...sessions.values()].map((s) => s.server.close()));
      sessions.clear();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
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

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Reads and parses the body within the size bound; answers the error itself and returns undefined on failure. */
async function readJsonBody(
  req: IncomingMessage,
  res: ServerResponse,
): Promise<{ value: unknown } | undefined> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) {
    sendRpcError(res, 413, -32600, `Request body too large (limit ${MAX_BODY_BYTES} bytes)`);
    req.resume();
    return undefined;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      sendRpcError(res, 413, -32600, `Request body too large (limit ${MAX_BODY_BYTES} bytes)`);
      req.destroy();
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  try {
    return { value: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
  } catch (err) {
    sendRpcError(res, 400, -32700, `Parse error: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers }).end(JSON.stringify(body));
}

function sendRpcError(res: ServerResponse, status: number, code: number, message: string): void {
  sendJson(res, status, { jsonrpc: '2.0', error: { code, message }, id: null });
}
