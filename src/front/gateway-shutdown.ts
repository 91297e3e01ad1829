/**
 * Stopping the gateway within a deadline: refuse new work, drain what runs, keep a reserve for
 * stopping the backends, then close — and say whether it all happened in time.
 */
import type { ClusterSync } from './cluster-sync.js';
import type { HttpFront } from './http.js';
import type { RequestGate } from './request-gate.js';

/** Of a shutdown deadline, at most this much is kept for stopping the backends after the drain. */
export const STOP_RESERVE_MS = 2_000;

export interface ShutdownResult {
  /** Everything finished and stopped before the deadline. */
  clean: boolean;
  /** Requests still running when the drain ended (they were cut off). */
  cutOff: number;
  /** The fronts and backends closed before the deadline. */
  closed: boolean;
}

export interface ShutdownParts {
  gate: RequestGate;
  httpFronts: readonly HttpFront[];
  cluster: ClusterSync | undefined;
  /** Closes everything the gateway owns. */
  close(): Promise<void>;
}

/** See Gateway.shutdown. */
export async function shutdownWithin(
  parts: ShutdownParts,
  deadlineMs: number,
  options: { drain?: boolean } = {},
): Promise<ShutdownResult> {
  const started = Date.now();
  const left = () => deadlineMs - (Date.now() - started);
  parts.gate.close();
  for (const front of parts.httpFronts) front.stopAccepting();
  parts.cluster?.drainStarted();
  // Without a drain (the only client is gone), what runs is cut off at once.
  const drainMs = options.drain === false ? 0 : deadlineMs - Math.min(STOP_RESERVE_MS, deadlineMs / 4);
  let drained = await parts.gate.whenIdle(drainMs);
  const cutOff = parts.gate.inFlight;
  // A request's handler has returned; its answer may still be on its way out over HTTP.
  for (const front of parts.httpFronts)
    drained = (await front.whenIdle(drainMs - (Date.now() - started))) && drained;
  const closed = await within(parts.close(), left());
  return { clean: drained && closed, cutOff, closed };
}

/** True if `promise` settles within `ms`. */
function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms));
  });
  return Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    late,
  ]).finally(() => clearTimeout(timer));
}
