/**
 * Runs a CompiledPipeline. Event-driven: a step is looked at exactly when its last dependency
 * finishes, and a call starts exactly when a concurrency slot frees up; there is no polling.
 * This file is the scheduler; a step's state and results are in step-run.ts, one call in
 * step-call.ts, retries in retry.ts, the slot pool in slots.ts, ending early in abort.ts.
 * See ARCHITECTURE.md for the flow and the rules.
 */
import { formatDuration, MAX_DURATION_MS } from '../config/index.js';
import { errorMessage, GatewayError } from '../errors.js';
import { type AbortKind, type AbortState, callerMessage, cancelReason, closeUnfinished } from './abort.js';
import { compensate, type SectionBase } from './compensation.js';
import { type ExpressionContext, render } from './expr.js';
import { prepareInputs } from './inputs.js';
import type { CallOutcome } from './result.js';
import { backoffDelayMs, failedCall } from './retry.js';
import type { RunOptions } from './run-options.js';
import { Slots } from './slots.js';
import { type Call, callTimeoutMs, invokeStep, openCall, renderArgs } from './step-call.js';
import { gateStep } from './step-gate.js';
import {
  defaultOutput,
  endedEvent,
  type Failure,
  StepRun,
  startedEvent,
  stepRecord,
  stepResult,
} from './step-run.js';
import { sq } from './suggest.js';
import type {
  CompiledPipeline,
  RunHooks,
  RunResult,
  RunStatus,
  StepEvent,
  StepRecord,
  StepResult,
} from './types.js';

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
    const gate = gateStep(r, this.runs, this.ctx);
    if (gate.kind === 'skip') {
      this.skip(r, gate.reason);
      return;
    }
    if (gate.kind === 'fail') {
      this.stepFailed(r, gate.message);
      return;
    }
    if (gate.items) {
      r.items = gate.items;
      r.total = gate.items.length;
      r.limit = r.step.concurrency ?? this.pipeline.concurrency;
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
    this.emit(startedEvent(r, r.startedAt));
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
        args = renderArgs(step, this.ctx, r.items, item);
      } catch (err) {
        this.slots.release();
        this.itemFailed(r, item, { message: `args: ${errorMessage(err)}`, retryable: false });
        this.drain();
        this.maybeFinish();
        return;
      }
      r.args[item] = args;
    }
    const timeoutMs = callTimeoutMs(step, this.options);
    const hooks = this.hooks?.call(step.id, r.items ? item : undefined, attempt, this.at());
    const call = openCall(timeoutMs, hooks);
    this.inflight.add(call);
    r.attempts++;
    invokeStep(
      { parent: this.pipeline, step, item: r.items ? item : undefined, args, timeoutMs, at: () => this.at() },
      call,
      this.options,
      runPipeline,
      (record) => {
        r.children[item] = record;
      },
    ).then(
      (outcome) => this.callDone(r, item, attempt, call, outcome),
      (err: unknown) => this.callDone(r, item, attempt, call, failedCall(err ?? new Error('call failed'))),
    );
  }

  private callDone(r: StepRun, item: number, attempt: number, call: Call, outcome: CallOutcome): void {
    // A call still open when the run aborted ended then, as its step did (closeUnfinished): the run
    // stopped waiting for it at that moment.
    call.hooks?.end(outcome.ok ? undefined : outcome.message, this.aborted ? this.aborted.at : this.at());
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
      const delayMs = backoffDelayMs(step.retry, attempt);
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
      // The run aborts when the step ended, so its calls still open end when it did.
      this.abort('failed', `step ${sq(r.step.id)} failed: ${message}`, r.step.id, r.endedAt);
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
    this.ctx.steps[r.step.id] = stepResult(r, status, durationMs);
    this.emit(endedEvent(r, status, r.endedAt, durationMs));
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

  private abort(kind: AbortKind, message: string, step?: string, at = this.at()): void {
    if (this.aborted || this.done) return;
    this.aborted = { kind, message, at, ...(step !== undefined ? { step } : {}) };
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
    if (aborted)
      closeUnfinished(
        this.runs,
        (id) => this.byId.get(id)!,
        aborted,
        (e) => this.emit(e),
      );

    let status: RunStatus = aborted ? (aborted.kind === 'caller' ? 'cancelled' : 'failed') : 'succeeded';
    let error = aborted?.message;
    let output: unknown = null;
    if (status === 'succeeded') {
      try {
        output = this.pipeline.output
          ? (render(this.pipeline.output, this.ctx) ?? null)
          : defaultOutput(this.runs);
      } catch (err) {
        status = 'failed';
        error = `output: ${errorMessage(err)}`;
      }
    }
    const steps: Record<string, StepRecord> = {};
    for (const r of this.runs)
      Object.defineProperty(steps, r.step.id, { value: stepRecord(r), enumerable: true });
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
}
