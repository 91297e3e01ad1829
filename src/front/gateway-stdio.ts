/**
 * The stdio front: one client over stdin/stdout, served in the era its first message speaks.
 */
import type { Server } from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import { LineStdioServerTransport } from '../transport/index.js';
import type { GatewayParts } from './gateway-parts.js';
import { createSession } from './gateway-sessions.js';
import { ListenSubscriptions } from './listen-subscriptions.js';
import { ListenTapTransport } from './stdio-listen.js';

/**
 * `initialize` pins the 2025 era, a 2026-07-28 request (or `server/discover`) the modern one; either
 * way one server lives for the connection. An unknown profile is refused before anything is served.
 */
export function serveStdioFront(parts: GatewayParts, profile?: string): void {
  if (profile !== undefined) parts.profiles.table(profile);
  // Ours, not the SDK's: linear framing, and an oversized message is refused without ending the session.
  const logger = parts.logger.child('stdio');
  const transport = new LineStdioServerTransport({
    maxMessageBytes: () => parts.config().limits.maxMessageBytes,
    warn: (message) => logger.warn(message),
  });
  // A modern client's subscriptions/listen names resource URIs the SDK routes updates to; the
  // gateway watches them on the backends (stdio-listen.ts) and tells the connection's server.
  let session: Server | undefined;
  const listens = new ListenSubscriptions(
    parts.hub,
    (n) => {
      session?.notification(n).catch((err: unknown) => logger.debug(`${n.method}: ${String(err)}`));
    },
    logger,
  );
  parts.onClose(async () => listens.close());
  const wire = new ListenTapTransport(transport, { open: (uris, signal) => listens.open(uris, signal) });
  const handle = serveStdio(
    ({ era }) => {
      session = createSession(parts, 'stdio', { era, profile });
      return session;
    },
    {
      transport: wire,
      onerror: (err) => logger.debug(`stdio: ${err.message}`),
    },
  );
  parts.onClose(() => handle.close());
}
