/**
 * The calls parked until their client retries, by id. Each entry lives until it is taken (a retry used
 * it: single use) or its time is up, when `onExpire` cleans it up (the backend's request is refused and
 * the call cancelled). One process holds its own entries: a retry reaching another replica finds none.
 */
export class PendingTable<T> {
  private readonly entries = new Map<string, { value: T; timer: NodeJS.Timeout }>();

  get size(): number {
    return this.entries.size;
  }

  add(id: string, value: T, ttlMs: number, onExpire: (value: T) => void): void {
    const timer = setTimeout(() => {
      if (this.entries.get(id)?.value !== value) return;
      this.entries.delete(id);
      onExpire(value);
    }, ttlMs);
    // A parked call must not keep the process alive on its own (shutdown ends them: clear).
    timer.unref();
    this.entries.set(id, { value, timer });
  }

  /** The entry, removed: a second take of the same id finds nothing. */
  take(id: string): T | undefined {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    this.entries.delete(id);
    clearTimeout(entry.timer);
    return entry.value;
  }

  /** Ends every entry now (shutdown), calling `onEnd` with each. */
  clear(onEnd: (value: T) => void): void {
    const all = [...this.entries.values()];
    this.entries.clear();
    for (const { value, timer } of all) {
      clearTimeout(timer);
      onEnd(value);
    }
  }
}
