import { ProtocolError } from '@modelcontextprotocol/client';
import type { ServerConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import { isSdkTimeout } from './call-errors.js';
import type { Connection } from './connection.js';
import { describeError, describeHttpFailure, describeTarget } from './describe.js';

/** Longest wait for the ping that checks an HTTP backend after a failed request. */
const PING_TIMEOUT_MS = 5_000;

/** What the health check needs from the backend whose connection it checks. */
export interface HealthCheckHost {
  readonly config: ServerConfig;
  readonly timeoutMs: number;
  readonly log: Logger;
  /** Whether `conn` is still the backend's live connection. */
  isCurrent(conn: Connection): boolean;
  setLastError(text: string): void;
}

/**
 * A request to a ready HTTP backend failed below MCP (refused, reset, HTTP 5xx): a stateless transport
 * never closes, so note it in lastError and ping once. If the ping fails too, the connection counts as
 * ended and the reconnect with backoff takes over; a backend that answers the ping stays ready.
 */
export async function checkHttp(conn: Connection, failure: string, host: HealthCheckHost): Promise<void> {
  if (!host.isCurrent(conn) || !conn.established || conn.ended || conn.closing || conn.checking) return;
  conn.checking = true;
  const target = describeTarget(host.config);
  host.setLastError(`request to ${target} failed: ${failure}`);
  const timeout = Math.min(host.timeoutMs, PING_TIMEOUT_MS);
  try {
    // A 2026-07-28 backend has no ping: server/discover is its liveness check.
    if (conn.client.getProtocolEra() === 'modern') await conn.client.discover({ timeout });
    else await conn.client.ping({ timeout });
  } catch (err) {
    const timedOut = isSdkTimeout(err, timeout);
    // An answer, even an error, or the connection closing meanwhile: nothing more to do here.
    if ((err instanceof ProtocolError && !timedOut) || !host.isCurrent(conn) || conn.ended || conn.closing)
      return;
    const why = timedOut
      ? `${failure}, then no answer to ping within ${timeout} ms`
      : (describeHttpFailure(err) ?? describeError(err));
    conn.fault = `request to ${target} failed: ${why}`;
    // Not conn.close: the connection's close event sees this as it ending (status, lastError, retry).
    await conn.client.close().catch((e: unknown) => host.log.debug(`close: ${describeError(e)}`));
  } finally {
    conn.checking = false;
  }
}

/**
 * The event stream of a ready HTTP+SSE backend broke (the server went away, restarted, or closed it).
 * That stream is the session: the server forgets it, and the SSE client's own reconnect would open a
 * new, uninitialized one under the old connection. So the connection ends here, and the reconnect
 * with backoff makes a new one, as for a stdio backend whose process exited.
 */
export function endSseSession(conn: Connection, why: string, host: HealthCheckHost): void {
  if (!host.isCurrent(conn) || !conn.established || conn.ended || conn.closing) return;
  conn.fault = `the SSE stream from ${describeTarget(host.config)} ended (${why})`;
  void conn.client.close().catch((e: unknown) => host.log.debug(`close: ${describeError(e)}`));
}
