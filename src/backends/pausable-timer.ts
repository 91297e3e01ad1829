/**
 * A call's time limit that stops counting while the call waits for a person: a backend's elicitation
 * (or sampling, or roots) request forwarded to the client, or parked until a 2026-07-28 client retries
 * with the answer. Pauses nest: the limit runs again once every wait has ended.
 */
export class PausableTimer {
  private left: number;
  private startedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private pauses = 0;
  private done = false;

  constructor(
    limitMs: number,
    private readonly onExpire: () => void,
  ) {
    this.left = Math.max(limitMs, 1);
    this.run();
  }

  /** Milliseconds left of the limit (not counting the current pause). */
  remaining(): number {
    if (this.done) return 0;
    if (this.timer === undefined) return this.left;
    return Math.max(this.left - (Date.now() - this.startedAt), 0);
  }

  get paused(): boolean {
    return this.pauses > 0;
  }

  pause(): void {
    if (this.done) return;
    this.pauses++;
    if (this.pauses > 1 || this.timer === undefined) return;
    this.left = this.remaining();
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  resume(): void {
    if (this.done || this.pauses === 0) return;
    this.pauses--;
    if (this.pauses === 0) this.run();
  }

  /** Runs `wait` with the clock paused. */
  async while<T>(wait: () => Promise<T>): Promise<T> {
    this.pause();
    try {
      return await wait();
    } finally {
      this.resume();
    }
  }

  clear(): void {
    this.done = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private run(): void {
    this.startedAt = Date.now();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.done = true;
      this.onExpire();
    }, this.left);
  }
}
