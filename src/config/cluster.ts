/**
 * `cluster:` and `rate_limits:` of gateway.yaml: the settings of running several replicas with
 * shared state in Redis, and of per-caller / per-profile / per-server call limits. Kept apart from
 * normalize.ts so they read as one concept.
 */
import { secrets } from '../secrets.js';
import { parseDuration } from './duration.js';
import type { Env } from './expand.js';
import type { Problem, Segment } from './problems.js';

/** Environment variable that sets `cluster.redis` when the file does not. */
export const REDIS_URL_ENV = 'MCP_GATEWAY_REDIS_URL';
/** Environment variable that sets `cluster.replica_id` when the file does not. */
export const REPLICA_ID_ENV = 'MCP_GATEWAY_REPLICA_ID';
/** Environment variable that sets `cluster.advertise_url` when the file does not. */
export const ADVERTISE_URL_ENV = 'MCP_GATEWAY_ADVERTISE_URL';
export const DEFAULT_KEY_PREFIX = 'mcpgw';

export interface ClusterSettings {
  /** `redis://…` (or `rediss://…`); unset: one process, state in memory. */
  redis?: string;
  /** This process's replica id; unset: hostname-pid. */
  replicaId?: string;
  /** Prefix of every Redis key and channel, so gateways of several deployments can share one Redis. */
  keyPrefix: string;
  /**
   * The base URL (`http://10.0.3.7:8003`) at which the other replicas reach this one, for a retry
   * that must be answered here (a bridged input_required); unset: derived from the listen address.
   */
  advertiseUrl?: string;
}

/** `calls` per `perMs`. */
export interface RateLimit {
  calls: number;
  perMs: number;
}

export interface RateLimitSettings {
  /** Each caller (a legacy session's principal, or a modern request's token and client name). */
  perCaller?: RateLimit;
  /** Each profile (an endpoint serving a subset of tools), when the request names one. */
  perProfile?: RateLimit;
  /** Each backend server, counted over every caller; `servers` overrides it by name. */
  perServer?: RateLimit;
  servers: Record<string, RateLimit>;
  /** Concurrency caps (`in_flight`): calls in flight at once, by the same subjects. */
  inFlight: InFlightCaps;
  /**
   * While Redis cannot be reached: `open` lets calls through unlimited, `closed` refuses them.
   * Default `open` — a limiter outage should not become a gateway outage.
   */
  whenRedisDown: 'open' | 'closed';
}

/** `rate_limits.in_flight`: the most calls in flight at once per caller, profile, server. */
export interface InFlightCaps {
  perCaller?: number;
  perProfile?: number;
  perServer?: number;
  servers: Record<string, number>;
}

type Data = Record<string, unknown>;
const isData = (v: unknown): v is Data => v !== null && typeof v === 'object' && !Array.isArray(v);

export function clusterSettings(value: unknown, env: Env): ClusterSettings {
  const data = isData(value) ? value : {};
  const redis = str(data.redis) ?? str(env[REDIS_URL_ENV]);
  // A Redis URL may carry a password: never in a log line or a tool result.
  if (redis) {
    const password = passwordOf(redis);
    if (password) secrets.add(password, '<redis password>');
  }
  const replicaId = str(data.replica_id) ?? str(env[REPLICA_ID_ENV]);
  const advertiseUrl = str(data.advertise_url) ?? str(env[ADVERTISE_URL_ENV]);
  return {
    ...(redis ? { redis } : {}),
    ...(replicaId ? { replicaId } : {}),
    ...(advertiseUrl ? { advertiseUrl: advertiseUrl.replace(/\/+$/, '') } : {}),
    keyPrefix: str(data.key_prefix) ?? DEFAULT_KEY_PREFIX,
  };
}

export function rateLimitSettings(value: unknown, problems: Problem[]): RateLimitSettings {
  const data = isData(value) ? value : {};
  const at = (key: string): Segment[] => ['rate_limits', key];
  const perCaller = rateLimit(data.per_caller, at('per_caller'), problems);
  const perProfile = rateLimit(data.per_profile, at('per_profile'), problems);
  const perServer = rateLimit(data.per_server, at('per_server'), problems);
  const servers: Record<string, RateLimit> = {};
  if (isData(data.servers)) {
    for (const [name, limit] of Object.entries(data.servers)) {
      const parsed = rateLimit(limit, ['rate_limits', 'servers', name], problems);
      if (parsed) servers[name] = parsed;
    }
  }
  return {
    ...(perCaller ? { perCaller } : {}),
    ...(perProfile ? { perProfile } : {}),
    ...(perServer ? { perServer } : {}),
    servers,
    inFlight: inFlightCaps(data.in_flight),
    whenRedisDown: data.when_redis_down === 'closed' ? 'closed' : 'open',
  };
}

/** `in_flight:`; the schema checked each cap is a whole number, 1 or more. */
function inFlightCaps(value: unknown): InFlightCaps {
  const data = isData(value) ? value : {};
  const cap = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) && v >= 1 ? v : undefined);
  const servers: Record<string, number> = {};
  if (isData(data.servers)) {
    for (const [name, v] of Object.entries(data.servers)) {
      const parsed = cap(v);
      if (parsed !== undefined) servers[name] = parsed;
    }
  }
  const perCaller = cap(data.per_caller);
  const perProfile = cap(data.per_profile);
  const perServer = cap(data.per_server);
  return {
    ...(perCaller !== undefined ? { perCaller } : {}),
    ...(perProfile !== undefined ? { perProfile } : {}),
    ...(perServer !== undefined ? { perServer } : {}),
    servers,
  };
}

/** `{ calls: 100, per: 1m }`; the schema checked the shape. `per` is whole seconds (the limiter's unit). */
function rateLimit(value: unknown, path: Segment[], problems: Problem[]): RateLimit | undefined {
  if (!isData(value)) return undefined;
  const calls = value.calls;
  if (typeof calls !== 'number' || !Number.isInteger(calls) || calls < 1) return undefined;
  let perMs = 1000;
  if (value.per !== undefined) {
    if (typeof value.per !== 'string' && typeof value.per !== 'number') return undefined;
    try {
      perMs = parseDuration(value.per);
    } catch (err) {
      problems.push({ path: [...path, 'per'], text: (err as Error).message });
      return undefined;
    }
    if (perMs < 1000 || perMs % 1000 !== 0) {
      problems.push({ path: [...path, 'per'], text: 'a rate limit window is whole seconds, 1s or more' });
      return undefined;
    }
  }
  return { calls, perMs };
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function passwordOf(url: string): string | undefined {
  try {
    const password = decodeURIComponent(new URL(url).password);
    return password || undefined;
  } catch {
    return undefined;
  }
}

/** A Redis URL fit for a log line: its password, if any, replaced. */
export function shownRedisUrl(url: string): string {
  return secrets.redact(url);
}
