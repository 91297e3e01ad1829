/**
 * Pipelines as people and models read them: a run's report, a step event as one line, a pipeline's
 * summary. Shared by the gateway's tools and the command line.
 */
import type { CallToolResult } from '@modelcontextprotocol/server';
import type {
  CompensationResult,
  PipelineIssue,
  PipelineSummary,
  RunResult,
  StepEvent,
  StepRecord,
  TypeProblem,
} from '../pipeline/index.js';
import { formatIssue } from '../pipeline/index.js';
import { problemLine } from './pipeline-types.js';
import { redactEvent, redactRun } from './run-redact.js';
import { jsonResult } from './served-tool.js';

/** `12 ms`, `1.5 s`: durations in a report, rounded to what a person cares about. */
export function ms(value: number): string {
  if (value < 1000) return `${Math.round(value)} ms`;
  return `${(value / 1000).toFixed(value < 10_000 ? 2 : 1)} s`;
}

/** One line for a step event, as progress notifications and `mcp-gateway run` show it. */
export function describeEvent(event: StepEvent): string {
  const step = `step '${event.step}'`;
  switch (event.type) {
    case 'started':
      return `${step} started: ${event.pipeline !== undefined ? `pipeline ${event.pipeline}` : `${event.server}.${event.tool}`}${event.items !== undefined ? ` × ${event.items} items` : ''}`;
    case 'succeeded':
      return `${step} succeeded in ${ms(event.durationMs)}`;
    case 'failed':
      return `${step} failed after ${ms(event.durationMs)}: ${event.error}${event.continued ? ' (on_error: continue)' : ''}`;
    case 'retrying':
      return `${step} retrying in ${ms(event.delayMs)} (attempt ${event.attempt}${event.item !== undefined ? `, item ${event.item}` : ''}): ${event.error}`;
    case 'skipped':
      return `${step} skipped: ${event.reason}`;
    case 'cancelled':
      // The reason reads on: "cancelled: step 'a' failed", "not started: cancelled: …", "cancelled by the caller".
      return `${step} ${event.reason}`;
  }
}

/**
 * Turns step events into MCP progress: `progress` counts finished steps plus a half for each running
 * one, so it rises with every notification as MCP requires; `total` is the number of steps. Retries
 * do not move it and are not sent. A child pipeline's events (`step > child step`) are sent too; each
 * moves its top step's share a little further towards, never to, the next half.
 */
export function progressReporter(
  total: number,
  send: (progress: { progress: number; total: number; message: string }) => void,
): (event: StepEvent) => void {
  let finished = 0;
  /** Running top-level steps → how far their child pipelines got (0 … <0.45). */
  const running = new Map<string, number>();
  let last = 0;
  return (event) => {
    if (event.type === 'retrying') return;
    const nested = event.step.indexOf(' > ');
    if (nested >= 0) {
      const top = event.step.slice(0, nested).replace(/\[\d+\]$/, '');
      const share = running.get(top);
      if (share !== undefined) running.set(top, share + (0.45 - share) / 4);
    } else if (event.type === 'started') running.set(event.step, 0);
    else {
      running.delete(event.step);
      finished++;
    }
    let progress = finished;
    for (const share of running.values()) progress += 0.5 + share;
    if (progress <= last) return;
    last = progress;
    send({ progress, total, message: describeEvent(redactEvent(event)) });
  };
}

/**
 * A run's report for the client: structuredContent with everything, text with a per-step table. Step
 * errors are redacted here, not by the front's catch-all, which passes a successful run on as data.
 */
export function runToolResult(run: RunResult): CallToolResult {
  const result = redactRun(run);
  const succeeded = result.status === 'succeeded';
  const steps: Record<string, StepRecord> = {};
  for (const [id, record] of Object.entries(result.steps)) {
    // The pipeline's output is what a successful run is for; a run that did not get there shows
    // what each step produced, so the caller can see how far it got.
    const { output, ...rest } = record;
    steps[id] = succeeded || output === undefined ? rest : record;
  }
  const data: Record<string, unknown> = {
    pipeline: result.pipeline,
    status: result.status,
    output: result.output,
    ...(result.error !== undefined ? { error: result.error } : {}),
    ...(result.failedStep !== undefined ? { failedStep: result.failedStep } : {}),
    durationMs: Math.round(result.durationMs),
    steps,
    ...(result.compensation ? { compensation: result.compensation } : {}),
  };
  return jsonResult(data, formatRun(result), !succeeded);
}

