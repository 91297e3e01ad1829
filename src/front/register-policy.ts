/**
 * What register_server may do when it comes over HTTP, and how many servers it may add.
 *
 * Over HTTP, whoever holds the token is not necessarily the person at this machine: without these
 * checks they could start any program (`node -e ...`, a crafted env like NODE_OPTIONS, a cwd holding
 * a hostile config) or make the gateway connect into its own network (server-side request forgery:
 * loopback services, the cloud metadata endpoint 169.254.169.254, private hosts). Over stdio the
 * caller is the local user, who can run anything anyway, so only the count limit applies there.
 *
 * The checks are pure functions of the request, the allow-lists and (for a url) the addresses its
 * host resolves to; `checkHttpRegistration` adds the DNS lookup.
 */
import { lookup } from 'node:dns/promises';
import {
  type AddressClass,
  type CommandAllowEntry,
  classifyAddress,
  commandKey,
  formatIp,
  type HttpSettings,
  type IpAddress,
  parseIp,
  REST_ARGS,
  rangeContains,
  type ServerConfig,
  type UrlHostAllowEntry,
} from '../config/index.js';
import { GatewayError } from '../errors.js';

/** A stdio server as the caller asked for it; `cwd` only when the caller chose one. */
export interface StdioRequest {
  command: string;
  args: readonly string[];
  envNames: readonly string[];
  /** Absolute. */
  cwd?: string;
}

type Failure = { reason: 'args' | 'env' | 'cwd'; text: string; fix: string };

const ALLOW_COMMANDS = 'http.allow_commands';
const ALLOW_URL_HOSTS = 'http.allow_url_hosts';
const MAX_RUNTIME = 'limits.max_runtime_backends';

/** Throws REGISTER_REFUSED unless one `http.allow_commands` entry allows the whole request. */
export function checkCommand(request: StdioRequest, allowList: readonly CommandAllowEntry[]): void {
  const { command } = request;
  const refuse = (reason: string, text: string, fix: string): never => {
    throw new GatewayError(
      'REGISTER_REFUSED',
      `register_server: starting '${command}' over HTTP is refused: ${text}. ${fix}`,
      { command, reason, setting: ALLOW_COMMANDS },
    );
  };
  const key = commandKey(command);
  if (key === undefined) {
    refuse(
      'command',
      'a relative path depends on the working directory',
      `Use a bare command name or an absolute path listed in ${ALLOW_COMMANDS}.`,
    );
  }
  const entries = allowList.filter((entry) => entry.command === key);
  if (entries.length === 0) {
    const listed = [...new Set(allowList.map((e) => e.command))];
    const hint = listed.length
      ? `allowed commands: ${listed.join(', ')}`
      : `no commands are allowed (${ALLOW_COMMANDS} in the config is empty)`;
    refuse(
      'command',
      hint,
      `Register a url instead, or add the command to ${ALLOW_COMMANDS} (a bare name matches only that bare name, a path only that path).`,
    );
  }
  // The entry that got furthest explains best why nothing allowed the request.
  let best: { failure: Failure; depth: number } | undefined;
  for (const entry of entries) {
    const failures = entryFailures(request, entry);
    if (failures.length === 0) return;
    const failure = failures[0] as Failure;
    const depth = ['args', 'env', 'cwd'].indexOf(failure.reason);
    if (!best || depth > best.depth) best = { failure, depth };
  }
  const { failure } = best as { failure: Failure };
  refuse(failure.reason, failure.text, failure.fix);
}

