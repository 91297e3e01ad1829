import { randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FlakyHttpBackend, startFlakyHttpBackend } from '../helpers/flaky-http-backend.js';
import {
  connectHttp,
  type HttpGatewayProcess,
  type StdioGateway,
  startHttpGateway,
  startStdioGateway,
  structured,
  tempDir,
  waitForTools,
} from '../helpers/gateway.js';
import { writeObservedSetup } from '../helpers/observability.js';
import {
  metricPoints,
  type OtlpReceiver,
  type ReceivedSpan,
  startOtlpReceiver,
} from '../helpers/otlp-receiver.js';
import { readTestbedLog } from '../helpers/testbed-log.js';
import { waitFor } from '../helpers/wait.js';

const SERVER = 2;
const CLIENT = 3;
const ERROR = 2;

function otelEnv(
  receiver: OtlpReceiver,
  protocol: 'http/json' | 'http/protobuf' = 'http/json',
): Record<string, string> {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
    OTEL_SERVICE_NAME: 'gateway-under-test',
    // Export within a tenth of a second instead of five.
    OTEL_BSP_SCHEDULE_DELAY: '100',
  };
}

/** A W3C traceparent for a client's own span: what an instrumented client sends. */
function clientTraceparent(): { traceId: string; spanId: string; header: string } {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceId, spanId, header: `00-${traceId}-${spanId}-01` };
}

describe('traces of a pipeline run over stdio, continuing the client trace from _meta.traceparent', () => {
  let receiver: OtlpReceiver;
  let gw: StdioGateway;
  let log: string;
  const parent = clientTraceparent();
  let trace: ReceivedSpan[];

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    const dir = tempDir('mcp-gateway-traces-');
    log = path.join(dir, 'testbed.log');
    const config = writeObservedSetup(dir, '', { TESTBED_LOG: log });
    // The default encoding, decoded by the receiver (test/helpers/otlp-protobuf.ts).
    gw = await startStdioGateway(['serve', '--config', config], { env: otelEnv(receiver, 'http/protobuf') });
    await waitForTools(gw.client, ['pipeline__fanout']);
    const run = await gw.client.callTool({
      name: 'pipeline__fanout',
      arguments: {},
      _meta: { traceparent: parent.header },
    });
    expect(structured(run).status).toBe('succeeded');
    trace = await waitFor(
      () => {
        const spans = receiver.spans.filter((s) => s.traceId === parent.traceId);
        return spans.some((s) => s.name === 'tools/call pipeline__fanout') && spans.length >= 14
          ? spans
          : undefined;
      },
      { timeoutMs: 15_000, message: 'the run’s spans reach the receiver' },
    );
  }, 60_000);

  afterAll(async () => {
    await gw?.close();
    await receiver?.close();
  });

  const one = (name: string) => {
    const found = trace.filter((s) => s.name === name);
    expect(found, name).toHaveLength(1);
    return found[0]!;
  };
  const childrenOf = (span: ReceivedSpan) => trace.filter((s) => s.parentSpanId === span.spanId);

  it('makes the request span a child of the client’s span, with the service name', () => {
    const request = one('tools/call pipeline__fanout');
    expect(request.parentSpanId).toBe(parent.spanId);
    expect(request.kind).toBe(SERVER);
    expect(request.attributes).toMatchObject({
      'mcp.method.name': 'tools/call',
      'mcpgw.tool': 'pipeline__fanout',
      'mcpgw.transport': 'stdio',
      'mcp.protocol.era': 'legacy',
      'mcpgw.outcome': 'ok',
    });
    expect(request.resource['service.name']).toBe('gateway-under-test');
  });

  it('nests run → steps → items and attempts → backend calls', () => {
    const request = one('tools/call pipeline__fanout');
    const run = one('pipeline fanout');
    expect(run.parentSpanId).toBe(request.spanId);
    expect(run.attributes).toMatchObject({ 'mcpgw.pipeline': 'fanout', 'mcpgw.status': 'succeeded' });
    const steps = childrenOf(run);
    expect(steps.map((s) => s.name).sort()).toEqual(['step each', 'step flaky', 'step list']);

    const each = one('step each');
    expect(each.attributes).toMatchObject({
      'mcpgw.step': 'each',
      'mcpgw.items': 3,
      'mcpgw.status': 'succeeded',
    });
    const items = childrenOf(each).sort(
      (a, b) => Number(a.attributes['mcpgw.item']) - Number(b.attributes['mcpgw.item']),
    );
    expect(items.map((s) => s.name)).toEqual(['step each item 0', 'step each item 1', 'step each item 2']);
    for (const item of items) {
      const [backend, ...more] = childrenOf(item);
      expect(more).toEqual([]);
      expect(backend).toMatchObject({
        name: 'backend tb echo',
        kind: CLIENT,
        attributes: expect.objectContaining({
          'mcpgw.server': 'tb',
          'mcpgw.tool': 'echo',
          'mcpgw.outcome': 'ok',
        }),
      });
    }
    const list = one('step list');
    expect(childrenOf(childrenOf(list)[0]!).map((s) => s.name)).toEqual(['backend tb echo']);
  });

  it('shows the retried step: two attempts, each with its failed backend call, and a retry event', () => {
    const flaky = one('step flaky');
    expect(flaky.status.code).toBe(ERROR);
    expect(flaky.attributes['mcpgw.status']).toBe('failed');
    const retry = flaky.events.find((e) => e.name === 'retry');
    expect(retry?.attributes).toMatchObject({ 'mcpgw.attempt': 2, 'mcpgw.error': 'flaked' });
    const attempts = childrenOf(flaky).sort(
      (a, b) => Number(a.attributes['mcpgw.attempt']) - Number(b.attributes['mcpgw.attempt']),
    );
    expect(attempts.map((a) => [a.name, a.attributes['mcpgw.attempt']])).toEqual([
      ['step flaky call', 1],
      ['step flaky call', 2],
    ]);
    for (const attempt of attempts) {
      expect(attempt.status.code).toBe(ERROR);
      const [backend] = childrenOf(attempt);
      expect(backend).toMatchObject({ name: 'backend tb fail', status: { code: ERROR } });
      expect(backend!.attributes['mcpgw.outcome']).toBe('tool_error');
    }
  });

  it('sends each backend call’s trace context to the backend in _meta.traceparent', () => {
    const calls = readTestbedLog(log).filter((e) => e.event === 'call');
    expect(calls).toHaveLength(6);
    const backendSpans = new Set(trace.filter((s) => s.kind === CLIENT).map((s) => s.spanId));
    for (const call of calls) {
      const [, traceId, spanId] = (call.traceparent ?? '').split('-');
      expect(traceId).toBe(parent.traceId);
      expect(backendSpans.has(spanId!)).toBe(true);
    }
  });
});

