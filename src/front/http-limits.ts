import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { CallLimiter, CallSubject, InFlightLimiter } from '../cluster/index.js';
import type { ToolTable } from './tool-table.js';

/**
 * `rate_limits:` at the HTTP front: a tools/call over a limit (or a concurrency cap, `in_flight`) is
 * answered before it reaches MCP, with HTTP 429 and `Retry-After` (seconds), so clients and proxies
 * that know HTTP back off by themselves. A call let through holds its in-flight points until its
 * answer has been sent (the front calls `release` when the response closes).
 *
 * Who the caller is: a legacy request's session; a modern request (no session) its principal — the
 * bearer token it presented (hashed, never stored) — and the client name in its `_meta` envelope.
 * `principal` is a hook for the OAuth front (a token's subject); `profile` names the endpoint's profile.
 */
export interface HttpLimitOptions {
  limiter: CallLimiter;
  /** `rate_limits.in_flight`: calls at once; a call's points are given back when its answer is sent. */
  inFlight?: InFlightLimiter;
  table: ToolTable;
  /** Who authenticated the request, when the front knows better than the bearer token (OAuth). */
  principal?: (req: IncomingMessage) => string | undefined;
  /** The profile a request came through (e.g. /mcp/<profile>), for `rate_limits.per_profile`. */
  profile?: (req: IncomingMessage) => string | undefined;
}

export interface LimitRefusal {
  status: 429 | 503;
  headers: Record<string, string>;
  message: string;
  data: Record<string, unknown>;
}

/** Refused, or let through with what to call when the request's answer has been sent. */
export type LimitOutcome = { ok: false; refusal: LimitRefusal } | { ok: true; release: () => void };

export type CallLimitCheck = (
  req: IncomingMessage,
  body: unknown,
  sessionId: string | undefined,
) => Promise<LimitOutcome>;

const NOTHING_HELD: LimitOutcome = { ok: true, release: () => {} };

const CLIENT_INFO_KEY = 'io.modelcontextprotocol/clientInfo';

export function httpCallLimits(options: HttpLimitOptions): CallLimitCheck {
  return async (req, body, sessionId) => {
    const rates = options.limiter.active();
    const inFlight = options.inFlight?.active() ? options.inFlight : undefined;
    if (!rates && !inFlight) return NOTHING_HELD;
    const held: (() => void)[] = [];
    const release = () => {
      for (const fn of held.splice(0)) fn();
    };
    const refuse = (refusal: LimitRefusal): LimitOutcome => {
      release();
      return { ok: false, refusal };
    };
    const calls = (Array.isArray(body) ? body : [body]).filter(isToolCall);
    for (const call of calls) {
      const subject: CallSubject = {
        caller: sessionId !== undefined ? `session:${sessionId}` : modernCaller(req, call, options),
        ...optional('profile', options.profile?.(req)),
        ...optional('server', serverOf(call, options.table)),
      };
      if (rates) {
        const verdict = await options.limiter.check(subject);
        if (!verdict.ok) {
          if (verdict.reason === 'unavailable') return refuse(unavailable(verdict.message));
          const seconds = Math.max(1, Math.ceil(verdict.retryAfterMs / 1000));
          return refuse({
            status: 429,
            headers: { 'Retry-After': String(seconds) },
            message: `Rate limit reached (${verdict.limit}) for ${call.params.name}; retry after ${seconds} s`,
            data: { code: 'RATE_LIMITED', limit: verdict.limit, retryAfterMs: verdict.retryAfterMs },
          });
        }
      }
      if (inFlight) {
        const taken = await inFlight.acquire(subject);
        if (!taken.ok) {
          if (taken.reason === 'unavailable') return refuse(unavailable(taken.message));
          // When a slot frees is unknown: a second is the shortest wait HTTP can say.
          return refuse({
            status: 429,
            headers: { 'Retry-After': '1' },
            message: `Too many calls in flight (${taken.limit}: ${taken.max}) for ${call.params.name}; retry when one has finished`,
            data: { code: 'RATE_LIMITED', limit: taken.limit, max: taken.max, retryAfterMs: 1000 },
          });
        }
        held.push(taken.release);
      }
    }
    return { ok: true, release };
  };
}

function unavailable(message: string): LimitRefusal {
  return {
    status: 503,
    headers: { 'Retry-After': '1' },
    message,
    data: { code: 'RATE_LIMITED', reason: 'unavailable' },
  };
}

interface ToolCallMessage {
  method: 'tools/call';
  params: { name: string; arguments?: Record<string, unknown>; _meta?: Record<string, unknown> };
}

function isToolCall(message: unknown): message is ToolCallMessage {
  const m = message as { method?: unknown; params?: { name?: unknown } } | null;
  return m?.method === 'tools/call' && typeof m.params?.name === 'string';
}

/**
 * The backend a call reaches: a backend tool's server, call_backend's `server` argument, or the server
 * of the tool search mode's call_tool names (served at a search profile's endpoint).
 */
function serverOf(call: ToolCallMessage, table: ToolTable): string | undefined {
  const args = call.params.arguments;
  if (call.params.name === 'call_backend') {
    const server = args?.server;
    return typeof server === 'string' ? server : undefined;
  }
  const own = table.serverOf(call.params.name);
  if (own === undefined && call.params.name === 'call_tool' && typeof args?.name === 'string')
    return table.serverOf(args.name);
  return own;
}

function modernCaller(req: IncomingMessage, call: ToolCallMessage, options: HttpLimitOptions): string {
  const principal = options.principal?.(req) ?? tokenPrincipal(req.headers.authorization);
  const info = call.params._meta?.[CLIENT_INFO_KEY] as { name?: unknown } | undefined;
  const client = typeof info?.name === 'string' ? info.name : 'unnamed';
  return `${principal}/${client}`;
}

function tokenPrincipal(authorization: string | undefined): string {
  if (!authorization) return 'anonymous';
  return `token:${createHash('sha256').update(authorization).digest('hex').slice(0, 16)}`;
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}
