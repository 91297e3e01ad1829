import type { ProfileToken } from '../config/index.js';
import { bearerMatches } from './http-guard.js';

export { DEFAULT_PROFILE } from '../config/index.js';

/**
 * Which profiles a caller may use: the one place that decides it, so that OAuth (token claims mapped
 * to profiles) can replace the static-token rule without touching the endpoints.
 */

export interface ProfileAccessSettings {
  /** The single `http.token` (or MCP_GATEWAY_TOKEN): every profile, as before profiles existed. */
  token?: string;
  tokens: ProfileToken[];
}

export type ProfileAccess =
  | { ok: true; profiles: 'all' | ReadonlySet<string> }
  | { ok: false; reason: 'missing-token' | 'bad-token' };

/**
 * The profiles a request's `Authorization` header opens. No token configured at all: every profile
 * (the loopback-only rule of http.ts still applies). Tokens are compared by digest (http-guard.ts).
 */
export function profilesFor(
  authorization: string | undefined,
  settings: ProfileAccessSettings,
): ProfileAccess {
  if (settings.token === undefined && settings.tokens.length === 0) return { ok: true, profiles: 'all' };
  if (!authorization) return { ok: false, reason: 'missing-token' };
  if (settings.token !== undefined && bearerMatches(authorization, settings.token))
    return { ok: true, profiles: 'all' };
  for (const entry of settings.tokens)
    if (bearerMatches(authorization, entry.token)) return { ok: true, profiles: new Set(entry.profiles) };
  return { ok: false, reason: 'bad-token' };
}

/** Whether `access` lets its caller use `profile`. */
export function mayUse(access: ProfileAccess, profile: string): boolean {
  return access.ok && (access.profiles === 'all' || access.profiles.has(profile));
}
