import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.js';
import { describeCall } from '../../src/front/call-target.js';
import { redactArguments } from '../../src/observability/audit.js';
import { lastErrorKind, outcomeOf } from '../../src/observability/labels.js';
import { tracingSettingsFromEnv } from '../../src/observability/tracing.js';
import { secrets } from '../../src/secrets.js';

describe('tracing settings from OTEL_* variables', () => {
  const settings = (env: Record<string, string>) => tracingSettingsFromEnv(env, '1.2.3');

  it('is off unless an OTLP endpoint (or OTEL_TRACES_EXPORTER=otlp) is set', () => {
    expect(settings({})).toBeUndefined();
    expect(settings({ OTEL_SERVICE_NAME: 'gw' })).toBeUndefined();
    expect(settings({ OTEL_TRACES_EXPORTER: 'otlp' })).toMatchObject({
      endpoint: 'http://localhost:4318/v1/traces',
      protocol: 'http/protobuf',
    });
  });

  it('adds /v1/traces to the base endpoint, and takes the traces endpoint as it is', () => {
    expect(settings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318/' })).toMatchObject({
      endpoint: 'http://otel:4318/v1/traces',
    });
    expect(
      settings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b/x' }),
    ).toMatchObject({ endpoint: 'http://b/x' });
  });

  it('honours OTEL_SDK_DISABLED and OTEL_TRACES_EXPORTER=none', () => {
    const on = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318' };
    expect(settings({ ...on, OTEL_SDK_DISABLED: 'TRUE' })).toBeUndefined();
    expect(settings({ ...on, OTEL_TRACES_EXPORTER: 'none' })).toBeUndefined();
  });

  it('takes http/json and http/protobuf (an empty value is unset), and refuses grpc with a reason', () => {
    const on = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318' };
    expect(settings({ ...on, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })).toMatchObject({
      protocol: 'http/json',
    });
    expect(settings({ ...on, OTEL_EXPORTER_OTLP_PROTOCOL: '' })).toMatchObject({ protocol: 'http/protobuf' });
    expect(
      settings({
        ...on,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf',
      }),
    ).toMatchObject({ protocol: 'http/protobuf' });
    expect(settings({ ...on, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toMatch(/grpc is not supported/);
  });
});

describe('audit arguments', () => {
  it('hides credential-like keys at any depth, and registered secrets anywhere', () => {
    secrets.add('sekret-value-123', '<env API_TOKEN>');
    expect(
      redactArguments({
        query: 'select 1',
        Authorization: 'Bearer x',
        nested: { password: 'p', list: [{ api_key: 'k' }], note: 'uses sekret-value-123' },
        env: { A: 'b' },
      }),
    ).toEqual({
      query: 'select 1',
      Authorization: '<redacted>',
      nested: { password: '<redacted>', list: [{ api_key: '<redacted>' }], note: 'uses <env API_TOKEN>' },
      env: '<redacted>',
    });
  });

  it('reduces a large payload to its size', () => {
    expect(redactArguments({ blob: 'x'.repeat(10_000) })).toEqual({ truncated: true, bytes: 10_011 });
  });
});

describe('bounded labels', () => {
  it('says how a call ended in a handful of words', () => {
    expect(outcomeOf({ content: [] })).toBe('ok');
    expect(outcomeOf({ content: [], isError: true })).toBe('tool_error');
    expect(outcomeOf(undefined, new GatewayError('BACKEND_TIMEOUT', 't'))).toBe('timeout');
    expect(outcomeOf(undefined, new GatewayError('BACKEND_EXITED', 'e'))).toBe('unavailable');
    expect(outcomeOf(undefined, new Error('boom'))).toBe('error');
  });

  it('classifies a backend last error without its text', () => {
    expect(lastErrorKind(undefined)).toBeUndefined();
    expect(lastErrorKind('spawn nope ENOENT')).toBe('not_found');
    expect(lastErrorKind('connect ECONNREFUSED 127.0.0.1:9')).toBe('unreachable');
    expect(lastErrorKind('the process exited with code 3')).toBe('exited');
    expect(lastErrorKind('something odd')).toBe('other');
  });
});

describe('what a served tool name means', () => {
  it('tells backend tools, pipelines and meta tools apart', () => {
    expect(describeCall('sqlite__read_query', {})).toEqual({
      kind: 'backend',
      server: 'sqlite',
      backendTool: 'read_query',
    });
    expect(describeCall('call_backend', { server: 'a', tool: 'b' })).toEqual({
      kind: 'backend',
      server: 'a',
      backendTool: 'b',
    });
    expect(describeCall('pipeline__report', {})).toEqual({ kind: 'pipeline', pipeline: 'report' });
    expect(describeCall('route_pipeline', { scenario: 'custom' })).toEqual({
      kind: 'pipeline',
      pipeline: 'custom',
    });
    expect(describeCall('list_servers', undefined)).toEqual({ kind: 'meta' });
  });
});
