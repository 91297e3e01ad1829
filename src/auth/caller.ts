import { createHash } from 'node:crypto';
import type { AuthInfo } from '@modelcontextprotocol/server';

/**
 * Who is calling, as the rules, the logs and the audit log see it: the token's claims that matter,
 * never the token itself.
 */
export interface Caller {
  /** `oauth`: an access token from the authorization server; `static`: the shared `http.token`. */
  kind: 'oauth' | 'static';
  /** `sub`; for the static token, `token:<hash prefix>`. */
  subject: string;
  /** `client_id` (RFC 9068), else `azp` (OIDC, Keycloak), else `cid` (Okta). */
  clientId?: string;
  issuer?: string;
  scopes: string[];
  groups: string[];
  /** `aud` of the token (OAuth only): what a backend marked `forward_caller_token` is checked against. */
  audience?: string[];
}

/** Where the front finds the caller in the SDK's AuthInfo (`ctx.http?.authInfo`). */
const CALLER_KEY = 'mcpgw.caller';

export function withCaller(info: Omit<AuthInfo, 'extra'>, caller: Caller): AuthInfo {
  return { ...info, extra: { [CALLER_KEY]: caller } };
}

/** The caller an authenticated request carries; undefined over stdio or without any auth. */
export function callerOf(authInfo: AuthInfo | undefined): Caller | undefined {
  return authInfo?.extra?.[CALLER_KEY] as Caller | undefined;
}

/**
 * One short name for logs, the audit log and traces: `sub` (and the client when it is another
 * party), or the static token's hash.
 */
export function callerLabel(caller: Caller | undefined): string | undefined {
  if (!caller) return undefined;
  if (caller.kind === 'static' || !caller.clientId || caller.clientId === caller.subject)
    return caller.subject;
  return `${caller.subject} (client ${caller.clientId})`;
}

/** Whether two requests are the same party: a legacy session stays with the identity that opened it. */
export function sameCaller(a: Caller | undefined, b: Caller | undefined): boolean {
  if (!a || !b) return a === b;
  return a.kind === b.kind && a.subject === b.subject && a.issuer === b.issuer && a.clientId === b.clientId;
}

export function staticCaller(token: string): Caller {
  return {
    kind: 'static',
    subject: `token:${createHash('sha256').update(token).digest('hex').slice(0, 12)}`,
    scopes: [],
    groups: [],
  };
}

/** The caller of a verified token's claims (a JWT payload or an RFC 7662 introspection answer). */
export function callerFromClaims(claims: Record<string, unknown>, groupsClaim: string): Caller {
  const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const clientId = text(claims.client_id) ?? text(claims.azp) ?? text(claims.cid);
  const subject = text(claims.sub) ?? (clientId ? `client:${clientId}` : 'unknown');
  const issuer = text(claims.iss);
  return {
    kind: 'oauth',
    subject,
    ...(clientId ? { clientId } : {}),
    ...(issuer ? { issuer } : {}),
    scopes: scopesOf(claims),
    groups: listOf(claimAt(claims, groupsClaim)),
    audience: typeof claims.aud === 'string' ? [claims.aud] : listOf(claims.aud),
  };
}

/** `scope` (space-separated, RFC 8693/9068), else `scp` (a list or a string: Okta, Azure AD). */
function scopesOf(claims: Record<string, unknown>): string[] {
  if (typeof claims.scope === 'string') return claims.scope.split(' ').filter((s) => s !== '');
  return listOf(claims.scp);
}

function listOf(value: unknown): string[] {
  if (typeof value === 'string') return value.split(/[\s,]+/).filter((s) => s !== '');
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** `realm_access.roles` → claims.realm_access.roles; a claim whose own name has dots wins. */
function claimAt(claims: Record<string, unknown>, path: string): unknown {
  if (path in claims) return claims[path];
  let value: unknown = claims;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}
