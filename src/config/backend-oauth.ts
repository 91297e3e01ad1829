/**
 * `servers.<name>.oauth` and `token_store:`: how the gateway gets access tokens for an HTTP backend
 * (see docs/guides/authorization.md, "Backends that want OAuth"). Its own module so the rest of the
 * config stays as it was; `normalize.ts` calls {@link backendOAuth} and {@link tokenStoreSettings}.
 */
import { isAbsolute, resolve } from 'node:path';
import { secrets } from '../secrets.js';
import type { Problem, Segment } from './problems.js';
import type { BackendOAuth, TokenStoreSettings } from './types.js';
import { isData, nonEmpty } from './values.js';

export const TOKEN_KEY_ENV = 'MCP_GATEWAY_TOKEN_KEY';
export const DEFAULT_CALLBACK_PORT = 33418;

/**
 * `token_store:` resolved against the config's folder. Default: `$MCP_GATEWAY_DATA/oauth-tokens.enc`
 * (where the example backends keep their data), else `.data/oauth-tokens.enc`; the key file beside it.
 */
export function tokenStoreSettings(
  raw: unknown,
  baseDir: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): TokenStoreSettings {
  const data = isData(raw) ? raw : {};
  const dataDir = env.MCP_GATEWAY_DATA ? resolve(baseDir, env.MCP_GATEWAY_DATA) : resolve(baseDir, '.data');
  const at = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  const path = nonEmpty(data.path) ? at(data.path as string) : resolve(dataDir, 'oauth-tokens.enc');
  const keyFile = nonEmpty(data.key_file) ? at(data.key_file as string) : `${path}.key`;
  return { path, keyFile, keyEnv: TOKEN_KEY_ENV };
}

/** `servers.<name>.forward_caller_token` (the schema has checked its shape). */
export function forwardCallerToken(raw: unknown): { audience: string } | undefined {
  const audience = isData(raw) ? nonEmpty(raw.audience) : undefined;
  return audience ? { audience } : undefined;
}

/** `servers.<name>.oauth` (the schema has checked its shape; the grant's needs are checked here). */
export function backendOAuth(
  raw: unknown,
  path: Segment[],
  problems: Problem[],
  store: TokenStoreSettings,
): BackendOAuth | undefined {
  if (!isData(raw)) return undefined;
  const clientId = nonEmpty(raw.client_id);
  const clientSecret = nonEmpty(raw.client_secret);
  if (clientSecret) secrets.add(clientSecret, '<oauth client secret>');
  const scope = nonEmpty(raw.scope);
  const issuer = nonEmpty(raw.issuer);
  const common = { ...(scope ? { scope } : {}), ...(issuer ? { issuer } : {}) };
  const grant = nonEmpty(raw.grant) ?? (clientSecret ? 'client_credentials' : 'authorization_code');
  if (grant === 'client_credentials') {
    if (!clientId || !clientSecret) {
      problems.push({ path, text: 'grant client_credentials needs client_id and client_secret' });
      return undefined;
    }
    return { grant, clientId, clientSecret, ...common };
  }
  if (clientSecret && !clientId) {
    problems.push({ path: [...path, 'client_secret'], text: 'a client_secret needs its client_id' });
    return undefined;
  }
  const port = raw.callback_port;
  return {
    grant: 'authorization_code',
    ...(clientId ? { clientId } : {}),
    ...(clientSecret ? { clientSecret } : {}),
    ...common,
    callbackPort: typeof port === 'number' && Number.isInteger(port) ? port : DEFAULT_CALLBACK_PORT,
    store,
  };
}
