/**
 * A run's report and step events without secrets. A step's error quotes what failed — a tool's isError
 * text, an SDK error naming a URL — and a careless backend echoes its token there; the report is the
 * gateway speaking, so it is redacted like its other answers (see secrets.ts), whatever the run's
 * status. Outputs are backend results, which are data: a successful run's output, and the step outputs
 * a failed run shows, are left as they are.
 */
import type { RunResult, StepEvent, StepRecord } from '../pipeline/index.js';
import { secrets } from '../secrets.js';

export function redactRun(result: RunResult): RunResult {
  const { compensation } = result;
  return {
    ...result,
    ...(result.error !== undefined ? { error: secrets.redact(result.error) } : {}),
    steps: redactSteps(result.steps),
    ...(compensation
      ? {
          compensation: {
            ...compensation,
            ...(compensation.error !== undefined ? { error: secrets.redact(compensation.error) } : {}),
            steps: redactSteps(compensation.steps),
          },
        }
      : {}),
  };
}

function redactSteps(records: Record<string, StepRecord>): Record<string, StepRecord> {
  const steps: Record<string, StepRecord> = {};
  for (const [id, record] of Object.entries(records)) {
    steps[id] = {
      ...record,
      ...(record.error !== undefined ? { error: secrets.redact(record.error) } : {}),
      ...(record.reason !== undefined ? { reason: secrets.redact(record.reason) } : {}),
    };
  }
  return steps;
}

export function redactEvent(event: StepEvent): StepEvent {
  switch (event.type) {
    case 'failed':
    case 'retrying':
      return { ...event, error: secrets.redact(event.error) };
    case 'skipped':
    case 'cancelled':
      return { ...event, reason: secrets.redact(event.reason) };
    case 'started':
    case 'succeeded':
      return event;
  }
}
