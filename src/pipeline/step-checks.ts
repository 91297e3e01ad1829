/** Checks and compiled forms of single steps: tool or pipeline call, durations, retry, tools known. */
import { DURATION_PATTERN, parseDuration } from '../config/index.js';
import type { analyzeGraph } from './graph.js';
import { type Collector, type Data, isObject, type Where } from './issue-collector.js';
import { formatPath } from './schema.js';
import { didYouMean, list, sq } from './suggest.js';
import type { ExpressionRef, Segment, Template } from './template.js';
import type { CompiledStep, KnownTools, PipelineCall, RetryPolicy } from './types.js';

export const DEFAULT_RETRY_BACKOFF_MS = 100;
export const DEFAULT_RETRY_FACTOR = 2;
export const DEFAULT_RETRY_MAX_BACKOFF_MS = 30_000;

export type Section = 'steps' | 'on_failure';

/** A step as read so far, before its graph is known. */
export interface StepDraft {
  id: string;
  section: Section;
  raw: Data;
  args?: Template;
  when?: Template;
  forEach?: Template;
  refs: string[];
}

export function reportGraph(
  graph: ReturnType<typeof analyzeGraph<Where>>,
  ids: readonly string[],
  out: Collector,
): void {
  for (const edge of graph.unknown) {
    const hint = didYouMean(edge.dependsOn, ids, sq);
    out.error(
      edge.where,
      edge.kind === 'needs'
        ? `step ${sq(edge.step)} needs unknown step ${sq(edge.dependsOn)}${hint}`
        : `step ${sq(edge.step)} references unknown step ${sq(edge.dependsOn)}${hint}`,
    );
  }
  for (const edge of graph.selfRefs) {
    out.error(
      edge.where,
      edge.kind === 'needs'
        ? `step ${sq(edge.step)} needs itself`
        : `step ${sq(edge.step)} references its own result`,
    );
  }
  for (const cycle of graph.cycles) out.error(cycle.edge.where, `cycle: ${cycle.path.join(' -> ')}`);
}

export function compiledStep(
  draft: StepDraft,
  graph: ReturnType<typeof analyzeGraph<Where>>,
  out: Collector,
): CompiledStep {
  const raw = draft.raw;
  const base: Segment[] = [draft.section, draft.id];
  const pos = out.locate(base);
  const call = pipelineCall(raw, base, out);
  return {
    id: draft.id,
    server: call ? '' : (raw.server as string),
    tool: call ? '' : (raw.tool as string),
    ...(call ? { pipeline: call } : {}),
    ...(typeof raw.description === 'string' ? { description: raw.description } : {}),
    ...(draft.args ? { args: draft.args } : {}),
    ...(draft.when ? { when: draft.when } : {}),
    ...(draft.forEach ? { forEach: draft.forEach } : {}),
    ...(typeof raw.concurrency === 'number' ? { concurrency: raw.concurrency } : {}),
    ...(raw.timeout !== undefined ? { timeoutMs: parseDuration(raw.timeout as string | number) } : {}),
    retry: retryPolicy(raw.retry),
    onError: raw.on_error === 'continue' ? 'continue' : 'fail',
    ...(raw.parse === 'json' || raw.parse === 'text' ? { parse: raw.parse } : {}),
    needs: Array.isArray(raw.needs) ? (raw.needs as string[]) : [],
    refs: draft.refs,
    dependsOn: graph.deps.get(draft.id) ?? [],
    dependents: graph.dependents.get(draft.id) ?? [],
    line: pos.line,
    column: pos.column,
  };
}

/** A step calls a tool or a pipeline, not both; `parse` reads a tool's result, so only a tool step has it. */
export function checkPipelineStep(raw: Data, base: Segment[], out: Collector): void {
  if (raw.pipeline === undefined) return;
  for (const key of ['server', 'tool', 'parse'] as const) {
    if (raw[key] === undefined) continue;
    out.error(
      { path: [...base, key] },
      key === 'parse'
        ? `${formatPath(base)}: parse only applies to a tool step; a pipeline step's output is the pipeline's output`
        : `${formatPath(base)}: a step calls a tool (server and tool) or a pipeline, not both; remove ${sq(key)} or ${sq('pipeline')}`,
      'key',
    );
  }
}

