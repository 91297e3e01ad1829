/**
 * Compensation: a pipeline's `on_failure` steps, run after the main run failed or was cancelled, as
 * a run of their own small graph. It starts from the main run's step results (so `$.steps.<main>`
 * reads what the main steps left) plus `failure` = `{ step, error, status }`. It does not take the
 * caller's signal — a cancelled run must still clean up — and is bounded instead by its own deadline
 * (COMPENSATION_GRACE_MS, the section's `timeoutMs`) and each step's per-call timeout.
 */
import type { CompensationResult, CompiledPipeline, CompiledStep, RunResult, StepResult } from './types.js';

/** Every step a run may call: the main steps, then the on_failure ones (for backend timeouts, servers to start). */
export function allSteps(pipeline: CompiledPipeline): CompiledStep[] {
  return [...pipeline.steps.values(), ...(pipeline.onFailure?.steps.values() ?? [])];
}

/** What an on_failure run starts from. */
export interface SectionBase {
  steps: Readonly<Record<string, unknown>>;
  failure: { step: string | null; error: string | null; status: RunResult['status'] };
}

export async function compensate(
  section: CompiledPipeline,
  main: RunResult,
  results: Readonly<Record<string, unknown>>,
  runSection: (section: CompiledPipeline, base: SectionBase) => Promise<RunResult>,
): Promise<CompensationResult> {
  const failedStep = main.failedStep;
  // The failed step's own error ("HTTP 500"), not the run's summary ("step 'x' failed: HTTP 500").
  const stepError =
    failedStep !== undefined ? (results[failedStep] as StepResult | undefined)?.error : undefined;
  const failure: SectionBase['failure'] = {
    step: failedStep ?? null,
    error: stepError ?? main.error ?? null,
    status: main.status,
  };
  const run = await runSection(section, { steps: results, failure });
  return {
    status: run.status,
    ...(run.error !== undefined ? { error: run.error } : {}),
    ...(run.failedStep !== undefined ? { failedStep: run.failedStep } : {}),
    steps: run.steps,
    durationMs: run.durationMs,
  };
}
