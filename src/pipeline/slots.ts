/**
 * The run's concurrency bound: a FIFO pool of slots. Every backend call (and every child run) holds
 * one while it is in flight; a call waiting for its retry backoff does not.
 */
export class Slots {
  private queue: ((() => void) | undefined)[] = [];
  private head = 0;
  constructor(private free: number) {}

  /** Run `grant` as soon as a slot is free (now, if one is), in the order asked. */
  request(grant: () => void): void {
    if (this.free > 0) {
      this.free--;
      grant();
    } else this.queue.push(grant);
  }

  release(): void {
    if (this.head < this.queue.length) {
      const grant = this.queue[this.head]!;
      this.queue[this.head++] = undefined;
      // Compact now and then so a long fan-out does not keep every granted callback's hole.
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      grant();
    } else this.free++;
  }

  /** Drop every waiting request (the run was aborted). */
  clear(): void {
    this.queue = [];
    this.head = 0;
  }
}
