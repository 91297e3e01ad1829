/**
 * One step's bookkeeping during a run — where it is (waiting, queued, running, done), its for_each
 * items and how many of their calls are open or finished, each call's output and failure — and how
 * that state is shaped into what others read: its started / ended events, its `$.steps.<id>`
 * (StepResult), its RunResult.steps record (StepRecord), and its share of the default run output.
 */
import type { ContentBlock } from '@modelcontextprotocol/server';
import type { ChildRunRecord, CompiledStep, StepEvent, StepRecord, StepResult, StepStatus } from './types.js';

export type Phase = 'waiting' | 'queued' | 'running' | 'done';

export interface Failure {
  message: string;
  retryable: boolean;
}

export class StepRun {
  phase: Phase = 'waiting';
  status: StepStatus | undefined;
  remaining: number;
  /** for_each values; undefined for a single call. */
  items: unknown[] | undefined;
  total = 1;
  next = 0;
  open = 0;
  finished = 0;
  limit = 1;
  attempts = 0;
  args: (Record<string, unknown> | undefined)[] = [];
  outputs: unknown[] = [];
  texts: string[] = [];
  contents: ContentBlock[][] = [];
  failures: (Failure | undefined)[] = [];
  /** A pipeline step: each call's child run. */
  children: (ChildRunRecord | undefined)[] = [];
  error: string | undefined;
  reason: string | undefined;
  startedAt: number | undefined;
  endedAt: number | undefined;

  constructor(
    readonly step: CompiledStep,
    readonly deps: readonly number[],
    readonly dependents: readonly number[],
  ) {
    this.remaining = deps.length;
  }
}

/** The step's `started` event: its first call (or its empty for_each) begins. */
export function startedEvent(r: StepRun, at: number): StepEvent {
  const { step } = r;
  return {
    type: 'started',
    step: step.id,
    at,
    server: step.server,
    tool: step.tool,
    ...(r.items ? { items: r.items.length } : {}),
    ...(step.pipeline ? { pipeline: step.pipeline.name } : {}),
  };
}

/** The step's `succeeded` or `failed` event. */
export function endedEvent(
  r: StepRun,
  status: 'succeeded' | 'failed',
  at: number,
  durationMs: number,
): StepEvent {
  const { id } = r.step;
  if (status === 'succeeded') return { type: 'succeeded', step: id, at, durationMs, attempts: r.attempts };
  return {
    type: 'failed',
    step: id,
    server: r.step.server,
    tool: r.step.tool,
    at,
    durationMs,
    attempts: r.attempts,
    error: r.error ?? 'failed',
    retryable: r.failures.some((f) => f?.retryable === true),
    continued: r.step.onError === 'continue',
  };
}

/** `$.steps.<id>` of a step that ended succeeded or failed. */
export function stepResult(r: StepRun, status: 'succeeded' | 'failed', durationMs: number): StepResult {
  const result: StepResult = {
    status,
    output: r.items ? r.outputs : r.outputs[0],
    text: r.items ? r.texts : (r.texts[0] ?? ''),
    content: r.items ? r.contents : (r.contents[0] ?? []),
    isError: r.failures.some((f) => f !== undefined),
    attempts: r.attempts,
    durationMs,
  };
  if (r.error !== undefined) result.error = r.error;
  return result;
}

/** The step's entry in RunResult.steps. */
export function stepRecord(r: StepRun): StepRecord {
  const rec: StepRecord = {
    status: r.status ?? 'cancelled',
    attempts: r.attempts,
    durationMs: r.startedAt !== undefined && r.endedAt !== undefined ? r.endedAt - r.startedAt : 0,
  };
  if (r.startedAt !== undefined) rec.startedAt = r.startedAt;
  if (r.endedAt !== undefined) rec.endedAt = r.endedAt;
  if (r.error !== undefined) rec.error = r.error;
  if (r.reason !== undefined) rec.reason = r.reason;
  if (r.status === 'succeeded' || r.status === 'failed') {
    const output = r.items ? r.outputs : r.outputs[0];
    if (output !== undefined) rec.output = output;
  }
  if (r.items) rec.items = r.items.length;
  if (r.step.pipeline) {
    if (r.items) rec.children = Array.from({ length: r.items.length }, (_, i) => r.children[i] ?? null);
    else if (r.children[0]) rec.child = r.children[0];
  }
  return rec;
}

/** The run's output when the file has no `output` section: step id → output, skipped steps left out. */
export function defaultOutput(runs: readonly StepRun[]): Record<string, unknown> {
  const entries: [string, unknown][] = [];
  for (const r of runs) {
    const value = r.status === 'skipped' ? undefined : r.items ? r.outputs : r.outputs[0];
    if (value !== undefined) entries.push([r.step.id, value]);
  }
  return Object.fromEntries(entries);
}
