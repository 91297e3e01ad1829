/**
 * Runs a CompiledPipeline. Event-driven: a step is looked at exactly when its last dependency
 * finishes, and a call starts exactly when a concurrency slot frees up; there is no polling.
 * See ARCHITECTURE.md for the flow and the rules.
 */
import type { ContentBlock } from '@modelcontextprotocol/server';
import type { ToolInvoker } from '../backends/types.js';
import { formatDuration, MAX_DURATION_MS } from '../config/index.js';
import { errorMessage, GatewayError, type GatewayErrorCode, isGatewayError } from '../errors.js';
import { type ChildRunOptions, callChild } from './child-runs.js';
import { compensate, type SectionBase } from './compensation.js';
import { type ExpressionContext, evaluateCondition, render } from './expr.js';
import { prepareInputs } from './inputs.js';
import { type CallOutcome, interpretResult } from './result.js';
import { sq } from './suggest.js';
import type {
  CallHooks,
  ChildRunRecord,
  CompiledPipeline,
  CompiledStep,
  RunHooks,
  RunObserver,
  RunResult,
  RunStatus,
  StepEvent,
  StepRecord,
  StepResult,
  StepStatus,
} from './types.js';

export const DEFAULT_STEP_TIMEOUT_MS = 10_000;

export interface RunOptions extends ChildRunOptions {
  invoker: ToolInvoker;
  /** Aborting it cancels the run: running calls get MCP cancellation, the run ends 'cancelled'. */
  signal?: AbortSignal;
  /** Called synchronously as steps start, retry and end; exceptions are ignored. */
  onEvent?: (event: StepEvent) => void;
  /** Per-call timeout when neither the step nor `timeoutFor` gives one. Default 10 s. */
  defaultTimeoutMs?: number;
  /** The backend's own timeout, if it has one. */
  timeoutFor?: (server: string) => number | undefined;
  /** A monotonic clock in milliseconds; default `performance.now`. */
  now?: () => number;
  /** Convert string inputs to their declared types ("10" → 10), for command lines. */
  coerceInputs?: boolean;
  /** Hears the run (and child runs) for tracing and metrics. */
  observer?: RunObserver;
  /** Opaque: the trace the run belongs to, handed to `observer` (see RunObserver). */
  trace?: unknown;
}

/** Codes where calling again cannot help. */
const NOT_RETRYABLE = new Set<GatewayErrorCode>([
  'BACKEND_UNKNOWN',
  'TOOL_UNKNOWN',
  'PARAMS_INVALID',
  'BACKEND_REMOVED',
  'BACKEND_CANCELLED',
  // Asking a recording again gives the same answer.
  'REPLAY_MISSING',
]);
/** JSON-RPC codes of an upstream ProtocolError where calling again cannot help: method not found, invalid params. */
const NOT_RETRYABLE_RPC = new Set([-32601, -32602]);

/** Whether calling again after `err` (thrown by a ToolInvoker) may succeed. */
export function isRetryable(err: unknown): boolean {
  if (isGatewayError(err)) return !NOT_RETRYABLE.has(err.code);
  const code = (err as { code?: unknown } | null)?.code;
  return !(typeof code === 'number' && NOT_RETRYABLE_RPC.has(code));
}

/**
 * Run `pipeline` with `inputs` (validated against its `inputs`, defaults applied). Throws a
 * GatewayError `PARAMS_INVALID` naming each bad input before anything runs; otherwise resolves,
 * never rejects: step failures, the deadline and cancellation are in the RunResult.
 */
export async function runPipeline(
  pipeline: CompiledPipeline,
  inputs: unknown,
  options: RunOptions,
): Promise<RunResult> {
  const prepared = prepareInputs(pipeline, inputs, { coerce: options.coerceInputs === true });
  if (!prepared.ok) {
    throw new GatewayError('PARAMS_INVALID', `pipeline ${sq(pipeline.name)}: ${prepared.errors.join('; ')}`, {
      pipeline: pipeline.name,
      errors: prepared.errors,
    });
  }
  const hooks = options.observer?.runStarted(pipeline, options.trace);
  const run = new Run(pipeline, prepared.inputs, options, undefined, hooks);
  const result = await run.start();
  if (pipeline.onFailure && result.status !== 'succeeded') {
    result.compensation = await compensate(pipeline.onFailure, result, run.results, (section, base) =>
      new Run(section, prepared.inputs, { ...options, signal: undefined }, base).start(),
    );
  }
  hooks?.ended(result);
  return result;
}