function pipelineCall(raw: Data, base: Segment[], out: Collector): PipelineCall | undefined {
  if (typeof raw.pipeline !== 'string') return undefined;
  const at = out.locate([...base, 'pipeline']);
  const argsAt = isObject(raw.args) || typeof raw.args === 'string' ? out.locate([...base, 'args']) : at;
  const inputs = isObject(raw.args)
    ? Object.keys(raw.args).map((name) => ({ name, ...out.locate([...base, 'args', name]) }))
    : raw.args === undefined
      ? []
      : undefined;
  return {
    name: raw.pipeline,
    line: at.line,
    column: at.column,
    argsAt: { line: argsAt.line, column: argsAt.column },
    ...(inputs ? { inputs } : {}),
  };
}

export function checkInputRef(site: ExpressionRef, names: string[], out: Collector): void {
  const name = site.input;
  if (name === undefined || names.includes(name)) return;
  const known = names.length > 0 ? `; inputs: ${list(names)}` : '; the pipeline declares no inputs';
  out.error({ path: site.path, site }, `unknown input ${sq(name)}${didYouMean(name, names, sq)}${known}`);
}

export function checkDuration(value: unknown, path: Segment[], out: Collector, positive: boolean): void {
  if (value === undefined) return;
  if (typeof value !== 'string' && typeof value !== 'number') return; // the schema reports it
  let ms: number;
  try {
    ms = parseDuration(value);
  } catch (err) {
    // The schema's pattern reports malformed values; this catches the rest (too large).
    if (typeof value === 'number' || new RegExp(DURATION_PATTERN).test(value)) {
      out.error({ path }, `${formatPath(path)}: ${(err as Error).message}`);
    }
    return;
  }
  if (positive && ms === 0) out.error({ path }, `${formatPath(path)}: must be more than 0`);
}

function retryPolicy(raw: unknown): RetryPolicy {
  if (!isObject(raw)) {
    return {
      attempts: 1,
      backoffMs: DEFAULT_RETRY_BACKOFF_MS,
      factor: DEFAULT_RETRY_FACTOR,
      maxBackoffMs: DEFAULT_RETRY_MAX_BACKOFF_MS,
    };
  }
  return {
    attempts: typeof raw.attempts === 'number' ? raw.attempts : 1,
    backoffMs:
      raw.backoff !== undefined ? parseDuration(raw.backoff as string | number) : DEFAULT_RETRY_BACKOFF_MS,
    factor: typeof raw.factor === 'number' ? raw.factor : DEFAULT_RETRY_FACTOR,
    maxBackoffMs:
      raw.max_backoff !== undefined
        ? parseDuration(raw.max_backoff as string | number)
        : DEFAULT_RETRY_MAX_BACKOFF_MS,
  };
}

export function checkTools(
  drafts: StepDraft[],
  known: KnownTools,
  knownServers: readonly string[] | undefined,
  out: Collector,
): void {
  const lookup = typeof known === 'function' ? known : (server: string) => known.get(server);
  const servers = typeof known === 'function' ? (knownServers ?? []) : [...known.keys()];
  for (const { id, section, raw } of drafts) {
    if (typeof raw.server !== 'string' || raw.pipeline !== undefined) continue;
    const tools = lookup(raw.server);
    if (tools === undefined) {
      out.error(
        { path: [section, id, 'server'] },
        `unknown server ${sq(raw.server)}${didYouMean(raw.server, servers, sq)}; servers: ${list([...servers])}`,
      );
    } else if (tools !== null && typeof raw.tool === 'string' && !tools.includes(raw.tool)) {
      out.error(
        { path: [section, id, 'tool'] },
        `server ${sq(raw.server)} has no tool ${sq(raw.tool)}${didYouMean(raw.tool, tools, sq)}; its tools: ${list([...tools])}`,
      );
    }
  }
}
