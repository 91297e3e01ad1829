import { createHash } from 'node:crypto';
import { discoverAuthorizationServerMetadata } from '@modelcontextprotocol/client';
import type { TokenExchangeSettings } from '../config/types.js';
import { GatewayError } from '../errors.js';
import type { CallerCredential } from './types.js';

/**
 * RFC 8693 token exchange for a backend with `token_exchange`: the caller's access token goes to the
 * identity provider (never to the backend), which answers with a token for the backend's audience;
 * that one is sent. Exchanged tokens are cached per backend and caller token until shortly before they
 * expire, so a caller's calls cost one exchange, not one each.
 */

const GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
/** An exchanged token is used until this long before its expiry (a call in flight must not outlive it). */
const EARLY_MS = 30_000;
/** Without expires_in, how long an exchanged token is reused. */
const DEFAULT_TTL_MS = 60_000;
const MAX_CACHED = 1000;
const TIMEOUT_MS = 10_000;

interface Cached {
  authorization: Promise<string>;
  expiresAt: number;
}

const cache = new Map<string, Cached>();
const endpoints = new Map<string, Promise<string>>();

/** The Authorization header for one call (`Bearer <exchanged token>`); throws ACCESS_DENIED when there is none. */
export function exchangedAuthorization(
  server: string,
  settings: TokenExchangeSettings,
  credential: CallerCredential | undefined,
  tool: string,
): Promise<string> {
  if (!credential) {
    throw new GatewayError(
      'ACCESS_DENIED',
      `${server}.${tool}: this backend takes a token exchanged for the caller's own (token_exchange), and this call has none`,
      { server, tool },
    );
  }
  // Keyed by a hash: the cache holds no caller token, and a changed setting asks afresh.
  const key = createHash('sha256')
    .update(
      `${server}\n${settings.audience}\n${settings.scope ?? ''}\n${settings.clientId}\n${credential.token}`,
    )
    .digest('base64url');
  const now = Date.now();
  const hit = cache.get(key);
  if (hit && hit.expiresAt > now) return hit.authorization;
  prune(now);
  const entry: Cached = { authorization: Promise.resolve(''), expiresAt: now + DEFAULT_TTL_MS };
  entry.authorization = exchange(server, settings, credential.token, tool).then(
    ({ token, expiresInMs }) => {
      entry.expiresAt = Date.now() + Math.max(0, expiresInMs - EARLY_MS);
      return `Bearer ${token}`;
    },
    (err: unknown) => {
      cache.delete(key);
      throw err;
    },
  );
  cache.set(key, entry);
  return entry.authorization;
}

function prune(now: number): void {
  for (const [key, entry] of cache) if (entry.expiresAt <= now) cache.delete(key);
  // Still full: the oldest go first (a Map keeps insertion order).
  for (const key of cache.keys()) {
    if (cache.size < MAX_CACHED) break;
    cache.delete(key);
  }
}

function tokenEndpoint(settings: TokenExchangeSettings): Promise<string> {
  if (settings.tokenEndpoint) return Promise.resolve(settings.tokenEndpoint);
  const issuer = settings.issuer as string;
  let found = endpoints.get(issuer);
  if (!found) {
    // RFC 8414 then OpenID Connect discovery, as the SDK does for a backend's authorization server.
    found = discoverAuthorizationServerMetadata(issuer).then((metadata) => {
      if (!metadata?.token_endpoint)
        throw new Error(`no metadata with a token_endpoint for issuer ${issuer}`);
      return metadata.token_endpoint;
    });
    found.catch(() => endpoints.delete(issuer));
    endpoints.set(issuer, found);
  }
  return found;
}

async function exchange(
  server: string,
  settings: TokenExchangeSettings,
  subjectToken: string,
  tool: string,
): Promise<{ token: string; expiresInMs: number }> {
  const where = `${server}.${tool}: token exchange for ${settings.audience}`;
  let endpoint: string;
  let res: Response;
  try {
    endpoint = await tokenEndpoint(settings);
    const body = new URLSearchParams({
      grant_type: GRANT,
      subject_token: subjectToken,
      subject_token_type: ACCESS_TOKEN_TYPE,
      requested_token_type: ACCESS_TOKEN_TYPE,
      audience: settings.audience,
      resource: settings.audience,
      ...(settings.scope ? { scope: settings.scope } : {}),
    });
    const basic = Buffer.from(
      `${encodeURIComponent(settings.clientId)}:${encodeURIComponent(settings.clientSecret)}`,
    ).toString('base64');
    res = await fetch(endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
        authorization: `Basic ${basic}`,
      },
      body,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (err) {
    throw new GatewayError(
      'BACKEND_UNAVAILABLE',
      `${where}: the identity provider cannot be reached (${(err as Error).message})`,
      {
        server,
        tool,
      },
    );
  }
  const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok || typeof json.access_token !== 'string') {
    // 400 invalid_grant / invalid_target: this caller's token may not become one for the backend.
    // 401 invalid_client: the gateway's own client is wrong, which the operator must fix.
    const why = [json.error, json.error_description].filter((v) => typeof v === 'string').join(': ');
    const code =
      res.status === 401 || json.error === 'invalid_client' ? 'BACKEND_UNAVAILABLE' : 'ACCESS_DENIED';
    throw new GatewayError(
      code,
      `${where}: the identity provider refused (${res.status}${why ? ` ${why}` : ''})`,
      {
        server,
        tool,
        audience: settings.audience,
      },
    );
  }
  const expiresIn = typeof json.expires_in === 'number' ? json.expires_in * 1000 : DEFAULT_TTL_MS + EARLY_MS;
  return { token: json.access_token, expiresInMs: expiresIn };
}
