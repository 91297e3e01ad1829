import { Redis } from 'ioredis';
import { type ClusterSettings, shownRedisUrl } from '../config/index.js';
import { errorMessage, GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import { replicaId } from './replica.js';

/**
 * This replica's connection to the cluster's Redis: one connection for commands, one for pub/sub
 * (a subscribed connection can do nothing else). Commands fail fast while Redis is away — no offline
 * queue — so a caller gets a clear CLUSTER_UNAVAILABLE instead of a request that hangs; ioredis
 * reconnects by itself, and `onReady` listeners resynchronise then.
 */

/** A runtime registration as stored: the register_server input, and whether it has started yet. */
export interface StoredRegistration {
  input: Record<string, unknown>;
  /** `starting` while the replica that took it waits for its first connection; others wait too. */
  state: 'starting' | 'ready';
  by: string;
  at: number;
}

export interface ClusterEvent {
  type: 'registered' | 'removed' | 'status';
  name?: string;
  from: string;
}

/** What a replica says about itself, readable by every replica (list_servers). */
export interface ReplicaStatus {
  replica: string;
  /** ok, or refused: the config file's latest version did not load here (the previous one serves). */
  config: 'ok' | 'refused';
  issues?: string[];
  /** When the config that serves was read (ms since epoch). */
  loadedAt: number;
  draining?: boolean;
  /** Where the other replicas reach this one (cluster.advertise_url): a retry owed here is forwarded to it. */
  url?: string;
  /** The name in the requestStates this replica issues, when bridge.replica sets one unlike `replica`. */
  bridge?: string;
  at: number;
}

/** A `starting` entry older than this is a replica that died mid-registration: ignored and cleared. */
const STARTING_STALE_MS = 120_000;
/** A replica whose status is older than this is gone. */
const STATUS_TTL_MS = 30_000;
const COMMAND_TIMEOUT_MS = 2_000;

// Reserve a name atomically: refused if taken, or if the cluster already holds `max` registrations.
const RESERVE = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return {-1, redis.call('HGET', KEYS[1], ARGV[1])} end
local count = redis.call('HLEN', KEYS[1])
if count >= tonumber(ARGV[3]) then return {-2, tostring(count)} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return {1, ''}
`;

export class ClusterLink {
  readonly replica = replicaId();
  private readonly cmd: Redis;
  private readonly sub: Redis;
  private readonly keys: { registrations: string; events: string; replicas: string; status: string };
  private readonly eventListeners = new Set<(event: ClusterEvent) => void>();
  private readonly readyListeners = new Set<() => void>();
  private closed = false;
  private downSince: number | undefined;

  constructor(
    readonly settings: ClusterSettings & { redis: string },
    private readonly logger: Logger,
  ) {
    const p = settings.keyPrefix;
    this.keys = {
      registrations: `${p}:registrations`,
      events: `${p}:events`,
      replicas: `${p}:replicas`,
      status: `${p}:replica-status`,
    };
    const options = {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: COMMAND_TIMEOUT_MS,
      connectTimeout: COMMAND_TIMEOUT_MS,
      // Back off to at most 1 s between attempts: recovery within a second or so of Redis returning.
      retryStrategy: (times: number) => Math.min(100 * times, 1000),
    };
    this.cmd = new Redis(settings.redis, { ...options, connectionName: `mcp-gateway:${this.replica}` });
    this.sub = new Redis(settings.redis, { ...options, connectionName: `mcp-gateway:${this.replica}:sub` });
    const shown = shownRedisUrl(settings.redis);
    this.cmd.on('ready', () => {
      if (this.downSince !== undefined)
        logger.info(`Redis ${shown} is reachable again (after ${Date.now() - this.downSince} ms)`);
      this.downSince = undefined;
      for (const fn of [...this.readyListeners]) fn();
    });
    this.cmd.on('error', (err) => this.noteDown(shown, err));
    this.sub.on('error', () => {});
    this.sub.on('ready', () => {
      this.sub.subscribe(this.keys.events).catch((err) => logger.warn(`subscribing: ${errorMessage(err)}`));
    });
    this.sub.on('message', (_channel: string, message: string) => {
      let event: ClusterEvent;
      try {
        event = JSON.parse(message) as ClusterEvent;
      } catch {
        return;
      }
      if (event.from === this.replica) return;
      for (const fn of [...this.eventListeners]) fn(event);
    });
  }

  private noteDown(shown: string, err: Error): void {
    if (this.closed) return;
    if (this.downSince === undefined) {
      this.downSince = Date.now();
      this.logger.warn(`Redis ${shown} is unreachable: ${errorMessage(err)}; retrying`);
    }
  }

  /** Connects both connections; resolves even if Redis is away (they keep retrying). */
  async connect(): Promise<void> {
    await Promise.allSettled([this.cmd.connect(), this.sub.connect()]);
  }

  /** The ioredis client for commands (rate-limiter-flexible stores its counters with it). */
  get redis(): Redis {
    return this.cmd;
  }

  reachable(): boolean {
    return this.cmd.status === 'ready';
  }

  onEvent(fn: (event: ClusterEvent) => void): () => void {
    this.eventListeners.add(fn);
    return () => this.eventListeners.delete(fn);
  }

  /** Called each time the command connection becomes ready: at start and after every outage. */
  onReady(fn: () => void): () => void {
    this.readyListeners.add(fn);
    return () => this.readyListeners.delete(fn);
  }

  /**
   * Takes `name` for a registration starting on this replica. Throws BACKEND_EXISTS when another
   * replica holds the name, REGISTER_LIMIT when the cluster holds `max` registrations already.
   */
  async reserve(name: string, input: Record<string, unknown>, max: number): Promise<void> {
    const value: StoredRegistration = { input, state: 'starting', by: this.replica, at: Date.now() };
    const [code, detail] = (await this.run('register_server', () =>
      this.cmd.eval(RESERVE, 1, this.keys.registrations, name, JSON.stringify(value), String(max)),
    )) as [number, string];
    if (code === -1) {
      const held = parseRegistration(detail);
      if (held && held.state === 'starting' && Date.now() - held.at > STARTING_STALE_MS) {
        await this.drop(name, false);
        return this.reserve(name, input, max);
      }
      throw new GatewayError(
        'BACKEND_EXISTS',
        `server '${name}' already exists in the cluster (registered on replica ${held?.by ?? '?'}); remove it first or pick another name`,
        { server: name, replica: held?.by },
      );
    }
    if (code === -2) {
      throw new GatewayError(
        'REGISTER_LIMIT',
        `register_server: ${detail} servers registered at runtime across the cluster already, the most limits.max_runtime_backends allows (${max}). Remove one with remove_server first.`,
        { count: Number(detail), max, setting: 'limits.max_runtime_backends' },
      );
    }
  }

  /** The registration started: every replica starts it too. */
  async confirm(name: string, input: Record<string, unknown>): Promise<void> {
    const value: StoredRegistration = { input, state: 'ready', by: this.replica, at: Date.now() };
    await this.run('register_server', () =>
      this.cmd.hset(this.keys.registrations, name, JSON.stringify(value)),
    );
    await this.publish({ type: 'registered', name, from: this.replica });
  }

  /** Forgets `name` cluster-wide; with `announce`, tells every replica to remove it. */
  async drop(name: string, announce = true): Promise<boolean> {
    const removed = await this.run('remove_server', () => this.cmd.hdel(this.keys.registrations, name));
    if (announce) await this.publish({ type: 'removed', name, from: this.replica });
    return removed > 0;
  }

  /** Every registration that has started somewhere, the source of truth for a replica catching up. */
  async registrations(): Promise<Map<string, StoredRegistration>> {
    const all = await this.run('cluster sync', () => this.cmd.hgetall(this.keys.registrations));
    const out = new Map<string, StoredRegistration>();
    for (const [name, text] of Object.entries(all)) {
      const entry = parseRegistration(text);
      if (entry) out.set(name, entry);
    }
    return out;
  }

  /** Stores this replica's status (and a heartbeat), and tells the others it changed. */
  async putStatus(status: Omit<ReplicaStatus, 'replica' | 'at'>, announce = false): Promise<void> {
    const now = Date.now();
    const full: ReplicaStatus = { ...status, replica: this.replica, at: now };
    await this.run('cluster status', () =>
      this.cmd
        .multi()
        .zadd(this.keys.replicas, now, this.replica)
        .zremrangebyscore(this.keys.replicas, 0, now - 10 * STATUS_TTL_MS)
        .hset(this.keys.status, this.replica, JSON.stringify(full))
        .exec(),
    );
    if (announce) await this.publish({ type: 'status', from: this.replica });
  }

  /** The status of every replica seen within the last 30 s, this one included. */
  async statuses(): Promise<ReplicaStatus[]> {
    const ids = await this.run('cluster status', () =>
      this.cmd.zrangebyscore(this.keys.replicas, Date.now() - STATUS_TTL_MS, '+inf'),
    );
    if (ids.length === 0) return [];
    const values = await this.run('cluster status', () => this.cmd.hmget(this.keys.status, ...ids));
    return values.flatMap((v) => {
      try {
        return v ? [JSON.parse(v) as ReplicaStatus] : [];
      } catch {
        return [];
      }
    });
  }

  /** Says this replica is leaving, so the others stop listing it at once. */
  async leave(): Promise<void> {
    if (!this.reachable()) return;
    await Promise.allSettled([
      this.cmd.zrem(this.keys.replicas, this.replica),
      this.cmd.hdel(this.keys.status, this.replica),
    ]);
  }

  private async publish(event: ClusterEvent): Promise<void> {
    await this.run('cluster publish', () => this.cmd.publish(this.keys.events, JSON.stringify(event)));
  }

  private async run<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new GatewayError(
        'CLUSTER_UNAVAILABLE',
        `${what}: the cluster's Redis (${shownRedisUrl(this.settings.redis)}) cannot be reached: ${errorMessage(err)}. Try again shortly.`,
        { replica: this.replica },
        { cause: err },
      );
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.leave().catch(() => {});
    this.cmd.disconnect();
    this.sub.disconnect();
  }
}

function parseRegistration(text: string | undefined): StoredRegistration | undefined {
  if (!text) return undefined;
  try {
    const value = JSON.parse(text) as StoredRegistration;
    return value && typeof value.input === 'object' ? value : undefined;
  } catch {
    return undefined;
  }
}
