/**
 * The data-flow type check in the served gateway. The catalog is checked against the backends'
 * tool schemas as they are now — after every reload, and whenever a backend connects or its tool
 * list changes — and each pipeline tool gets its derived output schema. A type problem found this
 * way is reported (log and `list_pipelines`) but does not unload a pipeline that serves: a
 * backend's schema changing under a working pipeline is news, not a reason to stop serving it.
 */

import type { CallToolResult, Tool } from '@modelcontextprotocol/server';
import { Ajv, type ValidateFunction } from 'ajv';
import type { BackendRegistry } from '../backends/index.js';
import type { Logger } from '../log.js';
import {
  type Catalog,
  type CatalogEntry,
  type CompiledPipeline,
  catalogTypeEnv,
  checkCatalogTypes,
  deriveOutputSchema,
  formatIssue,
  servedPipeline,
  type ToolShape,
  type TypeProblem,
} from '../pipeline/index.js';

type ToolLookup = (server: string, tool: string) => ToolShape | undefined;

/** The tools of the backends serving tools now, by server and name. */
export function liveTools(registry: BackendRegistry): ToolLookup {
  const cache = new Map<string, Map<string, ToolShape> | undefined>();
  return (server, tool) => {
    if (!cache.has(server)) {
      const backend = registry.get(server);
      const tools = backend?.servesTools()
        ? new Map(backend.toolDefinitions().map((t) => [t.name, t] as const))
        : undefined;
      cache.set(server, tools);
    }
    return cache.get(server)?.get(tool);
  };
}

export class PipelineTypeReport {
  /** File → its type problems (only files that have some). */
  private problems = new Map<string, TypeProblem[]>();
  private schemas = new WeakMap<CompiledPipeline, Tool['outputSchema']>();
  private schemaKey = '';

  constructor(private readonly logger: Logger) {}

  /**
   * Check every pipeline that serves; log what changed since the last check (new or different
   * problems as warnings, problems gone as info). Returns whether any pipeline tool's output
   * schema changed, so the caller can send tools/list_changed.
   */
  update(catalog: Catalog, tools: ToolLookup): boolean {
    const entries = serving(catalog);
    const problems = checkCatalogTypes(entries, tools);
    this.log(entries, problems);
    this.problems = problems;
    const env = catalogTypeEnv(entries, tools);
    const schemas = new WeakMap<CompiledPipeline, Tool['outputSchema']>();
    const keys: string[] = [];
    for (const entry of entries) {
      const pipeline = servedPipeline(entry)!;
      const schema = runReportSchema(deriveOutputSchema(pipeline, env));
      schemas.set(pipeline, schema);
      keys.push(`${entry.file}\n${JSON.stringify(schema)}`);
    }
    this.schemas = schemas;
    const key = keys.join('\n');
    const changed = key !== this.schemaKey;
    this.schemaKey = key;
    return changed;
  }

  problemsOf(file: string): readonly TypeProblem[] {
    return this.problems.get(file) ?? [];
  }

  outputSchema(pipeline: CompiledPipeline): Tool['outputSchema'] | undefined {
    return this.schemas.get(pipeline);
  }

  private log(entries: readonly CatalogEntry[], next: ReadonlyMap<string, TypeProblem[]>): void {
    for (const entry of entries) {
      const before = text(this.problems.get(entry.file));
      const after = text(next.get(entry.file));
      if (before === after) continue;
      if (after === '') {
        this.logger.info(`pipeline '${entry.name}': no type problems now`);
        continue;
      }
      const found = next.get(entry.file)!;
      const errors = found.filter((p) => p.severity === 'error').length;
      this.logger.warn(
        `pipeline '${entry.name}' has ${found.length} type problem(s)${errors ? ` (${errors} error(s))` : ''}; it keeps serving:`,
      );
      for (const p of found) this.logger.warn(problemLine(p));
    }
  }
}

/** `file:line:col: error: message [TYPE_MISMATCH]`. */
export function problemLine(p: TypeProblem): string {
  return formatIssue({ ...p, message: `${p.severity}: ${p.message} [${p.code}]` });
}

function text(problems: readonly TypeProblem[] | undefined): string {
  return problems ? problems.map(problemLine).join('\n') : '';
}

/** The entries whose pipelines serve (the first of each name). */
function serving(catalog: Catalog): CatalogEntry[] {
  return catalog.list().filter((e) => catalog.get(e.name) === e && servedPipeline(e) !== undefined);
}

/**
 * The outputSchema of `pipeline__<name>`: the run report the tool returns as structuredContent, with
 * `output` as derived. Nothing is required, so an error's `{ error, code }` fits it too.
 */
export function runReportSchema(output: Record<string, unknown>): Tool['outputSchema'] {
  return {
    type: 'object',
    properties: {
      pipeline: { type: 'string' },
      status: { type: 'string', enum: ['succeeded', 'failed', 'cancelled'] },
      output: { anyOf: [output, { type: 'null' }] },
      error: { type: 'string' },
      failedStep: { type: 'string' },
      durationMs: { type: 'number' },
      steps: { type: 'object' },
      compensation: { type: 'object' },
    },
  };
}

let ajv: Ajv | undefined;
const validators = new WeakMap<object, ValidateFunction>();

/**
 * A result whose structuredContent does not match the tool's outputSchema would be refused by the
 * client; that happens only when a backend returned data its own output schema does not describe
 * (the gateway passes backend results on without checking them). Such a result becomes an error
 * that says so, without the structuredContent.
 */
export function keepToSchema(
  result: CallToolResult,
  schema: Tool['outputSchema'] | undefined,
): CallToolResult {
  if (!schema || result.structuredContent === undefined) return result;
  let validate = validators.get(schema);
  if (!validate) {
    ajv ??= new Ajv({ strict: false, allErrors: false, logger: false });
    validate = ajv.compile(schema);
    validators.set(schema, validate);
  }
  if (validate(result.structuredContent)) return result;
  const where = validate.errors?.[0];
  const detail = where ? `${where.instancePath || '/'} ${where.message ?? ''}`.trim() : 'it does not match';
  return {
    content: [
      ...result.content,
      {
        type: 'text',
        text: `The run's result does not match this tool's output schema (${detail}): a backend returned data its outputSchema does not describe.`,
      },
    ],
    isError: true,
  };
}
