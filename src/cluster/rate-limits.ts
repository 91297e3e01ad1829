import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { RateLimit, RateLimitSettings } from '../config/index.js';

/**
 * `rate_limits:` enforced with rate-limiter-flexible: in this process without Redis, in Redis (so
 * the limit holds across replicas) with it. Each call takes one point from each limit that applies
 * (caller, profile, server); the first one empty refuses the call.
 */

/** What a call is counted against. Undefined parts are not limited. */
export interface CallSubject {
  caller?: string;
  /** The profile endpoint the call came through; a hook for profiles (none yet). */
  profile?: string;
  server?: string;
}

export type LimitVerdict =
  | { ok: true }
  /** Over a limit: `limit` names the setting (per_caller, per_profile, per_server, servers.<name>). */
  | { ok: false; reason: 'limited'; limit: string; retryAfterMs: number }
  /** Redis could not be reached and `when_redis_down: closed`. */
  | { ok: false; reason: 'unavailable'; message: string };

type Limiter = RateLimiterMemory | RateLimiterRedis;

export class CallLimiter {
  private limiters = new Map<string, Limiter>();
  private builtFor = '';

  constructor(
    private readonly settings: () => RateLimitSettings,
    private readonly redis: Redis | undefined,
    private readonly keyPrefix: string,
  ) {}

  /** Whether any limit is set (so the front can skip working out who the caller is). */
  active(): boolean {
    const s = this.settings();
    return Boolean(s.perCaller || s.perProfile || s.perServer || Object.keys(s.servers).length);
  }

  async check(subject: CallSubject): Promise<LimitVerdict> {
    const settings = this.settings();
    const applies: [string, RateLimit | undefined, string | undefined][] = [
      ['per_caller', settings.perCaller, subject.caller],
      ['per_profile', settings.perProfile, subject.profile],
      [
        subject.server !== undefined && settings.servers[subject.server]
          ? `servers.${subject.server}`
          : 'per_server',
        subject.server !== undefined ? (settings.servers[subject.server] ?? settings.perServer) : undefined,
        subject.server,
      ],
    ];
    for (const [name, limit, key] of applies) {
      if (!limit || key === undefined) continue;
      const limiter = this.limiter(name, limit);
      try {
        await limiter.consume(key, 1);
      } catch (err) {
        if (err instanceof RateLimiterRes)
          return {
            ok: false,
            reason: 'limited',
            limit: `rate_limits.${name}`,
            retryAfterMs: err.msBeforeNext,
          };
        // Not a verdict: the store failed (Redis away).
        if (settings.whenRedisDown === 'open') continue;
        return {
          ok: false,
          reason: 'unavailable',
          message: `rate limits cannot be checked: Redis is unreachable (${err instanceof Error ? err.message : String(err)}); rate_limits.when_redis_down is closed`,
        };
      }
    }
    return { ok: true };
  }

  /** One limiter per setting and value; rebuilt when a reload changes the settings. */
  private limiter(name: string, limit: RateLimit): Limiter {
    const fingerprint = JSON.stringify(this.settings());
    if (fingerprint !== this.builtFor) {
      this.limiters = new Map();
      this.builtFor = fingerprint;
    }
    const id = `${name}:${limit.calls}/${limit.perMs}`;
    let limiter = this.limiters.get(id);
    if (!limiter) {
      const options = {
        points: limit.calls,
        duration: limit.perMs / 1000,
        keyPrefix: `${this.keyPrefix}:rl:${id}`,
      };
      limiter = this.redis
        ? new RateLimiterRedis({ ...options, storeClient: this.redis, rejectIfRedisNotReady: true })
        : new RateLimiterMemory(options);
      this.limiters.set(id, limiter);
    }
    return limiter;
  }
}
