/**
 * What tracing and metrics cost on the namespaced call path: two gateways over stdio with the same
 * backend, one with nothing on, one exporting every call's spans (OTLP/HTTP to a receiver in this
 * process that discards them; the default sampler keeps every trace) and keeping Prometheus metrics
 * (`--metrics-port`). `tb__echo` is called on each in interleaved rounds, sequentially and with 32 in
 * flight; the per-round ratios show the spread.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  drive,
  type LatencyStats,
  latencyStats,
  progress,
  type Row,
  Samples,
  type Target,
} from './harness.js';
import { callTool, type Endpoint, gatewayConfig, startGateway, waitForTools } from './processes.js';

export interface ObservabilitySizes {
  rounds: number;
  sequential: number;
  concurrent: number;
  warmup: number;
}

const IN_FLIGHT = 32;
const ARGS = { text: 'hello', n: 1 };
const P50_TARGET: Target = { kind: 'ratio', op: '<=', bound: 1.05 };
const RATE_TARGET: Target = { kind: 'ratio', op: '>=', bound: 0.95 };

export async function observabilityRows(sizes: ObservabilitySizes): Promise<Row[]> {
  // The collector: reads each export and answers 200, like a real one that keeps up.
  let exports = 0;
  const sink = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      exports++;
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', () => resolve()));
  const endpoint = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
  const gateways: Endpoint[] = [];
  const saved = { ...process.env };
  try {
    progress('observability: starting a gateway with tracing and metrics off, and one with both on');
    const off = await startGateway('stdio', gatewayConfig(1));
    gateways.push(off);
    // The child inherits these: the spawned gateway reads them at start.
    const mode = process.env.BENCH_OBS_MODE ?? 'both';
    if (mode !== 'metrics')
      Object.assign(process.env, {
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        OTEL_SERVICE_NAME: 'mcp-gateway-bench',
      });
    const on = await startGateway(
      'stdio',
      gatewayConfig(1),
      mode === 'tracing' ? [] : ['--metrics-port', '0'],
    );
    gateways.push(on);
    await Promise.all([waitForTools(off.client, ['tb__echo']), waitForTools(on.client, ['tb__echo'])]);
    const contenders = [
      { kind: 'off', call: () => callTool(off.client, 'tb__echo', ARGS) },
      { kind: 'on', call: () => callTool(on.client, 'tb__echo', ARGS) },
    ] as const;
    for (const c of contenders) {
      await drive(c.call, sizes.warmup, 1);
      await drive(c.call, sizes.warmup * 2, IN_FLIGHT);
    }
    const seq = { off: new Samples(), on: new Samples() };
    const conc = { off: new Samples(), on: new Samples() };
    const seqRatios: number[] = [];
    const concRatios: number[] = [];
    for (let round = 0; round < sizes.rounds; round++) {
      progress(`observability: round ${round + 1}/${sizes.rounds}`);
      const order = round % 2 === 0 ? contenders : [...contenders].reverse();
      const roundSeq: Record<string, LatencyStats> = {};
      const roundConc: Record<string, LatencyStats> = {};
      for (const c of order) {
        const r = await drive(c.call, Math.ceil(sizes.sequential / sizes.rounds), 1);
        seq[c.kind].add(r.latencies, r.wallMs);
        roundSeq[c.kind] = latencyStats(r.latencies, r.wallMs);
      }
      for (const c of order) {
        const r = await drive(c.call, Math.ceil(sizes.concurrent / sizes.rounds), IN_FLIGHT);
        conc[c.kind].add(r.latencies, r.wallMs);
        roundConc[c.kind] = latencyStats(r.latencies, r.wallMs);
      }
      seqRatios.push(roundSeq.on!.p50 / roundSeq.off!.p50);
      concRatios.push(roundConc.on!.rate / roundConc.off!.rate);
    }
    if (exports === 0 && mode === 'both')
      throw new Error('the traced gateway exported no spans: tracing was not on');
    const spread = (ratios: number[]) =>
      `per-round ratio ${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)} over ${ratios.length} rounds`;
    const label = 'tracing and metrics off';
    const s = { off: seq.off.stats(), on: seq.on.stats() };
    const c = { off: conc.off.stats(), on: conc.on.stats() };
    return [
      {
        id: 'observability.seq.p50',
        name: 'stdio, sequential: tb__echo p50, tracing + metrics on',
        unit: 'ms',
        figure: s.on.p50,
        reference: { label, value: s.off.p50 },
        target: P50_TARGET,
        note: spread(seqRatios),
      },
      {
        id: 'observability.seq.p99',
        name: 'stdio, sequential: tb__echo p99, tracing + metrics on',
        unit: 'ms',
        figure: s.on.p99,
        reference: { label, value: s.off.p99 },
      },
      {
        id: 'observability.c32.rate',
        name: `stdio, ${IN_FLIGHT} in flight: tb__echo calls/s, tracing + metrics on`,
        unit: 'calls/s',
        figure: c.on.rate,
        reference: { label, value: c.off.rate },
        target: RATE_TARGET,
        note: spread(concRatios),
      },
    ];
  } finally {
    for (const key of ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_PROTOCOL', 'OTEL_SERVICE_NAME'])
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    await Promise.allSettled(gateways.map((g) => g.close()));
    await new Promise<void>((resolve) => sink.close(() => resolve()));
  }
}