type AbortKind = 'failed' | 'deadline' | 'caller';
interface AbortState {
  kind: AbortKind;
  message: string;
  step?: string;
  at: number;
}

type Phase = 'waiting' | 'queued' | 'running' | 'done';

interface Failure {
  message: string;
  retryable: boolean;
}

class StepRun {
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

interface Call {
  controller: AbortController;
  timer: ReturnType<typeof setTimeout> | undefined;
  hooks: CallHooks | undefined;
}

/** A FIFO pool of slots; `request` runs its callback as soon as a slot is free. */
class Slots {
  private queue: ((() => void) | undefined)[] = [];
  private head = 0;
  constructor(private free: number) {}

  request(grant: () => void): void {
    if (this.free > 0) {
      this.free--;
      grant();
    } else this.queue.push(grant);
  }

  release(): void {
    if (this.head < this.queue.length) {
      const grant = this.queue[this.head]!;
      this.queue[this.head++] = undefined;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      grant();
    } else this.free++;
  }

  clear(): void {
    this.queue = [];
    this.head = 0;
  }
}

class Run {
  private readonly runs: StepRun[];
  private readonly byId = new Map<string, number>();
  private readonly ctx: ExpressionContext;
  private readonly slots: Slots;
  private readonly now: () => number;
  private readonly t0: number;
  private readonly inflight = new Set<Call>();
  private readonly backoffs = new Set<ReturnType<typeof setTimeout>>();
  private readonly ready: number[] = [];
  private readyHead = 0;
  private draining = false;
  private terminal = 0;
  private aborted: AbortState | undefined;
  private done = false;
  private deadline: ReturnType<typeof setTimeout> | undefined;
  private resolve!: (result: RunResult) => void;
  private readonly onCallerAbort = () => this.abort('caller', callerMessage(this.options.signal));

  constructor(
    private readonly pipeline: CompiledPipeline,
    inputs: Record<string, unknown>,
    private readonly options: RunOptions,
    base?: SectionBase,
    private readonly hooks?: RunHooks,
  ) {
    this.now = options.now ?? (() => performance.now());
    this.t0 = this.now();
    // An on_failure run starts from the main run's step results (read, never waited for) and `failure`.
    const steps = Object.assign(Object.create(null) as Record<string, unknown>, base?.steps);
    this.ctx = { inputs, steps, ...(base ? { failure: base.failure } : {}) };
    this.slots = new Slots(pipeline.concurrency);
    for (const id of pipeline.steps.keys()) this.byId.set(id, this.byId.size);
    this.runs = [...pipeline.steps.values()].map(
      (step) =>
        new StepRun(
          step,
          step.dependsOn.map((d) => this.byId.get(d)!),
          step.dependents.map((d) => this.byId.get(d)!),
        ),
    );
  }

  /** `$.steps` as the run left it: each finished step's StepResult. */
  get results(): Readonly<Record<string, unknown>> {
    return this.ctx.steps;
  }

  start(): Promise<RunResult> {
    const promise = new Promise<RunResult>((resolve) => {
      this.resolve = resolve;
    });
    const { signal } = this.options;
    if (signal?.aborted) {
      this.abort('caller', callerMessage(signal));
      return promise;
    }
    signal?.addEventListener('abort', this.onCallerAbort, { once: true });
    if (this.pipeline.timeoutMs !== undefined) {
      const ms = this.pipeline.timeoutMs;
      this.deadline = setTimeout(
        () =>
          this.abort('deadline', `pipeline ${sq(this.pipeline.name)} timed out after ${formatDuration(ms)}`),
        Math.min(ms, MAX_DURATION_MS),
      );
    }
    this.runs.forEach((r, i) => {
      if (r.remaining === 0) this.ready.push(i);
    });
    this.drain();
    this.maybeFinish();
    return promise;
  }

  private at(): number {
    return this.now() - this.t0;
  }

  private emit(event: StepEvent): void {
    if (!this.options.onEvent && !this.hooks) return;
    try {
      this.hooks?.event(event);
      this.options.onEvent?.(event);
    } catch {
      // A listener's bug must not break the run.
    }
  }

