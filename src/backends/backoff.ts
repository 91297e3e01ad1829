/** When a backend that exited or failed to start is tried again. */
export interface BackoffPolicy {
  /** Delay before the first retry after a failure. */
  initialMs: number;
  /** The delay doubles per failure in a row up to this cap. */
  maxMs: number;
  /**
   * A process that stayed ready this long (or answered a call) ran and served: its exit is not a
   * failure and resets the backoff. One that dies sooner, having answered nothing, counts as a failure.
   */
  stableMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 250, maxMs: 30_000, stableMs: 1_000 };

/** The delay before retry number `attempt` (0-based): 250 ms, 500 ms, 1 s, … capped at `maxMs`. */
export function backoffDelay(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  const exponent = Math.min(Math.max(attempt, 0), 30);
  return Math.min(policy.initialMs * 2 ** exponent, policy.maxMs);
}
