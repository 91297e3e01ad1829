/**
 * Server names. A backend's tools are served as `<server>__<tool>` and pipelines as
 * `pipeline__<name>`, so a name must be safe inside a tool name (clients accept
 * `^[A-Za-z0-9_-]{1,64}$`), must not contain the `__` separator or end in `_` (then the first `__`
 * of a served name always ends the server name, and no two backend tools can be served under the
 * same name), and must not be `pipeline` or the name of one of the gateway's own tools. ASCII only:
 * a Cyrillic "а" or a zero-width space would make a name that looks like another one.
 */

export const SERVER_NAME_MAX = 48;
export const TOOL_SEPARATOR = '__';
/** The gateway's own tools (a server of the same name would read like one of them). */
export const GATEWAY_TOOL_NAMES: readonly string[] = [
  'register_server',
  'remove_server',
  'list_servers',
  'call_backend',
  'route_pipeline',
  'list_pipelines',
];
/** Compared without regard to case. */
export const RESERVED_SERVER_NAMES: readonly string[] = ['pipeline', ...GATEWAY_TOOL_NAMES];

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,47}$/;

/** `[Pp][Ii]…`: JSON Schema patterns have no case-insensitive flag. */
function anyCase(word: string): string {
  return [...word].map((c) => (/[a-z]/i.test(c) ? `[${c.toUpperCase()}${c.toLowerCase()}]` : c)).join('');
}

/** The JSON Schema `pattern` equivalent of {@link validateServerName}, for editors. */
export const SERVER_NAME_PATTERN = `^(?!(?:${RESERVED_SERVER_NAMES.map(anyCase).join('|')})$)(?!.*__)(?!.*_$)[A-Za-z0-9][A-Za-z0-9_-]{0,${SERVER_NAME_MAX - 1}}$`;

/** What is wrong with `name` as a server name, or `undefined` when it is fine. */
export function validateServerName(name: unknown): string | undefined {
  if (typeof name !== 'string' || name.length === 0) return 'a server name must be a non-empty string';
  if (name.length > SERVER_NAME_MAX) {
    return `server name is ${name.length} characters long; at most ${SERVER_NAME_MAX} are allowed`;
  }
  if (!NAME_RE.test(name)) {
    return `server name ${JSON.stringify(name)} must start with a letter or digit and contain only letters, digits, "_" and "-"`;
  }
  if (name.includes(TOOL_SEPARATOR)) {
    return `server name ${JSON.stringify(name)} must not contain "__"; it separates server from tool in "<server>__<tool>"`;
  }
  if (name.endsWith('_')) {
    return `server name ${JSON.stringify(name)} must not end with "_"; "<server>__<tool>" would not split in one way only`;
  }
  const lower = name.toLowerCase();
  if (lower === 'pipeline') {
    return `server name ${JSON.stringify(name)} is reserved; pipelines are served as "pipeline__<name>"`;
  }
  if (GATEWAY_TOOL_NAMES.includes(lower)) {
    return `server name ${JSON.stringify(name)} is reserved; it is the name of one of the gateway's own tools`;
  }
  return undefined;
}

/** Longest `prefix:`; with a tool name it must still fit in 128 characters. */
export const PREFIX_MAX = 64;
/** A prefix becomes part of tool names, so it may hold only what a tool name may. */
export const PREFIX_PATTERN = `^[A-Za-z0-9_.-]{0,${PREFIX_MAX}}$`;

/** What the front puts before a backend's tool and prompt names: `prefix:` when set, else `<name>__`. */
export function servedPrefix(server: { name: string; prefix?: string | undefined }): string {
  return server.prefix ?? `${server.name}${TOOL_SEPARATOR}`;
}
