import { createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startStdioGateway, tempDir, waitForTools } from '../helpers/gateway.js';
import { writeObservedSetup } from '../helpers/observability.js';
import { startOtlpReceiver } from '../helpers/otlp-receiver.js';
import { waitFor } from '../helpers/wait.js';

/** Spans are batched by the OTEL_BSP_* settings: by size, by delay, at shutdown, and bounded. */
describe('span batches', () => {
  it('go as soon as one is full, and what is still waiting goes at shutdown', async () => {
    const receiver = await startOtlpReceiver();
    const gw = await startStdioGateway(
      ['serve', '--config', writeObservedSetup(tempDir('mcp-gateway-batch-'))],
      {
        env: {
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
          OTEL_METRICS_EXPORTER: 'none',
          OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '2',
          // Long enough that only a full batch, or shutdown, sends anything during the test.
          OTEL_BSP_SCHEDULE_DELAY: '60000',
        },
      },
    );
    try {
      await waitForTools(gw.client, ['tb__echo']);
      for (const a of [1, 2, 3]) await gw.client.callTool({ name: 'tb__echo', arguments: { a } });
      await waitFor(() => receiver.spans.length >= 2, {
        timeoutMs: 10_000,
        message: 'the full batch is sent',
      });
      expect(receiver.requests).toEqual([{ path: '/v1/traces', contentType: 'application/x-protobuf' }]);
      expect(receiver.spans.map((s) => s.name)).toEqual(['tools/call tb__echo', 'tools/call tb__echo']);
      await gw.close();
      await waitFor(() => receiver.spans.length === 3, {
        timeoutMs: 10_000,
        message: 'the last span is sent at shutdown',
      });
      expect(receiver.requests).toHaveLength(2);
    } finally {
      await gw.close();
      await receiver.close();
    }
  }, 60_000);

  it('are bounded: past OTEL_BSP_MAX_QUEUE_SIZE, spans are dropped and the log says so', async () => {
    // A collector that takes the connection and never answers: exports stay in flight.
    const sockets: Socket[] = [];
    const stuck = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => stuck.listen(0, '127.0.0.1', () => resolve()));
    const port = (stuck.address() as { port: number }).port;
    const gw = await startStdioGateway(
      ['serve', '--config', writeObservedSetup(tempDir('mcp-gateway-batch-full-'))],
      {
        env: {
          OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
          OTEL_METRICS_EXPORTER: 'none',
          OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '1',
          OTEL_BSP_MAX_QUEUE_SIZE: '2',
        },
      },
    );
    try {
      await waitForTools(gw.client, ['tb__echo']);
      for (const a of [1, 2]) await gw.client.callTool({ name: 'tb__echo', arguments: { a } });
      await waitFor(() => sockets.length >= 2, { timeoutMs: 10_000, message: 'two exports in flight' });
      expect(gw.stderr()).not.toMatch(/could not export/);
      const third = await gw.client.callTool({ name: 'tb__echo', arguments: { a: 3 } });
      expect(third.isError).toBeFalsy();
      await waitFor(
        () => /tracing: could not export 1 span\(s\): the export queue is full/.test(gw.stderr()),
        {
          timeoutMs: 10_000,
          message: 'the dropped span is logged',
        },
      );
    } finally {
      await gw.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => stuck.close(() => resolve()));
    }
  }, 60_000);
});
