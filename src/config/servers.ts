/**
 * A `servers:` (or `mcpServers:`, or runtime input's) entry → `ServerConfig`, with the checks the
 * schema leaves to code: exactly one of command/url, keys that belong to the other transport, server
 * names, timeouts, URLs, shell-split args, prefixes no two servers share. Secrets in env, headers and
 * URLs are registered for redaction as they are read.
 */
import { resolve } from 'node:path';
import { addSecretValue, secrets } from '../secrets.js';
import { backendOAuth, forwardCallerToken, tokenStoreSettings } from './backend-oauth.js';
import { headerFiles } from './header-files.js';
import { servedPrefix, validateServerName } from './names.js';
import type { Problem, Segment } from './problems.js';
import { splitShellArgs } from './shell-split.js';
import { serverSurface } from './surface.js';
import { type TokenExchangeSettings, tokenExchange } from './token-exchange.js';
import type {
  BackendProtocol,
  HttpTransportSetting,
  RetryOnCrash,
  ServerConfig,
  ServerSource,
  TokenStoreSettings,
} from './types.js';
import { type Data, has, isData, stringMap, timeoutValue } from './values.js';

const STDIO_ONLY = ['args', 'env', 'cwd'] as const;
const HTTP_ONLY = [
  'headers',
  'headers_from_files',
  'transport',
  'oauth',
  'forward_caller_token',
  'token_exchange',
] as const;

export interface NormalizeContext {
  /** Folder relative paths resolve against. */
  baseDir: string;
  source: ServerSource;
  /** `token_store:` of the file; default: the default store under baseDir. */
  tokenStore?: TokenStoreSettings;
}
/** `protocol`: the schema has checked the value; absent means `auto`. */
function protocolValue(value: unknown): BackendProtocol {
  return value === 'modern' || value === 'legacy' ? value : 'auto';
}

