/**
 * How backend tools and pipelines are named on the front. `__` separates the server from the tool;
 * server names may not contain it, so the first `__` always splits correctly.
 */
export const NAMESPACE_SEPARATOR = '__';
export const PIPELINE_TOOL_PREFIX = `pipeline${NAMESPACE_SEPARATOR}`;

export function backendToolName(server: string, tool: string): string {
  return `${server}${NAMESPACE_SEPARATOR}${tool}`;
}

export function pipelineToolName(pipeline: string): string {
  return `${PIPELINE_TOOL_PREFIX}${pipeline}`;
}

/**
 * Longest tool name served, and the characters it may hold: what the MCP spec recommends and what
 * clients (and model APIs, which often allow only `^[a-zA-Z0-9_-]{1,64}$` or `{1,128}`) accept.
 */
export const MAX_TOOL_NAME = 128;
const SAFE_TOOL_NAME = /^[A-Za-z0-9_.-]+$/;
/** With shortening, a bound only against a backend flooding memory with absurd names. */
const MAX_BACKEND_TOOL_NAME = 1_024;

/**
 * Why a backend tool cannot be served as `<prefix><tool>` (`prefix` is `<server>__` unless the server
 * sets one), or undefined when it can. Such a tool is left out of tools/list (and logged once) rather
 * than renamed: a rewritten name could collide with another, and the backend's own name still
 * reaches it through call_backend.
 */
export function unsafeToolName(
  server: string,
  tool: string,
  prefix = `${server}${NAMESPACE_SEPARATOR}`,
  /** Long names are shortened to fit (src/surface/fit-names.ts) rather than left out. */
  shortened = false,
): string | undefined {
  if (tool.length === 0) return 'its name is empty';
  if (!SAFE_TOOL_NAME.test(tool)) {
    return `its name ${JSON.stringify(tool.length > 80 ? `${tool.slice(0, 80)}…` : tool)} has characters other than letters, digits, "_", "-" and "."`;
  }
  const served = prefix.length + tool.length;
  const max = shortened ? MAX_BACKEND_TOOL_NAME : MAX_TOOL_NAME;
  if (served > max) return `"${prefix}<tool>" would be ${served} characters long; at most ${max} are served`;
  return undefined;
}
