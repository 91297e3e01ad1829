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
