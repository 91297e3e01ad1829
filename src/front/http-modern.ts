import type { IncomingMessage, ServerResponse } from 'node:http';
import { toNodeHandler, toWebRequest } from '@modelcontextprotocol/node';
import {
  type AuthInfo,
  createMcpHandler,
  isInitializeRequest,
  isLegacyRequest,
  type Server,
} from '@modelcontextprotocol/server';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { listenedUris, withListenedUris } from './listen-subscriptions.js';

/**
 * The 2026-07-28 leg of the HTTP front: stateless, one server per request, no session — so any
 * replica can answer. The SDK's handler answers `server/discover`, checks the per-request envelope
 * and the `MCP-Protocol-Version` / `Mcp-Method` / `Mcp-Name` headers, serves `subscriptions/listen`
 * from its event bus, and stamps caching hints; the gateway supplies the server for each request.
 */
export interface ModernLeg {
  /**
   * Whether a session-less POST belongs to this leg: it carries the modern envelope claim (or a
   * modern protocol-version header). Claim-less POSTs, `initialize` among them, are 2025-era.
   */
  claims(req: IncomingMessage, body: unknown, maxBodyBytes: number): Promise<boolean>;
  handle(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void>;
  /** Tells the clients listening (`subscriptions/listen`) that a list changed. */
  toolsChanged(): void;
  promptsChanged(): void;
  resourcesChanged(): void;
  resourceUpdated(uri: string): void;
  close(): Promise<void>;
}

export interface ModernLegOptions {
  /**
   * A `subscriptions/listen` stream is opening with these resource URIs: resolves once they are
   * watched (before the SDK acknowledges the stream), with how to stop when the stream ends.
   */
  listen?: (uris: string[], signal: AbortSignal) => Promise<() => void>;
  /**
   * Of a listen stream's URIs, those its caller may watch (`http.auth.rules`); the others are taken
   * out of the request before the SDK sees it, so its router never sends their updates to this stream.
   */
  mayListen?: (uris: string[], authInfo: AuthInfo | undefined) => Promise<string[]>;
}

export function createModernLeg(
  createServer: () => Server,
  logger: Logger,
  options: ModernLegOptions = {},
): ModernLeg {
  const handler = createMcpHandler(() => createServer(), {
    // 2025-era traffic is routed to the sessionful leg before it reaches this handler.
    legacy: 'reject',
    onerror: (err) => logger.debug(`modern request: ${errorMessage(err)}`),
  });
  const serve = toNodeHandler(handler, {
    onerror: (err) => logger.warn(`modern request failed: ${errorMessage(err)}`),
  });
  const publish = (what: string, fn: () => void) => {
    try {
      fn();
    } catch (err) {
      logger.debug(`${what} not published: ${errorMessage(err)}`);
    }
  };
  return {
    async claims(req, body, maxBodyBytes) {
      // The cheap, common answers first: the handshake and anything without a modern marker is legacy.
      if (isInitializeRequest(body)) return false;
      if (!mayBeModern(req, body)) return false;
      // The common modern request — one JSON-RPC request naming its revision in the envelope — is the
      // modern leg's whatever else it holds (the SDK answers a bad envelope there): no web Request needed.
      if (claimsEnvelope(body)) return true;
      const web = await toWebRequest(req, body);
      return !(await isLegacyRequest(web, body, { maxRequestBodySize: maxBodyBytes }));
    },
    async handle(req, res, body) {
      let uris = options.listen ? listenedUris(body) : [];
      if (!options.listen || uris.length === 0) return serve(req, res, body);
      if (options.mayListen) {
        const allowed = await options.mayListen(uris, (req as { auth?: AuthInfo }).auth);
        if (allowed.length !== uris.length) {
          logger.info(
            `subscriptions/listen: ${uris.filter((u) => !allowed.includes(u)).join(', ')} not allowed for this caller`,
          );
          body = withListenedUris(body, allowed);
          uris = allowed;
        }
      }
      // The stream lives as long as this response: its URIs are watched until it closes.
      const ended = new AbortController();
      res.once('close', () => ended.abort());
      const release = await options.listen(uris, ended.signal);
      if (ended.signal.aborted) release();
      else res.once('close', release);
      return serve(req, res, body);
    },
    toolsChanged: () => publish('tools list_changed', () => handler.notify.toolsChanged()),
    promptsChanged: () => publish('prompts list_changed', () => handler.notify.promptsChanged()),
    resourcesChanged: () => publish('resources list_changed', () => handler.notify.resourcesChanged()),
    resourceUpdated: (uri) => publish('resource updated', () => handler.notify.resourceUpdated(uri)),
    close: () => handler.close(),
  };
}

const ENVELOPE_VERSION_KEY = 'io.modelcontextprotocol/protocolVersion';

/**
 * A pre-filter for {@link isLegacyRequest}: false only when nothing in the request could make it a
 * modern one (no `MCP-Protocol-Version` header naming a 2026+ revision, no envelope version in any
 * message's `_meta`). Anything that might be modern goes to the SDK's own classification.
 */
function mayBeModern(req: IncomingMessage, body: unknown): boolean {
  const version = req.headers['mcp-protocol-version'];
  if (typeof version === 'string' && version >= '2026') return true;
  const messages = Array.isArray(body) ? body : [body];
  return messages.some((m) => {
    const meta = (m as { params?: { _meta?: Record<string, unknown> } } | null)?.params?._meta;
    return meta !== undefined && meta !== null && ENVELOPE_VERSION_KEY in meta;
  });
}

/**
 * One JSON-RPC request (not a batch, not a response) with the envelope's protocol version in `_meta`:
 * {@link isLegacyRequest} answers false for every such request ("a request carrying the envelope
 * claim"), so the answer is known without building a web Request for it.
 */
export function claimsEnvelope(body: unknown): boolean {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  const message = body as { method?: unknown; params?: { _meta?: Record<string, unknown> } };
  const meta = message.params?._meta;
  return (
    typeof message.method === 'string' &&
    typeof meta === 'object' &&
    meta !== null &&
    typeof meta[ENVELOPE_VERSION_KEY] === 'string'
  );
}
