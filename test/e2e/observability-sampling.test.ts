import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type StdioGateway,
  startStdioGateway,
  structured,
  tempDir,
  waitForTools,
} from '../helpers/gateway.js';
import { writeObservedSetup } from '../helpers/observability.js';
import { type OtlpReceiver, startOtlpReceiver } from '../helpers/otlp-receiver.js';
import { freePort } from '../helpers/ports.js';
import { readTestbedLog } from '../helpers/testbed-log.js';
import { waitFor } from '../helpers/wait.js';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])$/;

function traceparent(sampled: boolean) {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceId, spanId, header: `00-${traceId}-${spanId}-${sampled ? '01' : '00'}` };
}

/** What the testbed backend received in `_meta.traceparent` on its `n`th tools/call (from 0). */
function backendTraceparent(log: string, n: number) {
  const call = readTestbedLog(log).filter((e) => e.event === 'call')[n];
  const match = TRACEPARENT.exec(call?.traceparent ?? '');
  expect(match, `call ${n} carried a traceparent`).not.toBeNull();
  const [, traceId, spanId, flags] = match!;
  return { traceId: traceId!, spanId: spanId!, sampled: flags === '01' };
}

describe('sampling: parentbased_traceidratio with a ratio of 0 (new traces are never kept)', () => {
  let receiver: OtlpReceiver;
  let gw: StdioGateway;
  let log: string;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    const dir = tempDir('mcp-gateway-sampling-');
    log = path.join(dir, 'testbed.log');
    gw = await startStdioGateway(['serve', '--config', writeObservedSetup(dir, '', { TESTBED_LOG: log })], {
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '100',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0',
      },
    });
    await waitForTools(gw.client, ['tb__echo', 'pipeline__fanout']);
  }, 60_000);

  afterAll(async () => {
    await gw?.close();
    await receiver?.close();
  });

  it('records nothing for an unsampled call, yet hands the backend a trace context (sampled flag off)', async () => {
    await gw.client.callTool({ name: 'tb__echo', arguments: { a: 1 } });
    const unsampledParent = traceparent(false);
    await gw.client.callTool({
      name: 'tb__echo',
      arguments: { a: 2 },
      _meta: { traceparent: unsampledParent.header },
    });
    const run = await gw.client.callTool({ name: 'pipeline__fanout', arguments: {} });
    expect(structured(run).status).toBe('succeeded');

    const fresh = backendTraceparent(log, 0);
    expect(fresh.sampled).toBe(false);
    // The client's unsampled trace goes on, unsampled.
    expect(backendTraceparent(log, 1)).toMatchObject({ traceId: unsampledParent.traceId, sampled: false });
    // Every backend call of one unsampled pipeline run is in that run's one trace.
    const runCalls = readTestbedLog(log)
      .filter((e) => e.event === 'call')
      .slice(2)
      .map((e) => TRACEPARENT.exec(e.traceparent ?? '')?.[1]);
    expect(runCalls.length).toBeGreaterThan(1);
    expect(new Set(runCalls).size).toBe(1);
    expect(runCalls[0]).not.toBe(fresh.traceId);

    // A sampled call after them: once its span is in, nothing of the earlier calls was exported.
    const sampledParent = traceparent(true);
    await gw.client.callTool({
      name: 'tb__echo',
      arguments: { a: 3 },
      _meta: { traceparent: sampledParent.header },
    });
    const span = await waitFor(() => receiver.spans.find((s) => s.traceId === sampledParent.traceId), {
      timeoutMs: 15_000,
      message: 'the sampled call’s span reaches the receiver',
    });
    expect(receiver.spans.map((s) => s.traceId)).toEqual([sampledParent.traceId]);
    expect(span).toMatchObject({ name: 'tools/call tb__echo', parentSpanId: sampledParent.spanId });
    expect(span.attributes).toMatchObject({
      'mcpgw.tool': 'tb__echo',
      'mcpgw.server': 'tb',
      'mcpgw.outcome': 'ok',
    });
    // The client's sampled trace is kept (parent-based), and the backend is told so.
    const lastCall = readTestbedLog(log).filter((e) => e.event === 'call').length - 1;
    expect(backendTraceparent(log, lastCall)).toEqual({
      traceId: sampledParent.traceId,
      spanId: span.spanId,
      sampled: true,
    });
  });
});

describe('a collector that cannot be reached', () => {
  it('is reported in the gateway log, and calls go on', async () => {
    const closed = await freePort();
    const dir = tempDir('mcp-gateway-sampling-down-');
    const gw = await startStdioGateway(['serve', '--config', writeObservedSetup(dir)], {
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${closed}`,
        OTEL_BSP_SCHEDULE_DELAY: '100',
        OTEL_EXPORTER_OTLP_TIMEOUT: '2000',
        OTEL_TRACES_SAMPLER: 'not_a_sampler',
      },
    });
    try {
      await waitForTools(gw.client, ['tb__echo']);
      const result = await gw.client.callTool({ name: 'tb__echo', arguments: { a: 1 } });
      expect(result.isError).toBeFalsy();
      await waitFor(() => /tracing: could not export 1 span\(s\)/.test(gw.stderr()), {
        timeoutMs: 15_000,
        message: 'the failed export is logged',
      });
      expect(gw.stderr()).toMatch(/OTEL_TRACES_SAMPLER=not_a_sampler is not supported/);
      expect((await gw.client.callTool({ name: 'tb__echo', arguments: { a: 2 } })).isError).toBeFalsy();
    } finally {
      await gw.close();
    }
  }, 60_000);
});
