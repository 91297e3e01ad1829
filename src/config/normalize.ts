/**
 * Validated data → `GatewayConfig` / `ServerConfig`, with the checks the schema leaves to code:
 * exactly one of command/url, keys that belong to the other transport, server names, durations,
 * URLs, shell-split args. Every check guards its value's type, since this also runs on data that
 * failed the schema (so that one run reports every problem); such a value was already reported.
 */
import { isAbsolute, resolve } from 'node:path';
import { addSecretValue, secrets } from '../secrets.js';
import { authSettings } from './auth-settings.js';
import { backendOAuth, forwardCallerToken, tokenStoreSettings } from './backend-oauth.js';
import { type BridgeConfig, bridgeConfig } from './bridge.js';
import { clusterSettings, rateLimitSettings } from './cluster.js';
import { parseDuration } from './duration.js';
import type { Env } from './expand.js';
import { headerFiles } from './header-files.js';
import { servedPrefix, validateServerName } from './names.js';
import type { Problem, Segment } from './problems.js';
import { normalizeProfiles, normalizeProfileTokens } from './profiles.js';
import { commandAllowList, urlHostAllowList } from './register-allow.js';
import { splitShellArgs } from './shell-split.js';
import { parseSize } from './size.js';
import { serverSurface, surfaceSettings } from './surface.js';
import { type TokenExchangeSettings, tokenExchange } from './token-exchange.js';
import {
  type AuditSettings,
  type BackendProtocol,
  DEFAULT_HTTP_PORT,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MAX_RUNTIME_BACKENDS,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  DEFAULT_STARTUP_GRACE_MS,
  DEFAULT_TIMEOUT_MS,
  type GatewayConfig,
  type HttpSettings,
  type HttpTransportSetting,
  type Limits,
  type RetryOnCrash,
  type ServerConfig,
  type ServerSource,
  type TokenStoreSettings,
  type ToolGroups,
} from './types.js';

type Data = Record<string, unknown>;

export const DEFAULT_HTTP_HOST = '127.0.0.1';
export const DEFAULT_PIPELINES_DIR = 'pipelines';
export const TOKEN_ENV = 'MCP_GATEWAY_TOKEN';

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

function isData(value: unknown): value is Data {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function has(data: Data, key: string): boolean {
  return Object.hasOwn(data, key) && data[key] !== undefined;
}

/** A timeout: a duration above zero; `undefined` when absent or invalid (then `problems` says why). */
export function timeoutValue(value: unknown, path: Segment[], problems: Problem[]): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  try {
    const ms = parseDuration(value);
    if (ms > 0) return ms;
    problems.push({ path, text: 'a timeout must be more than 0' });
  } catch (err) {
    problems.push({ path, text: (err as Error).message });
  }
  return undefined;
}

/** A duration of zero or more; `undefined` when absent or invalid (then `problems` says why). */
function durationValue(value: unknown, path: Segment[], problems: Problem[]): number | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  try {
    return parseDuration(value);
  } catch (err) {
    problems.push({ path, text: (err as Error).message });
    return undefined;
  }
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

/** Bytes for a size setting; a problem (and undefined) when it is not one, or is under 1 KiB. */
function sizeValue(value: unknown, path: Segment[], problems: Problem[]): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  try {
    const bytes = parseSize(value);
    // Below this not even initialize fits: the gateway could serve nothing.
    if (bytes >= MIN_MESSAGE_BYTES) return bytes;
    problems.push({ path, text: 'a message size limit must be at least 1KiB' });
  } catch (err) {
    problems.push({ path, text: (err as Error).message });
  }
  return undefined;
}

const MIN_MESSAGE_BYTES = 1024;

