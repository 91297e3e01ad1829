/**
 * The sampler OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG name, built from the SDK's samplers the
 * way the SDK builds it (which it does not export). The gateway asks it before it starts a span (see
 * tracing-sdk.ts): a span the sampler drops never reaches the SDK, so an unsampled call costs two ids.
 */
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  type Sampler,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';

export interface SamplerChoice {
  sampler: Sampler;
  /** What was wrong with the variables (the default took over), to warn about. */
  problem?: string;
}

const DEFAULT = 'parentbased_always_on';

export function samplerFromEnv(env: NodeJS.ProcessEnv): SamplerChoice {
  const name = env.OTEL_TRACES_SAMPLER?.trim().toLowerCase() || DEFAULT;
  const ratio = () => ratioFromEnv(env.OTEL_TRACES_SAMPLER_ARG);
  switch (name) {
    case 'always_on':
      return { sampler: new AlwaysOnSampler() };
    case 'always_off':
      return { sampler: new AlwaysOffSampler() };
    case 'parentbased_always_on':
      return { sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }) };
    case 'parentbased_always_off':
      return { sampler: new ParentBasedSampler({ root: new AlwaysOffSampler() }) };
    case 'traceidratio': {
      const { value, problem } = ratio();
      return { sampler: new TraceIdRatioBasedSampler(value), ...(problem ? { problem } : {}) };
    }
    case 'parentbased_traceidratio': {
      const { value, problem } = ratio();
      const sampler = new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(value) });
      return { sampler, ...(problem ? { problem } : {}) };
    }
    default:
      return {
        sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }),
        problem: `OTEL_TRACES_SAMPLER=${name} is not supported (use always_on, always_off, traceidratio or their parentbased_ forms): sampling every trace`,
      };
  }
}

/** The spec's default ratio is 1 (sample everything) when the argument is missing or out of range. */
function ratioFromEnv(arg: string | undefined): { value: number; problem?: string } {
  if (arg === undefined || arg.trim() === '') return { value: 1 };
  const value = Number(arg);
  if (!Number.isFinite(value) || value < 0 || value > 1) {
    return {
      value: 1,
      problem: `OTEL_TRACES_SAMPLER_ARG=${arg} is not a ratio from 0 to 1: sampling every trace`,
    };
  }
  return { value };
}
