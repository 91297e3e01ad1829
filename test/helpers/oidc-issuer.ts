/**
 * A real OAuth 2.1 / OpenID Connect authorization server in the test process (`oidc-provider`):
 * discovery, JWKS, the token endpoint (client credentials; authorization code with PKCE through its
 * built-in login and consent pages, driven with fetch) and RFC 8707 resource indicators, issuing JWT
 * access tokens whose `aud` is the resource asked for.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider from 'oidc-provider';
import { installTokenExchange, TOKEN_EXCHANGE_GRANT } from './oidc-token-exchange.js';

export interface TestIssuer {
  issuer: string;
  /** Client credentials: a token for `resource` with `scope`. */
  clientToken(client: string, scope: string, resource: string): Promise<string>;
  /** Authorization code + PKCE for `user` (logs in and consents through the provider's pages). */
  userToken(user: string, scope: string, resource: string): Promise<string>;
  /**
   * What a person does in the browser: follows an authorization URL some client built, logs in as
   * `user` and consents, and returns the URL the provider finally redirects to (the client's
   * redirect URI with the code), without requesting it.
   */
  completeLogin(authorizationUrl: string, user: string): Promise<string>;
  /** How many RFC 8693 token exchanges were answered with a token (client `exchanger`). */
  exchanges(): number;
  close(): Promise<void>;
}

export const SCOPES = ['mcp', 'mcp:read', 'mcp:admin'];
export const CLIENT_SECRET = 'test-client-secret';
const REDIRECT_URI = 'http://127.0.0.1:9/callback';
/** Groups of users (authorization code) and of clients acting for themselves (client credentials). */
const GROUPS: Record<string, string[]> = { alice: ['analysts'], bob: ['admins'], 'admin-agent': ['admins'] };

/** Keys shared by two issuers let a test tell "wrong issuer" from "unknown key". */
export async function signingKeys(): Promise<JWK[]> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return [{ ...(await exportJWK(privateKey)), kid: 'test-key', alg: 'RS256', use: 'sig' }];
}

/**
 * `loginRedirects`: redirect URIs of `gateway-login`, a pre-registered public client with the
 * authorization_code and refresh_token grants whose access tokens live `loginTokenTtl` seconds
 * (default 300), for the gateway's own login to a backend. `consoleRedirects`: those of `console`,
 * the web console's public client (authorization code only). `inspectorRedirects`: those of `inspector`,
 * the MCP Inspector CLI's public client (authorization code and refresh token). Dynamic client registration is on.
 */