function entryFailures(request: StdioRequest, entry: CommandAllowEntry): Failure[] {
  const failures: Failure[] = [];
  if (!argsMatch(request.args, entry.args)) {
    const allowed = entry.args.length ? entry.args.map((a) => JSON.stringify(a)).join(' ') : 'no arguments';
    failures.push({
      reason: 'args',
      text: `the arguments ${JSON.stringify(request.args)} do not match the allowed ${allowed}`,
      fix: `Add an entry with matching args patterns to ${ALLOW_COMMANDS} to allow them.`,
    });
  }
  const envRefused = request.envNames.filter((name) => !entry.env.some((p) => globMatch(p, name)));
  if (envRefused.length) {
    failures.push({
      reason: 'env',
      text: `setting the environment variable(s) ${envRefused.join(', ')} is not allowed (allowed: ${entry.env.join(', ') || 'none'})`,
      fix: `List the names under env in its ${ALLOW_COMMANDS} entry to allow them.`,
    });
  }
  if (request.cwd !== undefined && !entry.cwd.includes(request.cwd)) {
    failures.push({
      reason: 'cwd',
      text: `the working directory '${request.cwd}' is not allowed (allowed: ${entry.cwd.join(', ') || 'only the default'})`,
      fix: `List the folder under cwd in its ${ALLOW_COMMANDS} entry to allow it.`,
    });
  }
  return failures;
}

/** Position by position; a last `...` pattern takes any further arguments. */
export function argsMatch(args: readonly string[], patterns: readonly string[]): boolean {
  const rest = patterns.at(-1) === REST_ARGS;
  const fixed = rest ? patterns.slice(0, -1) : patterns;
  if (rest ? args.length < fixed.length : args.length !== fixed.length) return false;
  return fixed.every((pattern, i) => globMatch(pattern, args[i] as string));
}

const globCache = new Map<string, RegExp>();

/**
 * `*` and `?` stay within a path segment, `**` matches anything. An argument with a `..` segment
 * matches only a pattern that says `..` or `**`, so `dist/*\/x.js` cannot climb out of dist.
 */
export function globMatch(pattern: string, value: string): boolean {
  let re = globCache.get(pattern);
  if (!re) {
    const source = pattern
      .split(/(\*\*|\*|\?)/)
      .map((part) =>
        part === '**'
          ? '[\\s\\S]*'
          : part === '*'
            ? '[^/\\\\]*'
            : part === '?'
              ? '[^/\\\\]'
              : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
      )
      .join('');
    re = new RegExp(`^${source}$`);
    if (globCache.size < 1000) globCache.set(pattern, re);
  }
  if (!re.test(value)) return false;
  const climbs = value.split(/[/\\]/).includes('..');
  return !climbs || pattern.includes('**') || pattern.split(/[/\\]/).includes('..');
}

/** The host, port and literal address (if the host is one) of an http(s) url. */
export interface UrlTarget {
  /** Lowercase, without brackets or a trailing dot. */
  host: string;
  port: number;
  /** Set when the host is an address (`127.0.0.1`, `[::1]`, or `2130706433` the URL parser rewrote). */
  address?: IpAddress;
  /** `http://host:port`, for messages: no credentials, no path. */
  origin: string;
}

export function urlTarget(text: string): UrlTarget {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw refuseUrl(text, 'it is not a valid URL', 'scheme');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw refuseUrl(url.protocol, 'only http:// and https:// urls are allowed', 'scheme');
  }
  const host = url.hostname
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
    .toLowerCase();
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  const address = parseIp(host);
  return { host, port, ...(address ? { address } : {}), origin: `${url.protocol}//${url.host}` };
}

/**
 * Throws REGISTER_REFUSED unless the url's host is listed by name, or every address it resolves to
 * is public or inside a listed range. `addresses` is what DNS answered (ignored for a literal address).
 */
