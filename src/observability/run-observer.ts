/**
 * Pipeline runs as spans and metrics. A run is a span (under the request that started it, or under
 * the parent step's call for a child pipeline: the engine hands that back as `runStarted`'s trace); each step a span under the run; each call of a step —
 * one per for_each item and per attempt — a span under the step, with the backend's span under it.
 * A retry is also an event on its step's span.
 */
import type { CallHooks, CompiledPipeline, RunHooks, RunObserver, StepEvent } from '../pipeline/index.js';
import { CUSTOM } from './labels.js';
import type { GatewayMetrics } from './metrics.js';
import type { SpanAttributes, TraceSpan, Tracing } from './tracing.js';

const NOOP_CALL: CallHooks = { trace: undefined, end() {} };

interface StepState {
  span: TraceSpan | undefined;
  startedAt: number;
}

/**
 * `label` names a pipeline for metrics: its own name when it is one of the catalog's, `custom` for a
 * pipeline sent inline (whose step ids are then `custom` too, as they are the caller's choice).
 */
export function createRunObserver(
  tracing: Tracing | undefined,
  metrics: GatewayMetrics | undefined,
  label: (pipeline: CompiledPipeline) => string,
): RunObserver {
  return {
    runStarted(pipeline, parent) {
      const name = label(pipeline);
      const stepLabel = (id: string) => (name === CUSTOM ? CUSTOM : id);
      const runSpan = open(
        tracing,
        `pipeline ${pipeline.name}`,
        { 'mcpgw.pipeline': pipeline.name, 'mcpgw.pipeline.steps': pipeline.steps.size },
        parent,
      );
      const steps = new Map<string, StepState>();
      const endStep = (e: StepEvent, status: string, error?: string) => {
        const state = steps.get(e.step);
        steps.delete(e.step);
        const seconds = state ? (e.at - state.startedAt) / 1000 : 0;
        if (state?.span) {
          state.span.setAttributes({ 'mcpgw.status': status });
          state.span.end(error);
        }
        if (state) metrics?.stepEnded(name, stepLabel(e.step), status, seconds);
      };
      const hooks: RunHooks = {
        event(e) {
          switch (e.type) {
            case 'started': {
              const span = open(
                tracing,
                `step ${e.step}`,
                {
                  'mcpgw.pipeline': pipeline.name,
                  'mcpgw.step': e.step,
                  'mcpgw.server': e.pipeline ? undefined : e.server,
                  'mcpgw.tool': e.pipeline ? undefined : e.tool,
                  'mcpgw.child_pipeline': e.pipeline,
                  'mcpgw.items': e.items,
                },
                runSpan,
              );
              steps.set(e.step, { span, startedAt: e.at });
              return;
            }
            case 'retrying':
              steps.get(e.step)?.span?.event('retry', {
                'mcpgw.attempt': e.attempt,
                'mcpgw.item': e.item,
                'mcpgw.delay_ms': e.delayMs,
                'mcpgw.error': e.error,
              });
              metrics?.stepRetried(name, stepLabel(e.step));
              return;
            case 'succeeded':
              endStep(e, 'succeeded');
              return;
            case 'failed':
              endStep(e, 'failed', e.error);
              return;
            case 'cancelled':
              endStep(e, 'cancelled', e.reason);
              return;
            case 'skipped':
              // Never started: a zero-length span says it was considered and why it did not run.
              open(
                tracing,
                `step ${e.step}`,
                { 'mcpgw.pipeline': pipeline.name, 'mcpgw.step': e.step, 'mcpgw.status': 'skipped' },
                runSpan,
              )?.end();
              return;
          }
        },
        call(step, item, attempt) {
          if (!tracing) return NOOP_CALL;
          const span = open(
            tracing,
            item === undefined ? `step ${step} call` : `step ${step} item ${item}`,
            { 'mcpgw.step': step, 'mcpgw.item': item, 'mcpgw.attempt': attempt },
            steps.get(step)?.span ?? runSpan,
          );
          // The engine's `at` is ms into the run, not performance.now(): the span ends now instead.
          return { trace: span, end: (error) => span.end(error) };
        },
        ended(result) {
          metrics?.runEnded(name, result.status, result.durationMs / 1000);
          if (!runSpan) return;
          runSpan.setAttributes({ 'mcpgw.status': result.status, 'mcpgw.failed_step': result.failedStep });
          runSpan.end(result.status === 'succeeded' ? undefined : (result.error ?? result.status));
        },
      };
      return hooks;
    },
  };
}

/** A span with these attributes (set only if the sampler keeps it); none when tracing is off. */
function open<T extends Tracing | undefined>(
  tracing: T,
  name: string,
  attributes: SpanAttributes,
  parent: unknown,
): T extends Tracing ? TraceSpan : TraceSpan | undefined;
function open(
  tracing: Tracing | undefined,
  name: string,
  attributes: SpanAttributes,
  parent: unknown,
): TraceSpan | undefined {
  const span = tracing?.start(name, parent as TraceSpan | undefined);
  if (span?.recording) span.setAttributes(attributes);
  return span;
}
