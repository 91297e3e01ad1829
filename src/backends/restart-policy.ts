import { type BackoffPolicy, backoffDelay, DEFAULT_BACKOFF } from './backoff.js';

/**
 * The crash-loop policy: back off a process that cannot start (or dies right after starting), not one
 * that ran and served. A process ran and served when it answered a tools/call, or stayed ready for
 * `stableMs`; its death resets the backoff, it is restarted after `restartMs`, and calls wait for it.
 * Failures in a row — a failed start, or a death before it served — make the delay grow and, from
 * `crashLoopAfter` on, make calls fail fast until an attempt succeeds.
 */
export interface RestartPolicy extends BackoffPolicy {
  /** Delay before restarting a process that ran and served (stayed ready `stableMs` or longer). */
  restartMs: number;
  /**
   * Failures in a row (failed starts, or deaths before serving) from which the backend is `failed` and
   * calls fail fast until an attempt succeeds. Sooner when the next attempt is due no earlier than the
   * calls' timeout (waiting could not help), and from the first failure for a backend that was never
   * ready: it cannot start, so waiting would only delay the error.
   */
  crashLoopAfter: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = { ...DEFAULT_BACKOFF, restartMs: 50, crashLoopAfter: 5 };

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
  private answered = false;
  private everReady = false;

  constructor(
    private readonly policy: RestartPolicy = DEFAULT_RESTART_POLICY,
    private readonly now: () => number = Date.now,
  ) {}

  /** The backend became ready (initialized and listed its tools). */
  ready(): void {
    this.readyAt = this.now();
    this.answered = false;
    this.everReady = true;
  }

  /** The ready process answered a call: it serves. */
  served(): void {
    if (this.readyAt !== undefined) this.answered = true;
  }

  /**
   * A ready process ended: killed, crashed, or its connection was lost. `waitLimitMs` is how long calls
   * wait for the backend (its call timeout).
   */
  ended(waitLimitMs: number): RestartDecision {
    const uptime = this.readyAt === undefined ? 0 : this.now() - this.readyAt;
    const served = this.answered || (this.readyAt !== undefined && uptime >= this.policy.stableMs);
    this.readyAt = undefined;
    this.answered = false;
    if (served) {
      this.failures = 0;
      return { delayMs: this.policy.restartMs, failFast: false, failures: 0 };
    }
    return this.fail(waitLimitMs);
  }

  /** An attempt failed before the backend was ready. */
  startFailed(waitLimitMs: number): RestartDecision {
    this.readyAt = undefined;
    return this.fail(waitLimitMs);
  }

  private fail(waitLimitMs: number): RestartDecision {
    const delayMs = backoffDelay(this.failures++, this.policy);
    const failFast = !this.everReady || this.failures >= this.policy.crashLoopAfter || delayMs >= waitLimitMs;
    return { delayMs, failFast, failures: this.failures };
  }
}