describe('traces over HTTP: the traceparent header, in and out', () => {
  let receiver: OtlpReceiver;
  let backend: FlakyHttpBackend;
  let gw: HttpGatewayProcess;
  let client: Client;
  const parent = clientTraceparent();

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    backend = await startFlakyHttpBackend();
    const config = writeObservedSetup(tempDir('mcp-gateway-traces-http-'));
    // A Streamable HTTP backend beside the testbed.
    appendFileSync(config, `  fl:\n    url: ${JSON.stringify(backend.url)}\n`);
    gw = await startHttpGateway(['--config', config], { env: otelEnv(receiver) });
    client = await connectHttp(gw.url, { headers: { traceparent: parent.header } });
    await waitForTools(client, ['tb__echo', 'fl__echo']);
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    await gw?.close();
    await backend?.close();
    await receiver?.close();
  });

  it('sends the traceparent header to an HTTP backend: the trace, and the one span of a direct call', async () => {
    await client.callTool({ name: 'fl__echo', arguments: { b: 2 } });
    const span = await waitFor(() => receiver.spans.find((s) => s.name === 'tools/call fl__echo'), {
      timeoutMs: 15_000,
    });
    expect(backend.callTraceparents).toEqual([`00-${parent.traceId}-${span.spanId}-01`]);
    // A client's call of one backend tool is one span carrying the backend's side.
    expect(span.attributes).toMatchObject({ 'mcpgw.server': 'fl', 'mcpgw.backend.tool': 'echo' });
    expect(span.attributes['mcpgw.backend.duration_ms']).toEqual(expect.any(Number));
    expect(
      receiver.spans.filter((s) => s.traceId === parent.traceId && s.name.startsWith('backend ')),
    ).toEqual([]);
  });

  it('continues the trace of the HTTP traceparent header when _meta has none', async () => {
    await client.callTool({ name: 'tb__echo', arguments: { a: 1 } });
    const request = await waitFor(() => receiver.spans.find((s) => s.name === 'tools/call tb__echo'), {
      timeoutMs: 15_000,
    });
    expect(request).toMatchObject({ traceId: parent.traceId, parentSpanId: parent.spanId });
    expect(request.attributes).toMatchObject({
      'mcpgw.transport': 'http',
      'mcpgw.session': expect.any(String),
    });
    expect(
      receiver.requests.every((r) => r.path === '/v1/traces' && r.contentType === 'application/json'),
    ).toBe(true);
  });
});