/** `retry_on_crash`: a boolean, or a mapping of tool names (or `*` patterns) to booleans. */
function retryOnCrashValue(value: unknown): RetryOnCrash | undefined {
  if (typeof value === 'boolean') return value;
  if (!isData(value)) return undefined;
  return Object.fromEntries(
    Object.entries(value).filter((e): e is [string, boolean] => typeof e[1] === 'boolean'),
  );
}
/** One server entry. `path` is where the entry sits (`['servers', name]`, or `[]` for runtime input). */
export function normalizeServer(
  name: string,
  raw: unknown,
  path: Segment[],
  ctx: NormalizeContext,
  problems: Problem[],
): ServerConfig | undefined {
  const before = problems.length;
  const nameProblem = validateServerName(name);
  if (nameProblem) problems.push({ path, at: 'key', label: path.slice(0, -1), text: nameProblem });
  if (!isData(raw)) return undefined;

  const hasCommand = has(raw, 'command');
  const hasUrl = has(raw, 'url');
  const type = raw.type;
  if (hasCommand && hasUrl) {
    problems.push({
      path: [...path, 'url'],
      at: 'key',
      label: path,
      text: 'has both "command" and "url"; a server is either stdio (command) or Streamable HTTP (url)',
    });
  } else if (!hasCommand && !hasUrl) {
    problems.push({ path, text: 'needs "command" (a stdio server) or "url" (a Streamable HTTP server)' });
  } else if (type === 'stdio' && !hasCommand) {
    problems.push({ path: [...path, 'type'], text: '"stdio" needs "command", not "url"' });
  } else if ((type === 'http' || type === 'streamable-http' || type === 'sse') && !hasUrl) {
    problems.push({ path: [...path, 'type'], text: `${JSON.stringify(type)} needs "url", not "command"` });
  }
  const transport = hasCommand && !hasUrl ? 'stdio' : hasUrl && !hasCommand ? 'http' : undefined;
  const misplaced = transport === 'stdio' ? HTTP_ONLY : transport === 'http' ? STDIO_ONLY : [];
  for (const key of misplaced) {
    if (!has(raw, key)) continue;
    const belongs = transport === 'stdio' ? 'HTTP servers (with "url")' : 'stdio servers (with "command")';
    problems.push({
      path: [...path, key],
      at: 'key',
      label: path,
      text: `"${key}" applies only to ${belongs}`,
    });
  }

  const timeoutMs = timeoutValue(raw.timeout, [...path, 'timeout'], problems);
  const retryOnCrash = retryOnCrashValue(raw.retry_on_crash);
  let args: string[] = [];
  if (typeof raw.args === 'string') {
    try {
      args = splitShellArgs(raw.args);
    } catch (err) {
      problems.push({
        path: [...path, 'args'],
        text: `cannot split into arguments: ${(err as Error).message}`,
      });
    }
  } else if (Array.isArray(raw.args)) {
    args = raw.args.filter((a): a is string => typeof a === 'string');
  }
  if (transport === 'http' && typeof raw.url === 'string' && !isHttpUrl(raw.url)) {
    problems.push({ path: [...path, 'url'], text: 'expected an http:// or https:// URL' });
  }
  const httpTransport = transport === 'http' ? httpTransportValue(raw, path, problems) : undefined;

  const surface = serverSurface(raw, path, problems);
  if (problems.slice(before).some((p) => p.severity !== 'warning') || !transport) return undefined;
  const common = {
    name,
    ...(raw.protocol === undefined ? {} : { protocol: protocolValue(raw.protocol) }),
    ...(typeof raw.description === 'string' ? { description: raw.description } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(retryOnCrash !== undefined ? { retryOnCrash } : {}),
    enabled: raw.enabled !== false,
    source: ctx.source,
    ...(typeof raw.prefix === 'string' ? { prefix: raw.prefix } : {}),
    ...(surface ? { surface } : {}),
  };
  if (transport === 'stdio') {
    const cwd = typeof raw.cwd === 'string' ? resolve(ctx.baseDir, raw.cwd) : ctx.baseDir;
    const env = stringMap(raw.env);
    for (const [key, value] of Object.entries(env)) addSecretValue(value, `<env ${key}>`);
    return { ...common, transport, command: raw.command as string, args, env, cwd };
  }
  const headers = stringMap(raw.headers);
  for (const [key, value] of Object.entries(headers)) addSecretValue(value, `<header ${key}>`);
  registerUrlCredentials(raw.url as string);
  const oauth = backendOAuth(
    raw.oauth,
    [...path, 'oauth'],
    problems,
    ctx.tokenStore ?? tokenStoreSettings(undefined, ctx.baseDir),
  );
  return {
    ...common,
    transport,
    url: raw.url as string,
    headers,
    ...(httpTransport ? { httpTransport } : {}),
    ...(oauth ? { oauth } : {}),
    ...forwardEntry(raw.forward_caller_token),
    ...exchangeEntry(raw, [...path, 'token_exchange'], problems),
    ...headerFilesEntry(raw.headers_from_files, ctx.baseDir),
  };
}

/**
 * `transport` (or `type: sse`, the Claude Desktop spelling) of a url server; undefined means Streamable
 * HTTP with fallback. HTTP+SSE is a 2025-era transport: `protocol: modern` cannot be spoken over it.
 */
function httpTransportValue(
  raw: Data,
  path: Segment[],
  problems: Problem[],
): HttpTransportSetting | undefined {
  const setting = raw.transport === 'sse' || raw.transport === 'streamable-http' ? raw.transport : undefined;
  const fromType = raw.type === 'sse' ? 'sse' : undefined;
  if (setting && fromType && setting !== fromType) {
    problems.push({
      path: [...path, 'transport'],
      text: `"transport: ${setting}" contradicts "type: sse"; give one of them`,
    });
    return undefined;
  }
  const value = setting ?? fromType;
  if (value === 'sse' && raw.protocol === 'modern') {
    problems.push({
      path: [...path, 'protocol'],
      text: 'the HTTP+SSE transport carries the 2025 era only; "protocol: modern" needs Streamable HTTP (drop "transport: sse", or use protocol: auto or legacy)',
    });
    return undefined;
  }
  return value;
}

/** `user:password@` in a URL is sent as Basic auth; neither it nor its base64 form may be shown. */
function registerUrlCredentials(text: string): void {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return;
  }
  if (!url.password) return;
  const user = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  for (const value of [password, url.password]) secrets.add(value, '<url password>');
  secrets.add(Buffer.from(`${user}:${password}`).toString('base64'), '<url credentials>');
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/** Every server of a `servers` (or `mcpServers`) mapping, in file order. */
export function normalizeServers(
  value: unknown,
  path: Segment[],
  ctx: NormalizeContext,
  problems: Problem[],
): ServerConfig[] {
  if (!isData(value)) return [];
  const servers: ServerConfig[] = [];
  for (const [name, raw] of Object.entries(value)) {
    const server = normalizeServer(name, raw, [...path, name], ctx, problems);
    if (server) servers.push(server);
  }
  sharedPrefixes(servers, value, path, problems);
  return servers;
}

/**
 * Two servers with one prefix would serve their names in one namespace, where any common tool name
 * clashes: that is a mistake in the file, reported at the second one. (Clashes of single names
 * across different prefixes can only be seen once backends list their tools: served-names.ts.)
 */
function sharedPrefixes(servers: ServerConfig[], entries: Data, path: Segment[], problems: Problem[]): void {
  const first = new Map<string, string>();
  for (const server of servers) {
    const prefix = servedPrefix(server);
    const owner = first.get(prefix);
    if (owner === undefined) {
      first.set(prefix, server.name);
      continue;
    }
    const entry = entries[server.name];
    const explicit = isData(entry) && has(entry, 'prefix');
    problems.push({
      path: explicit ? [...path, server.name, 'prefix'] : [...path, server.name],
      ...(explicit ? {} : { at: 'key' as const }),
      text: `prefix ${JSON.stringify(prefix)} is also the prefix of server "${owner}"; no two servers may share a prefix`,
    });
  }
}

function forwardEntry(raw: unknown): { forwardCallerToken?: { audience: string } } {
  const forward = forwardCallerToken(raw);
  return forward ? { forwardCallerToken: forward } : {};
}

function exchangeEntry(
  raw: Record<string, unknown>,
  path: Segment[],
  problems: Problem[],
): { tokenExchange?: TokenExchangeSettings } {
  const exchange = tokenExchange(raw.token_exchange, path, problems, raw.forward_caller_token !== undefined);
  return exchange ? { tokenExchange: exchange } : {};
}

function headerFilesEntry(raw: unknown, baseDir: string): { headersFromFiles?: Record<string, string> } {
  const files = headerFiles(raw, baseDir);
  return files ? { headersFromFiles: files } : {};
}
