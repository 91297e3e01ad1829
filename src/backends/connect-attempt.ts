import type { SdkHttpError } from '@modelcontextprotocol/client';
import type { Logger } from '../log.js';
import { type Connection, connectedOrEnded } from './connection.js';
import { describeHttpFailure } from './describe.js';
import {
  fallbackFailure,
  type HttpTransportChoice,
  type HttpTransportKind,
} from './http-transport-choice.js';

/** Where one connection attempt of a backend is, for its error path: the last connection and phase. */
export interface AttemptState {
  /** `start`, `initialize`, then (set by the backend) `tools/list`. */
  phase: string;
  conn?: Connection;
  /** For a `url` backend, the HTTP transport of `conn` (or of the connection about to open). */
  kind?: HttpTransportKind;
}

export interface AttemptSteps {
  /** For a `url` backend; undefined for stdio. */
  choice: HttpTransportChoice | undefined;
  open(kind: HttpTransportKind | undefined): { conn: Connection; connected: Promise<void> };
  /** Makes `conn` the backend's live connection. */
  adopt(conn: Connection): void;
  /** Whether `conn` is still the live connection of a backend not being closed. */
  current(conn: Connection): boolean;
  timeoutMs: number;
  log: Logger;
}

/**
 * Opens the connection of one attempt and waits until it has connected (initialized). A `url` backend
 * starts with the transport its choice names and, on the spec's fallback signal, closes that
 * connection and tries HTTP+SSE in the same attempt (http-transport-choice.ts). Rejects with why the
 * last connection failed; `state` then says which one that was.
 */
export async function connectAttempt(state: AttemptState, steps: AttemptSteps): Promise<Connection> {
  state.kind = steps.choice?.first();
  let fellBackFrom: SdkHttpError | undefined;
  for (;;) {
    const opened = steps.open(state.kind);
    const conn = opened.conn;
    state.conn = conn;
    state.phase = 'initialize';
    steps.adopt(conn);
    try {
      await connectedOrEnded(conn, opened.connected, steps.timeoutMs);
      return conn;
    } catch (err) {
      if (fellBackFrom) throw fallbackFailure(fellBackFrom, err);
      if (!state.kind || !steps.choice?.fallsBack(state.kind, err) || !steps.current(conn)) throw err;
      steps.log.info(`Streamable HTTP answered ${describeHttpFailure(err)}; trying the HTTP+SSE transport`);
      await conn.close(steps.log);
      fellBackFrom = err;
      state.kind = 'sse';
    }
  }
}
