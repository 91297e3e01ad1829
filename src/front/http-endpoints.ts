import type { IncomingMessage } from 'node:http';
import { allowedProfiles, type Caller, callerLabel } from '../auth/index.js';
import type { AuthRule } from '../config/index.js';
import {
  DEFAULT_PROFILE,
  mayUse,
  type ProfileAccess,
  type ProfileAccessSettings,
  profilesFor,
} from './profile-access.js';

/**
 * The HTTP front's MCP endpoints: `/mcp` (the default view) and `/mcp/<profile>` (one profile's view,
 * gateway.yaml `profiles:`), and who may use which. Static tokens (`http.token`, `http.tokens`) decide
 * through profile-access.ts; OAuth callers (`http.auth`) through the rules' `profiles` (src/auth).
 */

export const MCP_PATH = '/mcp';

/** What a profile name may be (the schema's propertyNames pattern): a path segment without escapes. */
const PROFILE_SEGMENT = /^\/mcp\/([A-Za-z0-9][A-Za-z0-9_-]*)\/?$/;

/** An MCP endpoint a request names: the default view, or a profile's. */
export interface Endpoint {
  /** `/mcp` or `/mcp/<profile>`: the resource path (OAuth audience, RFC 9728 metadata) too. */
  path: string;
  /** The profile served there; undefined at `/mcp`. */
  profile: string | undefined;
}

/** The endpoint `pathname` names, or undefined when it is not under `/mcp` at all. */
export function endpointOf(pathname: string): Endpoint | 'bad-profile' | undefined {
  if (pathname === MCP_PATH) return { path: MCP_PATH, profile: undefined };
  if (!pathname.startsWith(`${MCP_PATH}/`)) return undefined;
  const match = PROFILE_SEGMENT.exec(pathname);
  if (!match?.[1]) return 'bad-profile';
  return { path: `${MCP_PATH}/${match[1]}`, profile: match[1] };
}

/**
 * The 404 text for a profile endpoint the config does not have (now: a reload may have removed it),
 * naming the endpoints of `open`: those the caller may use, so a token learns no other profile's name.
 */
export function unknownProfileMessage(profile: string, open: readonly string[]): string {
  const where = profile === DEFAULT_PROFILE ? `; the default view is served at ${MCP_PATH}` : '';
  const list = open.length ? `; profiles you may use: ${open.map((p) => `${MCP_PATH}/${p}`).join(', ')}` : '';
  return `No profile '${profile}' in the gateway config${where}${list}`;
}

export type EndpointVerdict =
  | { ok: true }
  | { ok: false; status: 401 | 403; message: string; headers?: Record<string, string> };

const CHALLENGE = { 'WWW-Authenticate': 'Bearer realm="mcp-gateway"' };

/** Static-token mode: who the bearer token says the caller is, as the profiles it opens. */
export type StaticAccess =
  | { ok: true; access: ProfileAccess }
  | { ok: false; status: 401; message: string; headers: Record<string, string> };

/**
 * Static-token mode, first step: a token that opens something, or 401. `requireToken`: the front
 * started with a token (it may listen beyond loopback because of it), so a reload that removes every
 * token closes the endpoints instead of opening them.
 */
export function staticAccess(
  req: IncomingMessage,
  endpoint: Endpoint,
  settings: ProfileAccessSettings,
  requireToken: boolean,
): StaticAccess {
  const unconfigured = settings.token === undefined && settings.tokens.length === 0;
  if (unconfigured && requireToken)
    return { ok: false, status: 401, message: 'No bearer token is configured any more', headers: CHALLENGE };
  const access = profilesFor(req.headers.authorization, settings);
  if (access.ok) return { ok: true, access };
  return {
    ok: false,
    status: 401,
    message:
      access.reason === 'missing-token'
        ? `Missing or wrong bearer token: ${endpoint.path} needs one`
        : 'Missing or wrong bearer token',
    headers: CHALLENGE,
  };
}

/** Static-token mode, second step: whether the token's profiles include `endpoint`'s (`/mcp` is `default`). */
export function staticTokenVerdict(access: ProfileAccess, endpoint: Endpoint): EndpointVerdict {
  const profile = endpoint.profile ?? DEFAULT_PROFILE;
  if (mayUse(access, profile)) return { ok: true };
  const mine = access.ok && access.profiles !== 'all' ? [...access.profiles] : [];
  return {
    ok: false,
    status: 403,
    message:
      `This token may not use ${endpoint.path} (profile '${profile}'); ` +
      `it may use: ${mine.map((p) => (p === DEFAULT_PROFILE ? MCP_PATH : `${MCP_PATH}/${p}`)).join(', ') || 'nothing'}`,
  };
}

/**
 * OAuth mode: an authenticated caller may use a profile endpoint when a rule it matches lists the
 * profile (`http.auth.rules[].profiles`); no rules, or the static token, open every profile. `/mcp`
 * is not a profile here: the rules' tool lists already decide what a caller sees there.
 */
export function oauthProfileVerdict(
  caller: Caller | undefined,
  endpoint: Endpoint,
  rules: readonly AuthRule[] | undefined,
): EndpointVerdict {
  const profile = endpoint.profile;
  if (profile === undefined) return { ok: true };
  if (allowedProfiles(caller, rules, [profile]).length > 0) return { ok: true };
  const label = callerLabel(caller);
  const who = label ? `'${label}'` : 'this caller';
  return {
    ok: false,
    status: 403,
    message: `${who} may not use ${endpoint.path}: no rule of http.auth.rules that matches it lists profile '${profile}'`,
  };
}
