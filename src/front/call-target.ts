/**
 * What a served tool name means, for the audit log and metric labels (src/observability cannot
 * import the front, so the gateway hands it these): a backend's tool (`<server>__<tool>`, or
 * call_backend with its `server` and `tool`), a pipeline (`pipeline__<name>`, or route_pipeline with
 * its `scenario`), or one of the gateway's own meta tools.
 */
import type { CallTarget, FrontNames } from '../observability/index.js';
import { NAMESPACE_SEPARATOR, PIPELINE_TOOL_PREFIX } from './naming.js';
import type { ToolTable } from './tool-table.js';

export function describeCall(tool: string, args: unknown): CallTarget {
  const a = (args ?? {}) as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
  if (tool === 'call_backend') return { kind: 'backend', server: text(a.server), backendTool: text(a.tool) };
  if (tool === 'route_pipeline') return { kind: 'pipeline', pipeline: text(a.scenario) };
  if (tool.startsWith(PIPELINE_TOOL_PREFIX))
    return { kind: 'pipeline', pipeline: tool.slice(PIPELINE_TOOL_PREFIX.length) };
  const at = tool.indexOf(NAMESPACE_SEPARATOR);
  if (at > 0)
    return {
      kind: 'backend',
      server: tool.slice(0, at),
      backendTool: tool.slice(at + NAMESPACE_SEPARATOR.length),
    };
  return { kind: 'meta' };
}

/**
 * Names as the front serves them now: a served backend tool is described by the table (a server's
 * `prefix` may be custom or empty, so the name alone cannot tell), anything else by its name.
 */
export function frontNames(table: ToolTable): FrontNames {
  return {
    describe(tool, args) {
      const served = table.get(tool);
      if (served?.backend !== undefined)
        return { kind: 'backend', server: served.backend, backendTool: served.backendTool ?? tool };
      return describeCall(tool, args);
    },
    served: (tool) => table.get(tool) !== undefined,
  };
}
