import { type BackoffPolicy, backoffDelay, DEFAULT_BACKOFF } from './backoff.js';

/**
 * The crash-loop policy: back off a process that cannot start (or dies right after starting), not one
 * that ran and served. A backend killed after serving for a while is restarted at once and calls wait
 * for it; only failures in a row make the delay grow and, past `crashLoopAfter`, make calls fail fast.
 */
export interface RestartPolicy extends BackoffPolicy {
  /** Delay before restarting a process that ran and served (stayed ready `stableMs` or longer). */
  restartMs: number;
  /**
   * Failures in a row (failed starts, or deaths within `stableMs` of ready) after which the backend is
   * `failed` and calls fail fast until an attempt succeeds. A backend that was never ready is `failed`
   * from its first failure: it cannot start, so waiting would only delay the error.
   */
  crashLoopAfter: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = { ...DEFAULT_BACKOFF, restartMs: 50, crashLoopAfter: 3 };

/** What to do after a failure or an exit. */
export interface RestartDecision {
  /** Wait this long before the next attempt. */
  delayMs: number;
  /** `failed` (calls fail fast) rather than `connecting` (calls wait within their timeout). */
  failFast: boolean;
  /** Failures in a row so far, this one included (0 after a process that ran and served). */
  failures: number;
}

/** One backend's restart state. `now` is injectable for tests. */
export class RestartTracker {
  private failures = 0;
  private readyAt: number | undefined;
  private everReady = false;

  constructor(
    private readonly policy: RestartPolicy = DEFAULT_RESTART_POLICY,
    private readonly now: () => number = Date.now,
  ) {}

  /** The backend became ready (initialized and listed its tools). */
  ready(): void {
    this.readyAt = this.now();
    this.everReady = true;
  }

  /** A ready process ended: killed, crashed, or its connection was lost. */
  ended(): RestartDecision {
    const uptime = this.readyAt === undefined ? 0 : this.now() - this.readyAt;
    this.readyAt = undefined;
    if (uptime >= this.policy.stableMs) {
      this.failures = 0;
      return { delayMs: this.policy.restartMs, failFast: false, failures: 0 };
    }
    return this.fail();
  }

  /** An attempt failed before the backend was ready. */
  startFailed(): RestartDecision {
    this.readyAt = undefined;
    return this.fail();
  }

  private fail(): RestartDecision {
    const delayMs = backoffDelay(this.failures++, this.policy);
    const failFast = !this.everReady || this.failures >= this.policy.crashLoopAfter;
    return { delayMs, failFast, failures: this.failures };
  }
}
