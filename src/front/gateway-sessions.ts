/**
 * One client's MCP server, as every front makes it: the table (or a profile's view of it) and the
 * shared hub, gate and bridge wired into `createFrontServer`, with the session counted for telemetry.
 */
import type { Server } from '@modelcontextprotocol/server';
import { telemetry } from '../observability/index.js';
import { accessOf } from './access-check.js';
import type { GatewayParts } from './gateway-parts.js';
import type { FrontTransport, ProtocolEra } from './served-tool.js';
import { createFrontServer, type ListHints } from './server.js';

/**
 * How long a modern client may reuse a list the gateway served. Changes are also announced to
 * clients listening (subscriptions/listen), so this only bounds staleness for those that do not.
 */
export const LIST_TTL_MS = 30_000;

export interface SessionOptions {
  era?: ProtocolEra;
  /** A modern HTTP request's server: it lives for that request only. */
  perRequest?: boolean;
  profile?: string | undefined;
}

export function createSession(
  parts: GatewayParts,
  transport: FrontTransport,
  { era = 'legacy', perRequest = false, profile }: SessionOptions = {},
): Server {
  const server = createFrontServer({
    table: profile === undefined ? parts.table : parts.profiles.table(profile),
    transport,
    version: parts.version,
    logger: parts.logger.child(transport),
    hub: parts.hub,
    ready: () => parts.startupWait(),
    gate: parts.gate,
    bridge: parts.bridge,
    era,
    perRequest,
    listHints: () => listHints(parts),
    ...(transport === 'http'
      ? { access: (authInfo) => accessOf(authInfo, () => parts.config().http.auth) }
      : {}),
  });
  // A modern HTTP request's server lives for that request: it is not a session.
  if (perRequest) return server;
  const ended = telemetry.sessionOpened(transport, era);
  const onclose = server.onclose;
  server.onclose = () => {
    ended();
    onclose?.();
  };
  return server;
}

/**
 * The caching hints of a modern list result: none to cache while a backend is still connecting
 * (the lists are about to change), else {@link LIST_TTL_MS}, private to the caller.
 */
function listHints(parts: GatewayParts): ListHints {
  const settling = parts.registry.list().some((b) => b.status === 'connecting');
  return { ttlMs: settling ? 0 : LIST_TTL_MS, cacheScope: 'private' };
}