/** The readable report: a headline, a compact table of steps, and the output. */
export function formatRun(result: RunResult): string {
  const headline =
    result.status === 'succeeded'
      ? `Pipeline '${result.pipeline}' succeeded in ${ms(result.durationMs)}.`
      : `Pipeline '${result.pipeline}' ${result.status} after ${ms(result.durationMs)}: ${result.error ?? result.status}`;
  const parts = [headline, '', stepTable(result.steps)];
  if (result.compensation) {
    parts.push('', `${compensationLine(result.compensation)}.`, '', stepTable(result.compensation.steps));
  }
  if (result.status === 'succeeded') parts.push('', 'Output:', formatValue(result.output));
  return parts.join('\n');
}

/** `on_failure succeeded in 12 ms`, `on_failure failed after 1.2 s: step 'x' failed: …`. */
export function compensationLine(c: CompensationResult): string {
  return c.status === 'succeeded'
    ? `on_failure succeeded in ${ms(c.durationMs)}`
    : `on_failure ${c.status} after ${ms(c.durationMs)}: ${c.error ?? c.status}`;
}

function stepTable(steps: Record<string, StepRecord>): string {
  const rows = Object.entries(steps).map(([id, s]) => [
    id,
    s.status,
    String(s.attempts),
    s.startedAt !== undefined ? ms(s.durationMs) : '-',
    [s.items !== undefined ? `${s.items} items` : '', s.error ?? s.reason ?? ''].filter(Boolean).join('; '),
  ]);
  return table(['step', 'status', 'calls', 'time', 'note'], rows);
}

/** Columns padded to their widest cell; the last column is left ragged. */
export function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all
    .map((r) =>
      r
        .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** A value as text: strings as they are, everything else as indented JSON. */
export function formatValue(value: unknown): string {
  if (typeof value === 'string') return value;
  return JSON.stringify(value, null, 2) ?? 'null';
}

/** `list_pipelines` text: each pipeline with its tool, inputs and steps, or its problems. */
export function formatSummaries(
  dir: string,
  pipelines: (PipelineSummary & { typeProblems?: readonly TypeProblem[] })[],
): string {
  if (pipelines.length === 0) return `No pipelines in ${dir}.`;
  const invalid = pipelines.filter((p) => !p.valid).length;
  const lines = [
    `${pipelines.length} pipeline${pipelines.length === 1 ? '' : 's'} in ${dir}${invalid ? ` (${invalid} invalid)` : ''}:`,
  ];
  for (const p of pipelines) {
    lines.push('');
    if (!p.valid) {
      const serving = p.servingLastGood
        ? '; its last good version keeps serving until the file is fixed'
        : '';
      lines.push(`${p.name} — INVALID (${p.file ?? 'inline'})${serving}`);
      for (const issue of p.issues) lines.push(`  ${formatIssue(issue)}`);
      if (!p.servingLastGood) continue;
      lines.push(`  last good version${p.description ? ` — ${p.description}` : ''}:`);
    } else {
      lines.push(`${p.name}${p.description ? ` — ${p.description}` : ''}`);
    }
    lines.push(`  tool: pipeline__${p.name}`);
    if (p.typeProblems?.length) {
      lines.push('  type problems (it keeps serving):');
      for (const problem of p.typeProblems) lines.push(`    ${problemLine(problem)}`);
    }
    lines.push(`  inputs: ${formatInputs(p)}`);
    lines.push('  steps:');
    const width = Math.max(...p.steps.map((s) => s.id.length));
    for (const s of p.steps) {
      const notes = [s.for_each ? 'for each item' : '', s.needs.length ? `after ${s.needs.join(', ')}` : '']
        .filter(Boolean)
        .join(', ');
      const target = s.pipeline !== undefined ? `pipeline ${s.pipeline}` : `${s.server}.${s.tool}`;
      lines.push(`    ${s.id.padEnd(width)}  ${target}${notes ? `  (${notes})` : ''}`);
    }
  }
  return lines.join('\n');
}

function formatInputs(p: PipelineSummary): string {
  const entries = Object.entries(p.inputsSchema.properties);
  if (entries.length === 0) return 'none';
  return entries
    .map(([name, schema]) => {
      const facts = [
        typeof schema.type === 'string' ? schema.type : undefined,
        p.inputsSchema.required.includes(name) ? 'required' : undefined,
        'default' in schema ? `default ${JSON.stringify(schema.default)}` : undefined,
      ].filter(Boolean);
      return facts.length ? `${name} (${facts.join(', ')})` : name;
    })
    .join(', ');
}

/** Problems as `file:line:col: message` lines, each on its own line. */
export function formatIssues(issues: readonly PipelineIssue[]): string {
  return issues.map(formatIssue).join('\n');
}
