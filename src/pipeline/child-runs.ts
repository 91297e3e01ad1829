/**
 * A `pipeline:` step's call: run the child pipeline as one "call" of the parent's step, so retry,
 * for_each, on_error, the step's timeout and the parent's abort apply to it as to a tool call. The
 * child comes from the caller's `pipelines` resolver (a snapshot taken when the outermost run started),
 * runs with its own concurrency pool while holding one slot of its parent, and reports its step
 * events through the parent's, prefixed with the parent's step.
 */
import { errorMessage, isGatewayError } from '../errors.js';
import { MAX_PIPELINE_DEPTH } from './pipeline-calls.js';
import type { CallOutcome } from './result.js';
import { sq } from './suggest.js';
import type { ChildRunRecord, CompiledPipeline, CompiledStep, RunResult, StepEvent } from './types.js';

/** The pipelines a run may call, by name; undefined = there is none (or it does not serve). */
export type PipelineResolver = (name: string) => CompiledPipeline | undefined;

/** What the engine passes on to a child run. */
export interface ChildRunOptions {
  pipelines?: PipelineResolver;
  /** The pipelines running this one, outermost first (not this one). */
  callChain?: readonly string[];
  onEvent?: (event: StepEvent) => void;
}

export interface ChildCall {
  parent: CompiledPipeline;
  step: CompiledStep;
  /** The for_each item, if any. */
  item?: number;
  inputs: Record<string, unknown>;
  signal: AbortSignal;
  /** When the call started, in the parent's clock (ms since the parent run started). */
  at: number;
}

export type RunChild<O extends ChildRunOptions> = (
  pipeline: CompiledPipeline,
  inputs: unknown,
  options: O,
) => Promise<RunResult>;

/**
 * Run the step's child pipeline. Never rejects: an unknown pipeline, a call too deep or cyclic, bad
 * inputs, and a failed or cancelled child are failures (only a failed child run may be retried).
 */
export async function callChild<O extends ChildRunOptions & { signal?: AbortSignal }>(
  call: ChildCall,
  options: O,
  run: RunChild<O>,
): Promise<{ outcome: CallOutcome; record?: ChildRunRecord }> {
  const name = call.step.pipeline!.name;
  const chain = [...(options.callChain ?? []), call.parent.name];
  const fail = (message: string, retryable = false) => ({
    outcome: { ok: false as const, message, text: '', content: [], isError: false, retryable },
  });
  if (chain.includes(name)) return fail(`pipeline call cycle: ${[...chain, name].join(' -> ')}`);
  if (chain.length >= MAX_PIPELINE_DEPTH) {
    return fail(`pipeline calls nest deeper than ${MAX_PIPELINE_DEPTH}: ${[...chain, name].join(' > ')}`);
  }
  const child = options.pipelines?.(name);
  if (!child) return fail(`unknown pipeline ${sq(name)}`);
  const prefix = `${call.step.id}${call.item !== undefined ? `[${call.item}]` : ''} > `;
  const parentEvent = options.onEvent;
  let result: RunResult;
  try {
    result = await run(child, call.inputs, {
      ...options,
      signal: call.signal,
      callChain: chain,
      ...(parentEvent
        ? { onEvent: (e: StepEvent) => parentEvent({ ...e, step: prefix + e.step, at: call.at + e.at }) }
        : {}),
    });
  } catch (err) {
    // Inputs that do not fit the child's `inputs` (PARAMS_INVALID): calling again cannot help.
    return fail(isGatewayError(err) ? err.message : errorMessage(err));
  }
  const record: ChildRunRecord = {
    pipeline: result.pipeline,
    status: result.status,
    ...(result.error !== undefined ? { error: result.error } : {}),
    ...(result.failedStep !== undefined ? { failedStep: result.failedStep } : {}),
    steps: result.steps,
    durationMs: result.durationMs,
  };
  if (result.status === 'succeeded') {
    const text =
      typeof result.output === 'string' ? result.output : (JSON.stringify(result.output) ?? 'null');
    return { outcome: { ok: true, output: result.output, text, content: [{ type: 'text', text }] }, record };
  }
  return {
    ...fail(
      `pipeline ${sq(name)} ${result.status}: ${result.error ?? result.status}`,
      result.status === 'failed',
    ),
    record,
  };
}
