import { randomUUID } from 'node:crypto';
import type { RunStore } from '../cluster/index.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import type { RunResult, RunStatus } from '../pipeline/index.js';
import { secrets } from '../secrets.js';
import { ms } from './pipeline-format.js';
import { redactRun } from './run-redact.js';

/**
 * Records of recent pipeline runs — status and step results — kept in a {@link RunStore}: in this
 * process, or in Redis with a cluster so that `list_pipelines` with `runs` on any replica shows the
 * runs of every replica. A run is recorded when it starts (`running`) and again when it ends, redacted
 * as the run's own answer is (run-redact.ts). Recording never fails a run: a store that cannot be
 * written (Redis away) loses the record, and says so in the log.
 */

/** A record larger than this keeps no outputs (run's and steps'), so that the store stays small. */
export const MAX_RECORD_BYTES = 64 * 1024;

export interface RunRecord extends Partial<Omit<RunResult, 'status' | 'pipeline'>> {
  id: string;
  pipeline: string;
  /** The replica that ran it. */
  replica: string;
  status: 'running' | RunStatus;
  startedAt: number;
  endedAt?: number;
  /** True when the outputs were left out (the record was over {@link MAX_RECORD_BYTES}). */
  outputsOmitted?: true;
}

export class RunRecords {
  constructor(
    private readonly store: RunStore<RunRecord>,
    private readonly replica: string,
    private readonly logger: Logger,
  ) {}

  /** A run of `pipeline` starts now: returns what to call with its result, or with what it threw. */
  started(pipeline: string): (outcome: RunResult | { thrown: unknown }) => void {
    const base = { id: randomUUID(), pipeline, replica: this.replica, startedAt: Date.now() };
    this.write({ ...base, status: 'running', steps: {} });
    return (outcome) => {
      const endedAt = Date.now();
      if ('thrown' in outcome) {
        this.write({ ...base, status: 'failed', endedAt, error: redactedMessage(outcome.thrown), steps: {} });
        return;
      }
      this.write(bounded({ ...redactRun(outcome), ...base, endedAt }));
    };
  }

  /** The newest `limit` runs, newest first, from every replica with a cluster. */
  async recent(limit: number): Promise<RunRecord[]> {
    return this.store.recent(limit);
  }

  private write(record: RunRecord): void {
    this.store.put(record).catch((err) => {
      this.logger.warn(`run ${record.id} of '${record.pipeline}' not recorded: ${errorMessage(err)}`);
    });
  }
}

/** Runs as text, one line each and one per step: what list_pipelines shows beside the structured runs. */
export function formatRuns(runs: readonly RunRecord[]): string {
  if (runs.length === 0) return 'No runs recorded.';
  const lines = [`${runs.length} recent run${runs.length === 1 ? '' : 's'}, newest first:`];
  for (const run of runs) {
    const took = run.durationMs !== undefined ? ` in ${ms(run.durationMs)}` : '';
    const failed = run.failedStep ? ` at step ${run.failedStep}` : '';
    lines.push(
      `${new Date(run.startedAt).toISOString()} ${run.pipeline} ${run.status}${took} on ${run.replica} (run ${run.id})${failed}${run.error ? `: ${run.error}` : ''}`,
    );
    for (const [id, step] of Object.entries(run.steps ?? {}))
      lines.push(`  ${id}: ${step.status}, ${step.attempts} call(s), ${ms(step.durationMs)}`);
  }
  return lines.join('\n');
}

/** The record itself, or — over the size bound — the record without outputs. */
function bounded(record: RunRecord): RunRecord {
  if (JSON.stringify(record).length <= MAX_RECORD_BYTES) return record;
  const lean = JSON.parse(JSON.stringify(record, (key, value) => (key === 'output' ? undefined : value)));
  return { ...(lean as RunRecord), outputsOmitted: true };
}

function redactedMessage(thrown: unknown): string {
  return secrets.redact(errorMessage(thrown));
}
