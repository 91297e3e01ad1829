/**
 * The console's record of recent pipeline runs: every run the gateway starts, from any client, kept
 * in memory (the last {@link MAX_RUNS}) with each step's start and end and each call of it — one per
 * for_each item and attempt — for the timeline. Live: a change is told to listeners, at most once per
 * {@link FLUSH_MS} per run, so a wide for_each does not flood the page.
 */
import { randomUUID } from 'node:crypto';
import type { CompiledPipeline, RunResult, StepEvent } from '../pipeline/index.js';
import { secrets } from '../secrets.js';
import type { RunWatch, RunWatcher } from './host.js';
import type { CallView, RunView, StepView } from './types.js';

export const MAX_RUNS = 50;
const FLUSH_MS = 100;
/** Inputs and outputs larger than this (as JSON) are shown cut short. */
const MAX_VALUE_CHARS = 32_000;
/** Calls drawn per step; a for_each of thousands keeps its first ones. */
const MAX_CALLS = 500;

export class RunJournal {
  private readonly runs: RunView[] = [];
  private readonly listeners = new Set<(run: RunView) => void>();

  /** What PipelineHost.watchRuns takes. */
  readonly watcher: RunWatcher = ({ pipeline, inputs }) => this.start(pipeline, inputs);

  list(): RunView[] {
    return [...this.runs].reverse();
  }

  get(id: string): RunView | undefined {
    return this.runs.find((r) => r.id === id);
  }

  onChange(listener: (run: RunView) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The newest run of `pipeline` started at or after `since` (epoch ms): how the page finds the run it asked for. */
  latest(pipeline: string, since: number): RunView | undefined {
    return this.list().find((r) => r.pipeline === pipeline && r.startedAt >= since);
  }

  private start(pipeline: CompiledPipeline, inputs: unknown): RunWatch {
    const run: RunView = {
      id: randomUUID(),
      pipeline: pipeline.name,
      state: 'running',
      startedAt: Date.now(),
      inputs: bounded(inputs),
      steps: [...pipeline.steps.values()].map((s) => ({
        id: s.id,
        target: s.pipeline ? `pipeline ${s.pipeline.name}` : `${s.server}.${s.tool}`,
        state: 'waiting',
        calls: [],
      })),
    };
    this.runs.push(run);
    if (this.runs.length > MAX_RUNS) this.runs.shift();
    const steps = new Map(run.steps.map((s) => [s.id, s]));
    let timer: NodeJS.Timeout | undefined;
    const changed = (now = false) => {
      if (now) {
        clearTimeout(timer);
        timer = undefined;
        this.tell(run);
      } else
        timer ??= setTimeout(() => {
          timer = undefined;
          this.tell(run);
        }, FLUSH_MS);
    };
    const stepFor = (id: string): StepView => {
      let step = steps.get(id);
      if (!step) {
        // A child pipeline's step (`parent > child`): a row of its own under its parent.
        step = { id, target: '', state: 'waiting', calls: [] };
        steps.set(id, step);
        run.steps.push(step);
      }
      return step;
    };
    this.tell(run);
    return {
      event: (e) => {
        applyEvent(stepFor(e.step), e);
        changed();
      },
      // Calls are timed by the engine's clock, as its step events are, so each lies within its step.
      call: (stepId, item, attempt, at) => {
        const step = stepFor(stepId);
        const call: CallView = { attempt, start: Math.round(at), ...(item !== undefined ? { item } : {}) };
        if (step.calls.length < MAX_CALLS) step.calls.push(call);
        changed();
        return (error, endedAt) => {
          call.end = Math.round(endedAt);
          if (error !== undefined) call.error = secrets.redact(error);
          changed();
        };
      },
      ended: (result) => {
        finish(run, result);
        changed(true);
      },
    };
  }

  private tell(run: RunView): void {
    for (const listener of this.listeners) {
      try {
        listener(run);
      } catch {
        // A listener (an SSE stream gone) must not break the run.
      }
    }
  }
}

function applyEvent(step: StepView, e: StepEvent): void {
  switch (e.type) {
    case 'started':
      step.state = 'running';
      step.start = Math.round(e.at);
      if (!step.target)
        step.target = e.pipeline !== undefined ? `pipeline ${e.pipeline}` : `${e.server}.${e.tool}`;
      if (e.items !== undefined) step.items = e.items;
      return;
    case 'retrying':
      return;
    case 'succeeded':
      step.state = 'succeeded';
      step.end = Math.round(e.at);
      step.attempts = e.attempts;
      return;
    case 'failed':
      step.state = 'failed';
      step.end = Math.round(e.at);
      step.attempts = e.attempts;
      step.error = secrets.redact(e.error);
      return;
    case 'skipped':
      step.state = 'skipped';
      step.reason = secrets.redact(e.reason);
      return;
    case 'cancelled':
      step.state = 'cancelled';
      step.end = Math.round(e.at);
      step.reason = secrets.redact(e.reason);
      return;
  }
}

function finish(run: RunView, result: RunResult): void {
  run.state = result.status;
  run.durationMs = result.durationMs;
  if (result.status === 'succeeded') run.output = bounded(result.output);
  if (result.error !== undefined) run.error = secrets.redact(result.error);
  if (result.failedStep !== undefined) run.failedStep = result.failedStep;
  for (const step of run.steps) {
    const record = result.steps[step.id];
    if (!record) continue;
    step.state = record.status;
    if (record.startedAt !== undefined) step.start ??= Math.round(record.startedAt);
    if (record.endedAt !== undefined) step.end ??= Math.round(record.endedAt);
    step.attempts = record.attempts;
    if (record.items !== undefined) step.items = record.items;
  }
}

/** A value as the page may show it: as it is, or its JSON cut short. */
function bounded(value: unknown): unknown {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    return '(not JSON)';
  }
  if (text === undefined || text.length <= MAX_VALUE_CHARS) return value;
  return `${text.slice(0, MAX_VALUE_CHARS)}… (${text.length} characters in all)`;
}
