import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { InFlightCaps, RateLimitSettings } from '../config/index.js';
import type { CallSubject } from './rate-limits.js';

/**
 * `rate_limits.in_flight`: how many calls may run at once per caller, profile and server, counted
 * with rate-limiter-flexible (in Redis with a cluster, so the cap holds across replicas): a call takes
 * a point when it starts (`consume`) and gives it back when it ends (`reward`).
 *
 * The points live in a window ({@link LEASE_MS}) so that a replica that dies with calls in flight
 * does not hold their points for ever: they come back when the window ends. A call that outlives the
 * window gives nothing back (its point went with the window; returning it would free a point the new
 * window never took).
 */

/** How long a taken point outlives a replica that died holding it. */
export const LEASE_MS = 5 * 60_000;

export type InFlightVerdict =
  | { ok: true; release: () => void }
  /** At a cap: `limit` names the setting (rate_limits.in_flight.per_caller, …), `max` its value. */
  | { ok: false; reason: 'limited'; limit: string; max: number }
  /** Redis could not be reached and `when_redis_down: closed`. */
  | { ok: false; reason: 'unavailable'; message: string };

type Limiter = RateLimiterMemory | RateLimiterRedis;

interface Taken {
  limiter: Limiter;
  key: string;
  /** When the window the point was taken in ends (ms since epoch): after that, nothing to give back. */
  until: number;
}

export class InFlightLimiter {
  private limiters = new Map<string, Limiter>();
  private builtFor = '';

  constructor(
    private readonly settings: () => RateLimitSettings,
    private readonly redis: Redis | undefined,
    private readonly keyPrefix: string,
    private readonly leaseMs = LEASE_MS,
  ) {}

  active(): boolean {
    const caps = this.settings().inFlight;
    return Boolean(caps.perCaller || caps.perProfile || caps.perServer || Object.keys(caps.servers).length);
  }

  /** Takes a point from each cap that applies; refused at the first one full (nothing kept then). */
  async acquire(subject: CallSubject): Promise<InFlightVerdict> {
    const settings = this.settings();
    const taken: Taken[] = [];
    for (const [name, max, key] of applicable(settings.inFlight, subject)) {
      const limiter = this.limiter(name, max);
      try {
        const res = await limiter.consume(key, 1);
        taken.push({ limiter, key, until: Date.now() + res.msBeforeNext });
      } catch (err) {
        if (err instanceof RateLimiterRes) {
          // consume counted the refused call too: give that point straight back.
          giveBack({ limiter, key, until: Date.now() + err.msBeforeNext });
          taken.forEach(giveBack);
          return { ok: false, reason: 'limited', limit: `rate_limits.in_flight.${name}`, max };
        }
        if (settings.whenRedisDown === 'open') continue;
        taken.forEach(giveBack);
        return {
          ok: false,
          reason: 'unavailable',
          message: `concurrency caps cannot be checked: Redis is unreachable (${err instanceof Error ? err.message : String(err)}); rate_limits.when_redis_down is closed`,
        };
      }
    }
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        taken.forEach(giveBack);
      },
    };
  }

  private limiter(name: string, max: number): Limiter {
    const fingerprint = JSON.stringify(this.settings().inFlight);
    if (fingerprint !== this.builtFor) {
      this.limiters = new Map();
      this.builtFor = fingerprint;
    }
    const id = `${name}:${max}`;
    let limiter = this.limiters.get(id);
    if (!limiter) {
      // The key holds no cap (a changed cap counts the same calls): the points are the calls in flight.
      const options = {
        points: max,
        duration: Math.ceil(this.leaseMs / 1000),
        keyPrefix: `${this.keyPrefix}:inflight:${counterOf(name)}`,
      };
      limiter = this.redis
        ? new RateLimiterRedis({ ...options, storeClient: this.redis, rejectIfRedisNotReady: true })
        : new RateLimiterMemory(options);
      this.limiters.set(id, limiter);
    }
    return limiter;
  }
}

/** [setting name, cap, key] for each cap that applies to the call. */
function applicable(caps: InFlightCaps, subject: CallSubject): [string, number, string][] {
  const out: [string, number, string][] = [];
  if (caps.perCaller && subject.caller !== undefined)
    out.push(['per_caller', caps.perCaller, subject.caller]);
  if (caps.perProfile && subject.profile !== undefined)
    out.push(['per_profile', caps.perProfile, subject.profile]);
  if (subject.server !== undefined) {
    const named = caps.servers[subject.server];
    if (named !== undefined) out.push([`servers.${subject.server}`, named, subject.server]);
    else if (caps.perServer) out.push(['per_server', caps.perServer, subject.server]);
  }
  return out;
}

/** The counter a setting counts in: per_server and servers.<name> count a server's calls alike. */
function counterOf(name: string): string {
  if (name === 'per_caller') return 'caller';
  if (name === 'per_profile') return 'profile';
  return 'server';
}

/** Returns a point, unless its window has ended (the point ended with it). */
function giveBack(taken: Taken): void {
  if (Date.now() >= taken.until) return;
  // Best effort: a point that cannot be returned (Redis away) comes back when its window ends.
  taken.limiter.reward(taken.key, 1).catch(() => {});
}