  /** Look at each step whose dependencies are all done, in the order they became ready. */
  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.readyHead < this.ready.length) this.consider(this.ready[this.readyHead++]!);
    } finally {
      this.draining = false;
    }
  }

  private consider(index: number): void {
    if (this.aborted) return;
    const r = this.runs[index]!;
    const { step } = r;
    if (!step.when) {
      const blocker = r.deps.find((d) => {
        const status = this.runs[d]!.status;
        return status === 'skipped' || status === 'cancelled';
      });
      if (blocker !== undefined) {
        this.skip(r, `dependency ${sq(this.runs[blocker]!.step.id)} was skipped`);
        return;
      }
    } else {
      let go: boolean;
      try {
        go = evaluateCondition(step.when, this.ctx);
      } catch (err) {
        this.stepFailed(r, `when: ${errorMessage(err)}`);
        return;
      }
      if (!go) {
        this.skip(r, 'when is false');
        return;
      }
    }
    if (step.forEach) {
      let items: unknown;
      try {
        items = render(step.forEach, this.ctx);
      } catch (err) {
        this.stepFailed(r, `for_each: ${errorMessage(err)}`);
        return;
      }
      if (!Array.isArray(items)) {
        this.stepFailed(r, `for_each must yield a list; it yielded ${describe(items)}`);
        return;
      }
      r.items = items;
      r.total = items.length;
      r.limit = step.concurrency ?? this.pipeline.concurrency;
      if (r.total === 0) {
        this.markStarted(r);
        this.complete(r);
        return;
      }
    }
    r.phase = 'queued';
    this.pump(r);
  }

  /** Ask for slots for as many of the step's calls as its own bound allows. */
  private pump(r: StepRun): void {
    while (r.next < r.total && r.open < r.limit) {
      const item = r.next++;
      r.open++;
      this.slots.request(() => this.call(r, item, 1));
    }
  }

  private markStarted(r: StepRun): void {
    if (r.startedAt !== undefined) return;
    r.phase = 'running';
    r.startedAt = this.at();
    const { step } = r;
    this.emit({
      type: 'started',
      step: step.id,
      at: r.startedAt,
      server: step.server,
      tool: step.tool,
      ...(r.items ? { items: r.items.length } : {}),
      ...(step.pipeline ? { pipeline: step.pipeline.name } : {}),
    });
  }

  /** Make one call; the caller holds a slot for it. */
  private call(r: StepRun, item: number, attempt: number): void {
    if (this.aborted) {
      this.slots.release();
      return;
    }
    this.markStarted(r);
    const { step } = r;
    let args = r.args[item];
    if (args === undefined) {
      try {
        args = this.argsFor(r, item);
      } catch (err) {
        this.slots.release();
        this.itemFailed(r, item, { message: `args: ${errorMessage(err)}`, retryable: false });
        this.drain();
        this.maybeFinish();
        return;
      }
      r.args[item] = args;
    }
    // A child pipeline has its own step timeouts and deadline: only its step's `timeout` bounds it.
    const stepTimeout = step.pipeline
      ? step.timeoutMs
      : (step.timeoutMs ??
        this.options.timeoutFor?.(step.server) ??
        this.options.defaultTimeoutMs ??
        DEFAULT_STEP_TIMEOUT_MS);
    const timeoutMs = stepTimeout === undefined ? undefined : Math.min(stepTimeout, MAX_DURATION_MS);
    const controller = new AbortController();
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(
            () =>
              controller.abort(
                new GatewayError('BACKEND_TIMEOUT', `timed out after ${formatDuration(timeoutMs)}`),
              ),
            timeoutMs,
          );
    const hooks = this.hooks?.call(step.id, r.items ? item : undefined, attempt);
    const call: Call = { controller, timer, hooks };
    this.inflight.add(call);
    r.attempts++;
    const { signal } = controller;
    new Promise<CallOutcome>((resolve, reject) => {
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      try {
        if (step.pipeline) {
          const at = this.at();
          callChild(
            { parent: this.pipeline, step, ...(r.items ? { item } : {}), inputs: args, signal, at },
            hooks ? { ...this.options, trace: hooks.trace } : this.options,
            runPipeline,
          ).then(({ outcome, record }) => {
            if (record) r.children[item] = record;
            resolve(outcome);
          }, reject);
        } else {
          this.options.invoker
            .callTool(step.server, step.tool, args, {
              signal,
              timeoutMs: timeoutMs ?? MAX_DURATION_MS,
              ...(hooks ? { trace: hooks.trace } : {}),
            })
            .then((result) => resolve(interpretResult(result, step.parse)), reject);
        }
      } catch (err) {
        reject(err);
      }
    }).then(
      (outcome) => this.callDone(r, item, attempt, call, outcome),
      (err: unknown) => this.callDone(r, item, attempt, call, failedCall(err ?? new Error('call failed'))),
    );
  }

  private argsFor(r: StepRun, item: number): Record<string, unknown> {
    const { step } = r;
    if (!step.args) return {};
    const ctx = r.items ? { ...this.ctx, item: r.items[item], index: item } : this.ctx;
    const value = render(step.args, ctx);
    if (value === undefined || value === null) return {};
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw new Error(`must yield a mapping; it yielded ${describe(value)}`);
    }
    return value as Record<string, unknown>;
  }

  private callDone(r: StepRun, item: number, attempt: number, call: Call, outcome: CallOutcome): void {
    call.hooks?.end(outcome.ok ? undefined : outcome.message);
    clearTimeout(call.timer);
    this.inflight.delete(call);
    this.slots.release();
    if (this.aborted) {
      this.maybeFinish();
      return;
    }
    const { step } = r;
    r.texts[item] = outcome.text;
    r.contents[item] = outcome.content;
    if (outcome.ok) {
      r.outputs[item] = outcome.output;
      r.open--;
      r.finished++;
      if (r.finished === r.total) this.complete(r);
      else this.pump(r);
    } else if (outcome.retryable && attempt < step.retry.attempts) {
      const { backoffMs, factor, maxBackoffMs } = step.retry;
      const delayMs = Math.min(backoffMs * factor ** (attempt - 1), maxBackoffMs, MAX_DURATION_MS);
      this.emit({
        type: 'retrying',
        step: step.id,
        at: this.at(),
        attempt: attempt + 1,
        delayMs,
        error: outcome.message,
        ...(r.items ? { item } : {}),
      });
      const timer = setTimeout(() => {
        this.backoffs.delete(timer);
        this.slots.request(() => this.call(r, item, attempt + 1));
      }, delayMs);
      this.backoffs.add(timer);
    } else {
      this.itemFailed(r, item, outcome);
    }
    this.drain();
    this.maybeFinish();
  }

  private itemFailed(r: StepRun, item: number, failure: Failure): void {
    r.failures[item] = failure;
    r.outputs[item] = null;
    r.open--;
    r.finished++;
    const message = r.items ? `item ${item}: ${failure.message}` : failure.message;
    if (r.step.onError === 'fail') this.stepFailed(r, message);
    else if (r.finished === r.total) this.complete(r);
    else this.pump(r);
  }

  /** All of the step's calls are done (on_error: continue lets some have failed). */
  private complete(r: StepRun): void {
    const firstFailure = r.failures.findIndex((f) => f !== undefined);
    if (firstFailure >= 0) {
      const message = r.failures[firstFailure]!.message;
      this.stepFailed(r, r.items ? `item ${firstFailure}: ${message}` : message);
      return;
    }
    this.finishStep(r, 'succeeded');
  }

  private stepFailed(r: StepRun, message: string): void {
    r.error = message;
    this.finishStep(r, 'failed');
    if (r.step.onError === 'fail') {
      this.abort('failed', `step ${sq(r.step.id)} failed: ${message}`, r.step.id);
    }
  }

  private skip(r: StepRun, reason: string): void {
    r.reason = reason;
    r.status = 'skipped';
    r.phase = 'done';
    this.ctx.steps[r.step.id] = { status: 'skipped', attempts: 0, durationMs: 0 } satisfies StepResult;
    this.emit({ type: 'skipped', step: r.step.id, at: this.at(), reason });
    this.settle(r);
  }

  private finishStep(r: StepRun, status: 'succeeded' | 'failed'): void {
    r.status = status;
    r.phase = 'done';
    r.startedAt ??= this.at();
    r.endedAt = this.at();
    const durationMs = r.endedAt - r.startedAt;
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
    this.ctx.steps[r.step.id] = result;
    const { id } = r.step;
    if (status === 'succeeded') {
      this.emit({ type: 'succeeded', step: id, at: r.endedAt, durationMs, attempts: r.attempts });
    } else {
      this.emit({
        type: 'failed',
        step: id,
        server: r.step.server,
        tool: r.step.tool,
        at: r.endedAt,
        durationMs,
        attempts: r.attempts,
        error: r.error ?? 'failed',
        retryable: r.failures.some((f) => f?.retryable === true),
        continued: r.step.onError === 'continue',
      });
    }
    this.settle(r);
  }

  /** The step is terminal: count it and look at the dependents it was the last dependency of. */
  private settle(r: StepRun): void {
    this.terminal++;
    if (this.aborted) return;
    for (const d of r.dependents) {
      if (--this.runs[d]!.remaining === 0) this.ready.push(d);
    }
  }

  private abort(kind: AbortKind, message: string, step?: string): void {
    if (this.aborted || this.done) return;
    this.aborted = { kind, message, at: this.at(), ...(step !== undefined ? { step } : {}) };
    if (this.deadline) clearTimeout(this.deadline);
    for (const timer of this.backoffs) clearTimeout(timer);
    this.backoffs.clear();
    this.slots.clear();
    const reason = new GatewayError('BACKEND_CANCELLED', cancelReason(this.aborted));
    for (const call of this.inflight) call.controller.abort(reason);
    this.maybeFinish();
  }

  private maybeFinish(): void {
    if (this.done) return;
    if (this.aborted ? this.inflight.size === 0 : this.terminal === this.runs.length) this.finish();
  }

  private finish(): void {
    this.done = true;
    if (this.deadline) clearTimeout(this.deadline);
    this.options.signal?.removeEventListener('abort', this.onCallerAbort);
    const aborted = this.aborted;
    if (aborted) this.closeUnfinished(aborted);

    let status: RunStatus = aborted ? (aborted.kind === 'caller' ? 'cancelled' : 'failed') : 'succeeded';
    let error = aborted?.message;
    let output: unknown = null;
    if (status === 'succeeded') {
      try {
        output = this.pipeline.output
          ? (render(this.pipeline.output, this.ctx) ?? null)
          : this.defaultOutput();
      } catch (err) {
        status = 'failed';
        error = `output: ${errorMessage(err)}`;
      }
    }
    const steps: Record<string, StepRecord> = {};
    for (const r of this.runs)
      Object.defineProperty(steps, r.step.id, { value: record(r), enumerable: true });
    const result: RunResult = {
      pipeline: this.pipeline.name,
      status,
      output,
      ...(error !== undefined ? { error } : {}),
      ...(aborted?.step !== undefined ? { failedStep: aborted.step } : {}),
      steps,
      durationMs: this.at(),
    };
    this.resolve(result);
  }

  /** After an abort: dependents of the failed step are skipped, everything else still open is cancelled. */
  private closeUnfinished(aborted: AbortState): void {
    const downstream = new Uint8Array(this.runs.length);
    if (aborted.kind === 'failed' && aborted.step !== undefined) {
      const queue = [this.byId.get(aborted.step)!];
      for (let head = 0; head < queue.length; head++) {
        for (const d of this.runs[queue[head]!]!.dependents) {
          if (!downstream[d]) {
            downstream[d] = 1;
            queue.push(d);
          }
        }
      }
    }
    const reason = cancelReason(aborted);
    this.runs.forEach((r, i) => {
      if (r.phase === 'done') return;
      const { id } = r.step;
      if (downstream[i]) {
        r.status = 'skipped';
        r.reason = `step ${sq(aborted.step!)} failed`;
        this.emit({ type: 'skipped', step: id, at: aborted.at, reason: r.reason });
      } else {
        r.status = 'cancelled';
        if (r.startedAt !== undefined) r.endedAt = aborted.at;
        r.error = r.startedAt !== undefined ? reason : `not started: ${reason}`;
        this.emit({ type: 'cancelled', step: id, at: aborted.at, reason: r.error });
      }
      r.phase = 'done';
    });
  }

  private defaultOutput(): Record<string, unknown> {
    const entries: [string, unknown][] = [];
    for (const r of this.runs) {
      const value = r.status === 'skipped' ? undefined : r.items ? r.outputs : r.outputs[0];
      if (value !== undefined) entries.push([r.step.id, value]);
    }
    return Object.fromEntries(entries);
  }
}

function record(r: StepRun): StepRecord {
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

function failedCall(err: unknown): CallOutcome {
  return {
    ok: false,
    message: errorMessage(err),
    retryable: isRetryable(err),
    text: '',
    content: [],
    isError: false,
  };
}

function cancelReason(aborted: AbortState): string {
  switch (aborted.kind) {
    case 'failed':
      return `cancelled: step ${sq(aborted.step!)} failed`;
    case 'deadline':
      return `cancelled: ${aborted.message}`;
    case 'caller':
      return 'cancelled by the caller';
  }
}

function callerMessage(signal: AbortSignal | undefined): string {
  const reason: unknown = signal?.reason;
  const detail = reason instanceof Error && reason.name !== 'AbortError' ? `: ${reason.message}` : '';
  return `run cancelled by the caller${detail}`;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing (the path selected no value)';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'a mapping' : `a ${typeof value}`;
}
