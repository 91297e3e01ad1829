/**
 * How a run ends early — its first failed step (on_error: fail), its deadline, or the caller's signal —
 * and what that leaves of the steps still open: the failed step's dependents are skipped, everything
 * else is cancelled, each with a reason that names the cause.
 */

import type { StepRun } from './step-run.js';
import { sq } from './suggest.js';
import type { StepEvent } from './types.js';

export type AbortKind = 'failed' | 'deadline' | 'caller';

export interface AbortState {
  kind: AbortKind;
  message: string;
  /** The failed step (kind 'failed'). */
  step?: string;
  at: number;
}

/** What a cancelled call or step is told. */
export function cancelReason(aborted: AbortState): string {
  switch (aborted.kind) {
    case 'failed':
      return `cancelled: step ${sq(aborted.step!)} failed`;
    case 'deadline':
      return `cancelled: ${aborted.message}`;
    case 'caller':
      return 'cancelled by the caller';
  }
}

/** The run's error when the caller's signal aborted it; the signal's reason when it says more than "aborted". */
export function callerMessage(signal: AbortSignal | undefined): string {
  const reason: unknown = signal?.reason;
  const detail = reason instanceof Error && reason.name !== 'AbortError' ? `: ${reason.message}` : '';
  return `run cancelled by the caller${detail}`;
}

/**
 * After an abort: dependents of the failed step are skipped, everything else still open is cancelled.
 * `indexOf` maps a step id to its index in `runs`.
 */
export function closeUnfinished(
  runs: readonly StepRun[],
  indexOf: (id: string) => number,
  aborted: AbortState,
  emit: (event: StepEvent) => void,
): void {
  const downstream = new Uint8Array(runs.length);
  if (aborted.kind === 'failed' && aborted.step !== undefined) {
    const queue = [indexOf(aborted.step)];
    for (let head = 0; head < queue.length; head++) {
      for (const d of runs[queue[head]!]!.dependents) {
        if (!downstream[d]) {
          downstream[d] = 1;
          queue.push(d);
        }
      }
    }
  }
  const reason = cancelReason(aborted);
  runs.forEach((r, i) => {
    if (r.phase === 'done') return;
    const { id } = r.step;
    if (downstream[i]) {
      r.status = 'skipped';
      r.reason = `step ${sq(aborted.step!)} failed`;
      emit({ type: 'skipped', step: id, at: aborted.at, reason: r.reason });
    } else {
      r.status = 'cancelled';
      if (r.startedAt !== undefined) r.endedAt = aborted.at;
      r.error = r.startedAt !== undefined ? reason : `not started: ${reason}`;
      emit({ type: 'cancelled', step: id, at: aborted.at, reason: r.error });
    }
    r.phase = 'done';
  });
}
