/** `http:` → `HttpSettings`: where to listen, the token, the register_server allow lists, auth, the console. */
import { secrets } from '../secrets.js';
import { authSettings } from './auth-settings.js';
import type { Env } from './expand.js';
import type { Problem } from './problems.js';
import { commandAllowList, urlHostAllowList } from './register-allow.js';
import { DEFAULT_HTTP_PORT, type HttpSettings } from './types.js';
import { type Data, isData, nonEmpty } from './values.js';

export const DEFAULT_HTTP_HOST = '127.0.0.1';
export const TOKEN_ENV = 'MCP_GATEWAY_TOKEN';

export function httpSettings(
  http: Data,
  ctx: { baseDir: string; env: Env },
  problems: Problem[],
): HttpSettings {
  const token = nonEmpty(http.token) ?? nonEmpty(ctx.env[TOKEN_ENV]);
  if (token) secrets.add(token, '<http token>');
  const strings = (v: unknown) =>
    Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];
  return {
    host: nonEmpty(http.host) ?? DEFAULT_HTTP_HOST,
    port: typeof http.port === 'number' && Number.isInteger(http.port) ? http.port : DEFAULT_HTTP_PORT,
    ...(token ? { token } : {}),
    allowedHosts: strings(http.allowed_hosts),
    allowCommands: commandAllowList(http.allow_commands, ['http', 'allow_commands'], ctx.baseDir, problems),
    allowUrlHosts: urlHostAllowList(http.allow_url_hosts, ['http', 'allow_url_hosts'], problems),
    ...optional('auth', authSettings(http.auth, problems)),
    ...consoleSettings(http, problems),
  };
}

/** `http.console`: true, or `{client_id, scopes}` — on, signing in through `http.auth`'s issuer. */
function consoleSettings(http: Data, problems: Problem[]): Pick<HttpSettings, 'console' | 'consoleOAuth'> {
  const raw = http.console;
  if (raw === true) return { console: true };
  if (!isData(raw) || typeof raw.client_id !== 'string' || raw.client_id === '') return {};
  if (!isData(http.auth))
    problems.push({
      path: ['http', 'console', 'client_id'],
      text: 'a console client_id signs in through http.auth; set http.auth (or write console: true)',
    });
  const scopes = Array.isArray(raw.scopes)
    ? raw.scopes.filter((s): s is string => typeof s === 'string')
    : undefined;
  return { console: true, consoleOAuth: { clientId: raw.client_id, ...(scopes ? { scopes } : {}) } };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
