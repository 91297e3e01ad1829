/**
 * Server names. A backend's tools are served as `<server>__<tool>` and pipelines as
 * `pipeline__<name>`, so a name must be safe inside a tool name (clients accept
 * `^[A-Za-z0-9_-]{1,64}$`), must not contain the `__` separator, and must not be `pipeline`.
 */

export const SERVER_NAME_MAX = 48;
export const TOOL_SEPARATOR = '__';
export const RESERVED_SERVER_NAMES: readonly string[] = ['pipeline'];

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,47}$/;

/** The JSON Schema `pattern` equivalent of {@link validateServerName}, for editors. */
export const SERVER_NAME_PATTERN =
  '^(?![Pp][Ii][Pp][Ee][Ll][Ii][Nn][Ee]$)(?!.*__)[A-Za-z0-9][A-Za-z0-9_-]{0,47}$';

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
  if (RESERVED_SERVER_NAMES.includes(name.toLowerCase())) {
    return `server name ${JSON.stringify(name)} is reserved; pipelines are served as "pipeline__<name>"`;
  }
  return undefined;
}
