import type { Backend } from '../backends/index.js';

/**
 * The startup grace: for `graceMs` after the gateway starts its configured backends, tools/list waits
 * for those still connecting, and answers once they have all settled (ready or failed) or the grace is
 * over, with whatever is ready then. Many clients list tools once, right after connecting, and never
 * again; without the grace they would never see a backend that took a second to start. Later lists,
 * and lists after the grace, answer at once.
 */
export class StartupGrace {
  private readonly settled: Promise<void>;

  constructor(backends: readonly Backend[], graceMs: number) {
    this.settled =
      graceMs <= 0 || backends.length === 0
        ? Promise.resolve()
        : Promise.all(backends.map((b) => b.whenSettled(graceMs))).then(() => {});
  }

  /** Resolves when the configured backends have settled or the grace is over; never rejects. */
  wait(): Promise<void> {
    return this.settled;
  }
}