export function checkUrl(
  target: UrlTarget,
  addresses: readonly string[],
  allowList: readonly UrlHostAllowEntry[],
): void {
  const portOk = (entry: UrlHostAllowEntry) => entry.port === undefined || entry.port === target.port;
  if (
    !target.address &&
    allowList.some((e) => e.kind === 'name' && portOk(e) && nameMatches(e.name, target.host))
  ) {
    return;
  }
  const listed = (address: IpAddress) =>
    allowList.some((e) => e.kind === 'range' && portOk(e) && rangeContains(e.range, address));
  const resolved = target.address
    ? [target.address]
    : addresses.map((a) => parseIp(a)).filter((a): a is IpAddress => a !== undefined);
  // `localhost` and its subdomains are loopback whatever a resolver says.
  const localName = target.host === 'localhost' || target.host.endsWith('.localhost');
  const candidates: { address: IpAddress; cls: AddressClass }[] = resolved.map((address) => ({
    address,
    cls: classifyAddress(address),
  }));
  if (localName) candidates.unshift({ address: parseIp('127.0.0.1') as IpAddress, cls: 'loopback' });
  if (candidates.length === 0) {
    throw refuseUrl(target.origin, `'${target.host}' does not resolve to an address`, 'unresolved');
  }
  for (const { address, cls } of candidates) {
    if (cls === 'public' || listed(address)) continue;
    const shown = formatIp(address);
    const what = target.address ? `${shown} is` : `'${target.host}' resolves to ${shown},`;
    const suggestion = target.address
      ? `${target.address.family === 6 ? `[${shown}]` : shown}:${target.port}`
      : `${target.host}:${target.port}`;
    throw refuseUrl(
      target.origin,
      `${what} ${article(cls)} ${cls} address`,
      cls,
      `Over HTTP, register_server does not reach loopback, private, link-local (cloud metadata) or other non-public addresses unless ${ALLOW_URL_HOSTS} lists them; add "${suggestion}" there to allow this one.`,
    );
  }
}

function nameMatches(pattern: string, host: string): boolean {
  if (!pattern.startsWith('*.')) return pattern === host;
  const suffix = pattern.slice(1);
  return host.endsWith(suffix) && host.length > suffix.length;
}

function article(cls: AddressClass): string {
  return /^[aeiou]/.test(cls) ? 'an' : 'a';
}

function refuseUrl(origin: string, text: string, reason: string, fix = ''): GatewayError {
  return new GatewayError(
    'REGISTER_REFUSED',
    `register_server: connecting to ${origin} over HTTP is refused: ${text}.${fix ? ` ${fix}` : ''}`,
    { url: origin, reason, setting: ALLOW_URL_HOSTS },
  );
}

/** Every address of a host name; none when it does not resolve. */
export type HostResolver = (host: string) => Promise<string[]>;

export const dnsResolver: HostResolver = async (host) => {
  try {
    return (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
  } catch {
    return [];
  }
};

/** The HTTP front's checks for one register_server call; the caller's `input` tells what it chose. */
export async function checkHttpRegistration(
  input: Record<string, unknown>,
  server: ServerConfig,
  http: Pick<HttpSettings, 'allowCommands' | 'allowUrlHosts'>,
  resolve: HostResolver = dnsResolver,
): Promise<void> {
  if (server.transport === 'stdio') {
    checkCommand(
      {
        command: server.command,
        args: server.args,
        envNames: Object.keys(server.env),
        // Without one the server runs in the config's folder, as every configured server does.
        ...(input.cwd !== undefined && server.cwd !== undefined ? { cwd: server.cwd } : {}),
      },
      http.allowCommands,
    );
    return;
  }
  const target = urlTarget(server.url);
  checkUrl(target, target.address ? [] : await resolve(target.host), http.allowUrlHosts);
}

/** Throws REGISTER_LIMIT when `runtimeCount` servers added by register_server are already the most allowed. */
export function checkRuntimeCount(runtimeCount: number, max: number): void {
  if (runtimeCount < max) return;
  const text =
    max === 0
      ? `register_server is turned off (${MAX_RUNTIME} is 0). Raise ${MAX_RUNTIME} in the config to turn it on`
      : `${runtimeCount} servers registered at runtime already, the most ${MAX_RUNTIME} allows (${max}). ` +
        `Remove one with remove_server, or raise ${MAX_RUNTIME} in the config`;
  throw new GatewayError('REGISTER_LIMIT', `register_server: refused: ${text}.`, {
    limit: max,
    count: runtimeCount,
    setting: MAX_RUNTIME,
  });
}
