/**
 * `http.allow_commands` and `http.allow_url_hosts` from the file → checked entries. What they mean
 * when register_server is called is decided in `src/front/register-policy.ts`; here each entry is
 * read once, and a malformed one is a config problem rather than a silent hole.
 */
import { isAbsolute, normalize, resolve } from 'node:path';
import { parseIp, parseRange } from './ip-range.js';
import type { Problem, Segment } from './problems.js';
import type { CommandAllowEntry, UrlHostAllowEntry } from './types.js';

type Data = Record<string, unknown>;

/** The last `args` pattern that allows any further arguments. */
export const REST_ARGS = '...';

const isData = (v: unknown): v is Data => v !== null && typeof v === 'object' && !Array.isArray(v);
const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];

/** A command as the allow-list compares it: a bare name as is, an absolute path normalized. */
export function commandKey(command: string): string | undefined {
  if (!/[/\\]/.test(command)) return command;
  return isAbsolute(command) ? normalize(command) : undefined;
}

export function commandAllowList(
  value: unknown,
  path: Segment[],
  baseDir: string,
  problems: Problem[],
): CommandAllowEntry[] {
  if (!Array.isArray(value)) return [];
  const entries: CommandAllowEntry[] = [];
  value.forEach((raw, i) => {
    const at = [...path, i];
    const entry = typeof raw === 'string' ? { command: raw } : isData(raw) ? raw : undefined;
    // The schema already reported any other shape.
    if (!entry || typeof entry.command !== 'string' || entry.command === '') return;
    const command = commandKey(entry.command);
    if (command === undefined) {
      problems.push({
        path: typeof raw === 'string' ? at : [...at, 'command'],
        text: 'expected a bare command name like "node" or an absolute path; a relative path would depend on the working directory',
      });
      return;
    }
    const args = strings(entry.args);
    const rest = args.indexOf(REST_ARGS);
    if (rest >= 0 && rest !== args.length - 1) {
      problems.push({
        path: [...at, 'args', rest],
        text: `"${REST_ARGS}" (any further arguments) must come last`,
      });
      return;
    }
    entries.push({
      command,
      args,
      env: strings(entry.env),
      cwd: strings(entry.cwd).map((dir) => resolve(baseDir, dir)),
    });
  });
  return entries;
}

export function urlHostAllowList(value: unknown, path: Segment[], problems: Problem[]): UrlHostAllowEntry[] {
  const entries: UrlHostAllowEntry[] = [];
  strings(value).forEach((text, i) => {
    const entry = parseHostEntry(text);
    if (typeof entry === 'string') problems.push({ path: [...path, i], text: entry });
    else entries.push(entry);
  });
  return entries;
}

const HOSTNAME_RE = /^(\*\.)?[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/;
const HOST_HINT =
  'expected a host name ("mcp.example.com", "*.example.com"), an address ("10.0.0.5", "[fd00::1]"), either with an optional ":port", or a range ("10.0.0.0/8", "fc00::/7")';

/** One allow_url_hosts entry, or why it is malformed. */
export function parseHostEntry(input: string): UrlHostAllowEntry | string {
  const text = input.trim();
  if (text.includes('/')) {
    const range = parseRange(text);
    return range
      ? { kind: 'range', text, range }
      : `${HOST_HINT}; ${JSON.stringify(text)} is not a valid range`;
  }
  let host = text;
  let port: number | undefined;
  const withPort = /^(\[[^\]]*\]|[^:]*):(\d{1,5})$/.exec(text);
  if (withPort) {
    host = withPort[1] as string;
    port = Number(withPort[2]);
    if (port < 1 || port > 65535) return `${HOST_HINT}; the port must be from 1 to 65535`;
  }
  const ports = port === undefined ? {} : { port };
  const address = parseIp(host);
  if (address) {
    const range = parseRange(host.replace(/^\[|\]$/g, ''));
    if (range) return { kind: 'range', text, range, ...ports };
  }
  // The URL parser lowercases names and turns international ones into punycode, as it does for the
  // url a caller registers, so both compare alike.
  if (/[\s@?#\\[\]]/.test(host) || host === '') return HOST_HINT;
  let name: string;
  try {
    name = new URL(`http://${host}/`).hostname.replace(/\.$/, '');
  } catch {
    return HOST_HINT;
  }
  if (!HOSTNAME_RE.test(name)) return HOST_HINT;
  // A name that is really an address in another notation ("2130706433", "0x7f.1") becomes one.
  const normalized = parseIp(name);
  if (normalized) {
    const range = parseRange(name);
    if (range) return { kind: 'range', text, range, ...ports };
  }
  return { kind: 'name', text, name, ...ports };
}
