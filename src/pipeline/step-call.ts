/**
 * One call of a step (one per step, item and attempt): its arguments rendered from the run's
 * expression context, its timeout, and the call itself — through the ToolInvoker, or for a
 * `pipeline:` step as a child run. The engine decides when a call starts and what its outcome means.
 */
import { formatDuration, MAX_DURATION_MS } from '../config/index.js';
import { GatewayError } from '../errors.js';
import { callChild, type RunChild } from './child-runs.js';
import { type ExpressionContext, render } from './expr.js';
import { type CallOutcome, interpretResult } from './result.js';
import { DEFAULT_STEP_TIMEOUT_MS, type RunOptions } from './run-options.js';
import type { CallHooks, ChildRunRecord, CompiledPipeline, CompiledStep } from './types.js';

/** A call in flight: what aborting the run needs to cancel it, and what ending it needs to clean up. */
export interface Call {
  controller: AbortController;
  timer: ReturnType<typeof setTimeout> | undefined;
  hooks: CallHooks | undefined;
}

/**
 * The call's timeout: the step's `timeout`, else the backend's, else the run's default. A child
 * pipeline has its own step timeouts and deadline: only its step's `timeout` bounds it.
 */
export function callTimeoutMs(step: CompiledStep, options: RunOptions): number | undefined {
  const stepTimeout = step.pipeline
    ? step.timeoutMs
    : (step.timeoutMs ??
      options.timeoutFor?.(step.server) ??
      options.defaultTimeoutMs ??
      DEFAULT_STEP_TIMEOUT_MS);
  return stepTimeout === undefined ? undefined : Math.min(stepTimeout, MAX_DURATION_MS);
}

/**
 * A call's controller, aborted with BACKEND_TIMEOUT when `timeoutMs` passes: the engine enforces the
 * timeout itself, so a backend that ignores it cannot hang the run.
 */
export function openCall(timeoutMs: number | undefined, hooks: CallHooks | undefined): Call {
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
  return { controller, timer, hooks };
}

export interface StepCall {
  parent: CompiledPipeline;
  step: CompiledStep;
  /** The for_each item; undefined for a single call. */
  item: number | undefined;
  args: Record<string, unknown>;
  timeoutMs: number | undefined;
  /** When the call started, in the run's clock (read only for a child run). */
  at: () => number;
}

/**
 * Make the call. Rejects with the abort reason as soon as the call's signal aborts (timeout, run
 * aborted), whatever the backend does; `onChild` hears a child run's record whenever it ends.
 */
export function invokeStep(
  req: StepCall,
  call: Call,
  options: RunOptions,
  runChild: RunChild<RunOptions>,
  onChild: (record: ChildRunRecord) => void,
): Promise<CallOutcome> {
  const { step, item } = req;
  const { signal } = call.controller;
  const { hooks } = call;
  return new Promise<CallOutcome>((resolve, reject) => {
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    try {
      if (step.pipeline) {
        const at = req.at();
        callChild(
          { parent: req.parent, step, ...(item !== undefined ? { item } : {}), inputs: req.args, signal, at },
          hooks ? { ...options, trace: hooks.trace } : options,
          runChild,
        ).then(({ outcome, record }) => {
          if (record) onChild(record);
          resolve(outcome);
        }, reject);
      } else {
        options.invoker
          .callTool(step.server, step.tool, req.args, {
            signal,
            timeoutMs: req.timeoutMs ?? MAX_DURATION_MS,
            ...(hooks ? { trace: hooks.trace } : {}),
          })
          .then((result) => resolve(interpretResult(result, step.parse)), reject);
      }
    } catch (err) {
      reject(err);
    }
  });
}

/** The step's `args` rendered for one call (with `$.item` / `$.index` for a for_each item). */
export function renderArgs(
  step: CompiledStep,
  ctx: ExpressionContext,
  items: unknown[] | undefined,
  item: number,
): Record<string, unknown> {
  if (!step.args) return {};
  const value = render(step.args, items ? { ...ctx, item: items[item], index: item } : ctx);
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`must yield a mapping; it yielded ${describe(value)}`);
  }
  return value as Record<string, unknown>;
}

/** A value's kind, for "must yield a list / a mapping" messages. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing (the path selected no value)';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'a mapping' : `a ${typeof value}`;
}