describe('traces in the default OTLP encoding', () => {
  it('exports http/protobuf when OTEL_EXPORTER_OTLP_PROTOCOL is unset, and nothing when OTEL_SDK_DISABLED', async () => {
    const receiver = await startOtlpReceiver();
    const env = { ...otelEnv(receiver), OTEL_EXPORTER_OTLP_PROTOCOL: '' };
    const config = writeObservedSetup(tempDir('mcp-gateway-traces-proto-'));
    const gw = await startStdioGateway(['serve', '--config', config], { env });
    const disabled = await startStdioGateway(['serve', '--config', config], {
      env: { ...otelEnv(receiver), OTEL_SDK_DISABLED: 'true' },
    });
    try {
      for (const g of [gw, disabled]) {
        await waitForTools(g.client, ['tb__echo']);
        await g.client.callTool({ name: 'tb__echo', arguments: {} });
      }
      await waitFor(() => receiver.requests.length > 0, { timeoutMs: 15_000 });
      // Give the disabled one the same time to (not) export.
      await new Promise((r) => setTimeout(r, 500));
      expect(receiver.requests).toEqual([{ path: '/v1/traces', contentType: 'application/x-protobuf' }]);
      expect(receiver.spans).toMatchObject([
        { name: 'tools/call tb__echo', kind: SERVER, resource: { 'service.name': 'gateway-under-test' } },
      ]);
      expect(gw.stderr()).toContain('(http/protobuf)');
      expect(disabled.stderr()).not.toContain('tracing:');
    } finally {
      await gw.close();
      await disabled.close();
      await receiver.close();
    }
  }, 60_000);
});

describe('metrics over OTLP', () => {
  it('exports the same instruments as /metrics when an OTLP endpoint is set', async () => {
    const receiver = await startOtlpReceiver();
    const env = {
      ...otelEnv(receiver),
      OTEL_TRACES_EXPORTER: 'none',
      OTEL_METRIC_EXPORT_INTERVAL: '300',
    };
    const gw = await startStdioGateway(
      ['serve', '--config', writeObservedSetup(tempDir('mcp-gateway-otlp-metrics-'))],
      {
        env,
      },
    );
    try {
      await waitForTools(gw.client, ['tb__echo']);
      await gw.client.callTool({ name: 'tb__echo', arguments: { a: 1 } });
      await gw.client.callTool({ name: 'tb__echo', arguments: { a: 2 } });
      const calls = await waitFor(
        () =>
          receiver.metrics
            .flatMap((e) => metricPoints(e, 'mcpgw_requests_total'))
            .find((p) => p.attributes.tool === 'tb__echo' && p.point.asDouble === 2),
        { timeoutMs: 15_000, message: 'an OTLP export counts both calls' },
      );
      expect(calls).toMatchObject({ kind: 'sum', attributes: { transport: 'stdio', outcome: 'ok' } });
      const last = receiver.metrics.at(-1)!;
      const latency = metricPoints(last, 'mcpgw_request_duration_seconds').find(
        (p) => p.attributes.tool === 'tb__echo',
      );
      expect(latency?.kind).toBe('histogram');
      expect(Number(latency?.point.count)).toBe(2);
      const buckets = ((latency?.point.bucketCounts ?? []) as (string | number)[]).map(Number);
      expect(buckets.reduce((a, b) => a + b, 0)).toBe(2);
      expect(
        metricPoints(last, 'mcpgw_backend_status').find((p) => p.attributes.status === 'ready'),
      ).toMatchObject({
        kind: 'gauge',
        attributes: { server: 'tb' },
      });
      expect(receiver.spans).toEqual([]);
      expect(gw.stderr()).toContain('metrics: exported to');
    } finally {
      await gw.close();
      await receiver.close();
    }
  }, 60_000);
});