/** The string entries of a mapping, each as an own property (a `__proto__` key stays a key, not a prototype). */
function stringMap(value: unknown): Record<string, string> {
  if (!isData(value)) return {};
  return Object.fromEntries(
    Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
}

const EMPTY_MEANS_ABSENT = [
  'servers',
  'mcpServers',
  'tools',
  'http',
  'limits',
  'audit',
  'bridge',
  'cluster',
  'rate_limits',
  'token_store',
];
const EMPTY_MEANS_ABSENT_IN_SERVER = ['args', 'env', 'headers'];

/**
 * `servers:` or `env:` with every entry commented out is null in YAML; read it as absent rather than
 * as a type error. Mutates `data`.
 */
export function emptyAsAbsent(data: unknown): void {
  if (!isData(data)) return;
  for (const key of EMPTY_MEANS_ABSENT) if (Object.hasOwn(data, key) && data[key] === null) delete data[key];
  for (const key of ['servers', 'mcpServers']) {
    const servers = data[key];
    if (!isData(servers)) continue;
    for (const entry of Object.values(servers)) {
      if (!isData(entry)) continue;
      for (const k of EMPTY_MEANS_ABSENT_IN_SERVER)
        if (Object.hasOwn(entry, k) && entry[k] === null) delete entry[k];
    }
  }
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

/** The whole gateway file. `data` is the validated document (an empty file is `{}`). */
export function normalizeGateway(
  data: unknown,
  ctx: { file?: string; baseDir: string; env: Env },
  problems: Problem[],
): GatewayConfig {
  const root = isData(data) ? data : {};
  const source: ServerSource = ctx.file ? { kind: 'config', file: ctx.file } : { kind: 'runtime' };
  if (has(root, 'servers') && has(root, 'mcpServers')) {
    problems.push({
      path: ['mcpServers'],
      at: 'key',
      label: [],
      text: 'use "servers" or "mcpServers", not both',
    });
  }
  const serversKey = has(root, 'servers') ? 'servers' : 'mcpServers';
  const tools = isData(root.tools) ? root.tools : {};
  const http = isData(root.http) ? root.http : {};
  const limits = isData(root.limits) ? root.limits : {};
  const pipelines = nonEmpty(root.pipelines) ?? DEFAULT_PIPELINES_DIR;
  const servers = normalizeServers(
    root[serversKey],
    [serversKey],
    { baseDir: ctx.baseDir, source, tokenStore: tokenStoreSettings(root.token_store, ctx.baseDir, ctx.env) },
    problems,
  );
  const profiles = normalizeProfiles(
    root.profiles,
    servers.map((s) => s.name),
    problems,
  );
  const tokens = normalizeProfileTokens(
    http.tokens,
    profiles.map((p) => p.name),
    problems,
    http.auth !== undefined,
  );
  return {
    ...(ctx.file ? { file: ctx.file } : {}),
    baseDir: ctx.baseDir,
    defaultTimeoutMs: timeoutValue(root.timeout, ['timeout'], problems) ?? DEFAULT_TIMEOUT_MS,
    shutdownTimeoutMs:
      timeoutValue(root.shutdown_timeout, ['shutdown_timeout'], problems) ?? DEFAULT_SHUTDOWN_TIMEOUT_MS,
    startupGraceMs:
      durationValue(root.startup_grace, ['startup_grace'], problems) ?? DEFAULT_STARTUP_GRACE_MS,
    http: { ...httpSettings(http, ctx, problems), ...(tokens.length > 0 ? { tokens } : {}) },
    limits: {
      maxMessageBytes:
        sizeValue(limits.max_message_size, ['limits', 'max_message_size'], problems) ??
        DEFAULT_MAX_MESSAGE_BYTES,
      maxRuntimeBackends:
        typeof limits.max_runtime_backends === 'number' &&
        Number.isInteger(limits.max_runtime_backends) &&
        limits.max_runtime_backends >= 0
          ? limits.max_runtime_backends
          : DEFAULT_MAX_RUNTIME_BACKENDS,
    } satisfies Limits,
    tools: {
      meta: tools.meta !== false,
      backends: tools.backends !== false,
      pipelines: tools.pipelines !== false,
    } satisfies ToolGroups,
    pipelinesDir: isAbsolute(pipelines) ? pipelines : resolve(ctx.baseDir, pipelines),
    servers,
    metrics: root.metrics === true,
    audit: auditSettings(isData(root.audit) ? root.audit : {}, ctx.baseDir),
    surface: surfaceSettings(root.surface, ctx.baseDir),
    ...bridgeEntry(root.bridge, problems),
    cluster: clusterSettings(root.cluster, ctx.env),
    rateLimits: rateLimitSettings(root.rate_limits, problems),
    ...(profiles.length > 0 ? { profiles } : {}),
  };
}

/** `bridge:` only when the file has it: the gateway applies the defaults (src/bridge). */
function bridgeEntry(raw: unknown, problems: Problem[]): { bridge?: BridgeConfig } {
  const bridge = bridgeConfig(raw, problems);
  return bridge ? { bridge } : {};
}

function auditSettings(audit: Data, baseDir: string): AuditSettings {
  const file = nonEmpty(audit.file);
  return {
    ...(typeof audit.enabled === 'boolean' ? { enabled: audit.enabled } : {}),
    ...(file !== undefined ? { file: isAbsolute(file) ? file : resolve(baseDir, file) } : {}),
  };
}

function httpSettings(http: Data, ctx: { baseDir: string; env: Env }, problems: Problem[]): HttpSettings {
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

/** The config with no file: defaults only, no servers. */
export function defaultConfig(baseDir: string, env: Env = process.env): GatewayConfig {
  return normalizeGateway({}, { baseDir: resolve(baseDir), env }, []);
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
