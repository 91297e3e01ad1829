import type { Redis } from 'ioredis';

/**
 * Where the records of recent pipeline runs are kept: in this process without a cluster, in Redis
 * with one, so that any replica reads the runs of every replica. Bounded both ways: the newest
 * {@link MAX_RUNS} runs, each for {@link RUN_TTL_MS}. A record is opaque here (JSON with an id and a
 * start time); the front decides what it holds (front/run-records.ts).
 */

export const MAX_RUNS = 100;
export const RUN_TTL_MS = 24 * 60 * 60_000;

export interface StoredRun {
  id: string;
  /** ms since epoch: the order runs are listed in, newest first. */
  startedAt: number;
}

export interface RunStore<T extends StoredRun = StoredRun> {
  /** Stores (or replaces, by id) a run's record. */
  put(run: T): Promise<void>;
  /** The newest `limit` records, newest first. */
  recent(limit: number): Promise<T[]>;
}

export class MemoryRunStore<T extends StoredRun = StoredRun> implements RunStore<T> {
  private readonly runs = new Map<string, { run: T; until: number }>();

  constructor(
    private readonly max = MAX_RUNS,
    private readonly ttlMs = RUN_TTL_MS,
  ) {}

  async put(run: T): Promise<void> {
    this.runs.delete(run.id);
    this.runs.set(run.id, { run, until: Date.now() + this.ttlMs });
    // A Map keeps insertion order: the first keys are the oldest.
    for (const id of this.runs.keys()) {
      if (this.runs.size <= this.max) break;
      this.runs.delete(id);
    }
  }

  async recent(limit: number): Promise<T[]> {
    const now = Date.now();
    return [...this.runs.values()]
      .filter((entry) => entry.until > now)
      .map((entry) => entry.run)
      .sort((a, b) => b.startedAt - a.startedAt)
      .slice(0, limit);
  }
}

/**
 * One key per run (`<prefix>:run:<id>`, expiring after the TTL) and a sorted set of ids by start
 * time (`<prefix>:runs`), trimmed to the newest {@link MAX_RUNS} on every write (the records of the
 * runs trimmed are deleted). Ids whose key has expired are skipped when read. Commands fail fast while Redis is away (the link's settings).
 */
// Store the record, index it, and drop the oldest beyond the bound — their records with them.
const PUT = `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
local extra = redis.call('ZRANGE', KEYS[2], 0, -(tonumber(ARGV[5]) + 1))
for _, id in ipairs(extra) do redis.call('DEL', ARGV[6] .. id) end
if #extra > 0 then redis.call('ZREMRANGEBYRANK', KEYS[2], 0, #extra - 1) end
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return #extra
`;

export class RedisRunStore<T extends StoredRun = StoredRun> implements RunStore<T> {
  private readonly index: string;

  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly max = MAX_RUNS,
    private readonly ttlMs = RUN_TTL_MS,
  ) {
    this.index = `${keyPrefix}:runs`;
  }

  private key(id: string): string {
    return `${this.keyPrefix}:run:${id}`;
  }

  async put(run: T): Promise<void> {
    await this.redis.eval(
      PUT,
      2,
      this.key(run.id),
      this.index,
      JSON.stringify(run),
      String(this.ttlMs),
      String(run.startedAt),
      run.id,
      String(this.max),
      `${this.keyPrefix}:run:`,
    );
  }

  async recent(limit: number): Promise<T[]> {
    if (limit <= 0) return [];
    const ids = await this.redis.zrevrange(this.index, 0, limit - 1);
    if (ids.length === 0) return [];
    const values = await this.redis.mget(...ids.map((id) => this.key(id)));
    return values.flatMap((value) => {
      if (!value) return [];
      try {
        return [JSON.parse(value) as T];
      } catch {
        return [];
      }
    });
  }
}
