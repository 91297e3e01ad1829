/**
 * A pipeline sent inline to `route_pipeline` (scenario `custom`): validated like a file, and since it
 * is sent now, checked now against the backends as they are — their tools when up, and the data flow
 * against their schemas — and against the folder's pipelines it may call. Every problem comes back at
 * once as `pipeline:line:col: message` in one PIPELINE_INVALID error.
 */
import type { BackendRegistry } from '../backends/index.js';
import { GatewayError } from '../errors.js';
import {
  allSteps,
  type Catalog,
  type CompiledPipeline,
  checkDataFlow,
  checkPipelineCalls,
  type LoadOptions,
  type PipelineIssue,
  servedPipeline,
  validatePipelineText,
} from '../pipeline/index.js';
import type { Surface } from '../surface/index.js';
import { formatIssues } from './pipeline-format.js';
import { liveTools } from './pipeline-types.js';

/** The name issues in a pipeline sent inline carry: `pipeline:3:5: message`. */
export const INLINE_PIPELINE_FILE = 'pipeline';

export function compileCustomPipeline(
  text: string,
  catalog: Catalog,
  registry: BackendRegistry,
  surface?: Surface,
): CompiledPipeline {
  const result = validatePipelineText(text, { file: INLINE_PIPELINE_FILE, ...liveChecks(registry) });
  if (!result.ok) throw invalid(result.issues);
  // Sent by a client, so it reaches only what that client could call itself: a tool the server's
  // filters hide is refused (TOOL_NOT_SERVED), in any step, on_failure ones included. The folder's
  // pipelines it calls are the gateway's own and keep the gateway's rights.
  for (const step of allSteps(result.pipeline)) {
    if (step.pipeline === undefined && step.server !== '')
      surface?.checkCall(step.server, step.tool, 'pipeline');
  }
  const serving = (name: string) => {
    const entry = catalog.get(name);
    return entry ? servedPipeline(entry) : undefined;
  };
  // It may call the folder's pipelines (which cannot call it back: it has no name there).
  const calls = checkPipelineCalls(
    result.pipeline,
    (name) => (catalog.get(name) ? (serving(name) ?? null) : undefined),
    [...new Set(catalog.list().map((e) => e.name))],
  );
  if (calls.length > 0) throw invalid(calls);
  // A value that cannot fit its parameter, per the backends' schemas, is refused; warnings are not.
  const typeErrors = checkDataFlow(result.pipeline, { tool: liveTools(registry), pipeline: serving }).filter(
    (p) => p.severity === 'error',
  );
  if (typeErrors.length > 0) throw invalid(typeErrors);
  return result.pipeline;
}

/** Servers by name, and for backends that are up, their tools. */
function liveChecks(registry: BackendRegistry): LoadOptions {
  return {
    knownTools: (server) => {
      const backend = registry.get(server);
      if (!backend) return undefined;
      return backend.servesTools() ? backend.toolDefinitions().map((t) => t.name) : null;
    },
    knownServers: registry.names(),
  };
}

function invalid(issues: readonly PipelineIssue[]): GatewayError {
  const n = issues.length;
  return new GatewayError(
    'PIPELINE_INVALID',
    `the custom pipeline is invalid (${n} problem${n === 1 ? '' : 's'}):\n${formatIssues(issues)}`,
    { issues },
  );
}
