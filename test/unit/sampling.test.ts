import { ROOT_CONTEXT, SpanKind, TraceFlags, trace } from '@opentelemetry/api';
import { SamplingDecision } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { samplerFromEnv } from '../../src/observability/sampling.js';

// The SDK's ratio sampler reads a trace id as the XOR of its four 32-bit words: low keeps, high drops.
const LOW = `${'0'.repeat(31)}1`;
const HIGH = `ffffffff${'0'.repeat(24)}`;

/** Whether the sampler keeps a root span of `traceId`, or a child of a remote parent with `flags`. */
function keeps(env: NodeJS.ProcessEnv, traceId: string, parentFlags?: number): boolean {
  const { sampler } = samplerFromEnv(env);
  const context =
    parentFlags === undefined
      ? ROOT_CONTEXT
      : trace.setSpanContext(ROOT_CONTEXT, {
          traceId,
          spanId: '1'.repeat(16),
          traceFlags: parentFlags,
          isRemote: true,
        });
  const { decision } = sampler.shouldSample(context, traceId, 'x', SpanKind.SERVER, {}, []);
  return decision === SamplingDecision.RECORD_AND_SAMPLED;
}

describe('the sampler OTEL_TRACES_SAMPLER names', () => {
  it('keeps every new trace by default, and follows the parent’s flag', () => {
    expect(keeps({}, HIGH)).toBe(true);
    expect(keeps({}, HIGH, TraceFlags.NONE)).toBe(false);
    expect(samplerFromEnv({}).problem).toBeUndefined();
  });

  it('keeps a ratio of new traces by trace id, and follows the parent in the parentbased form', () => {
    const env = { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.5' };
    expect(keeps(env, LOW)).toBe(true);
    expect(keeps(env, HIGH)).toBe(false);
    expect(keeps(env, HIGH, TraceFlags.SAMPLED)).toBe(true);
    // Without "parentbased", the ratio decides even under a sampled parent.
    expect(keeps({ ...env, OTEL_TRACES_SAMPLER: 'traceidratio' }, HIGH, TraceFlags.SAMPLED)).toBe(false);
  });

  it('honours always_on and always_off whatever the parent says', () => {
    expect(keeps({ OTEL_TRACES_SAMPLER: 'always_off' }, LOW, TraceFlags.SAMPLED)).toBe(false);
    expect(keeps({ OTEL_TRACES_SAMPLER: 'ALWAYS_ON' }, HIGH, TraceFlags.NONE)).toBe(true);
    expect(keeps({ OTEL_TRACES_SAMPLER: 'parentbased_always_off' }, LOW)).toBe(false);
  });

  it('says what it could not use, and samples everything then', () => {
    const badRatio = samplerFromEnv({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' });
    expect(badRatio.problem).toMatch(/OTEL_TRACES_SAMPLER_ARG=2 is not a ratio/);
    expect(keeps({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: 'x' }, HIGH)).toBe(true);
    const unknown = samplerFromEnv({ OTEL_TRACES_SAMPLER: 'jaeger_remote' });
    expect(unknown.problem).toMatch(/jaeger_remote is not supported/);
    expect(keeps({ OTEL_TRACES_SAMPLER: 'jaeger_remote' }, HIGH)).toBe(true);
  });
});