export async function startIssuer(
  options: {
    keys?: JWK[];
    loginRedirects?: string[];
    loginTokenTtl?: number;
    consoleRedirects?: string[];
    inspectorRedirects?: string[];
  } = {},
): Promise<TestIssuer> {
  const keys = options.keys ?? (await signingKeys());
  const http: Server = createServer();
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;
  const issuer = `http://127.0.0.1:${port}`;
  const clients = [
    'analyst-agent',
    'admin-agent',
    'plain-agent',
    'short-agent',
    'opaque-agent',
    'gateway',
  ].map((client_id) => ({
    client_id,
    client_secret: CLIENT_SECRET,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
  }));
  const provider = new Provider(issuer, {
    clients: [
      ...clients,
      {
        client_id: 'cli',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code'],
        response_types: ['code'],
        redirect_uris: [REDIRECT_URI],
      },
      {
        client_id: 'exchanger',
        client_secret: CLIENT_SECRET,
        grant_types: [TOKEN_EXCHANGE_GRANT],
        response_types: [],
        redirect_uris: [],
      },
      {
        client_id: 'gateway-login',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: options.loginRedirects ?? ['http://127.0.0.1:9/callback'],
      },
      {
        // The MCP Inspector CLI's client (test/inspector): public, redirect to its loopback callback.
        client_id: 'inspector',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: options.inspectorRedirects ?? ['http://127.0.0.1:9/oauth/callback'],
      },
      {
        client_id: 'console',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code'],
        response_types: ['code'],
        redirect_uris: options.consoleRedirects ?? ['http://127.0.0.1:9/console/callback'],
      },
    ],
    jwks: { keys },
    scopes: ['openid', ...SCOPES],
    pkce: { required: () => true },
    // The gateway's login client gets a refresh token without asking for offline_access.
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    features: {
      clientCredentials: { enabled: true },
      registration: { enabled: true },
      introspection: { enabled: true, allowedPolicy: () => true },
      devInteractions: { enabled: true },
      resourceIndicators: {
        enabled: true,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource, client) => ({
          scope: SCOPES.join(' '),
          audience: resource,
          // opaque-agent's tokens are opaque: the gateway must introspect them.
          accessTokenFormat: client.clientId === 'opaque-agent' ? 'opaque' : 'jwt',
          // short-agent's tokens expire at once, for the "expired" case.
          accessTokenTTL:
            client.clientId === 'short-agent'
              ? 1
              : client.clientId === 'gateway-login'
                ? (options.loginTokenTtl ?? 300)
                : 300,
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
    findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
    extraTokenClaims: (_ctx, token) => {
      const who = 'accountId' in token && token.accountId ? token.accountId : token.clientId;
      return who && GROUPS[who] ? { groups: GROUPS[who] } : undefined;
    },
    cookies: { keys: ['test-cookie-key'] },
    // Set, so the provider does not print a notice for each default it uses.
    ttl: {
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
      AccessToken: (_ctx, _token, client) =>
        client?.clientId === 'gateway-login' ? (options.loginTokenTtl ?? 300) : 300,
      IdToken: 300,
      RefreshToken: 3600,
      ClientCredentials: (_ctx, _token, client) => (client.clientId === 'short-agent' ? 1 : 300),
    },
  });
  const exchanges = installTokenExchange(provider, issuer, keys);
  const callback = provider.callback();
  http.on('request', callback);
  const tokenEndpoint = `${issuer}/token`;

  const clientToken = async (client: string, scope: string, resource: string) => {
    const res = await fetch(tokenEndpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${client}:${CLIENT_SECRET}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope, resource }),
    });
    const json = (await res.json()) as { access_token?: string };
    if (!json.access_token) throw new Error(`no token for ${client}: ${JSON.stringify(json)}`);
    return json.access_token;
  };

  const userToken = async (user: string, scope: string, resource: string) => {
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const authorize = new URL(`${issuer}/auth`);
    for (const [k, v] of Object.entries({
      client_id: 'cli',
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
      scope: `openid ${scope}`,
      resource,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: 'st',
    }))
      authorize.searchParams.set(k, v);
    const location = await completeLogin(authorize.href, user);
    const code = new URL(location).searchParams.get('code');
    if (!code) throw new Error(`no code: ${location}`);
    return exchangeCode(code, verifier, resource);
  };

  const completeLogin = async (authorizationUrl: string, user: string): Promise<string> => {
    const jar = new CookieJar();
    // Follow the provider's redirects by hand: /auth → /interaction/<uid> (login) → /auth/<uid> →
    // /interaction/<uid> (consent) → /auth/<uid> → the redirect URI with the code.
    let location = authorizationUrl;
    for (let step = 0; step < 12; step++) {
      if (!location.startsWith(issuer)) return location;
      const res = await jar.fetch(location);
      if (res.status >= 300 && res.status < 400) {
        location = new URL(res.headers.get('location') ?? '', location).href;
        continue;
      }
      const page = await res.text();
      const uid = /\/interaction\/([^/]+)/.exec(new URL(location).pathname)?.[1];
      if (!uid) throw new Error(`unexpected page at ${location}: ${page.slice(0, 200)}`);
      const prompt = /name="prompt" value="([^"]+)"/.exec(page)?.[1];
      const form: Record<string, string> =
        prompt === 'login' ? { prompt: 'login', login: user, password: 'any' } : { prompt: 'consent' };
      const posted = await jar.fetch(`${issuer}/interaction/${uid}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form),
      });
      location = new URL(posted.headers.get('location') ?? '', location).href;
    }
    throw new Error('the login did not end in a redirect away from the provider');
  };

  const exchangeCode = async (code: string, verifier: string, resource: string) => {
    const res = await fetch(tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT_URI,
        client_id: 'cli',
        code_verifier: verifier,
        resource,
      }),
    });
    const json = (await res.json()) as { access_token?: string };
    if (!json.access_token) throw new Error(`code exchange failed: ${JSON.stringify(json)}`);
    return json.access_token;
  };

  return {
    issuer,
    clientToken,
    userToken,
    completeLogin,
    exchanges,
    close: async () => {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/** Just enough of a cookie jar for one login: name=value pairs, sent back on every request. */
class CookieJar {
  private readonly cookies = new Map<string, string>();

  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { ...(init.headers as Record<string, string>), ...(cookie ? { cookie } : {}) },
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair?.indexOf('=') ?? -1;
      if (pair && eq > 0) this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    return res;
  }
}
