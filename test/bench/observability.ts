/**
 * What tracing and metrics cost on the namespaced call path. Four gateways over stdio with the same
 * backend: nothing on; Prometheus metrics alone (`--metrics-port`); metrics and every call traced (OTLP http/protobuf
 * to a collector in this process that reads and drops the exports; the default sampler keeps every
 * trace); and metrics with one trace in ten sampled (`parentbased_traceidratio`, 0.1), a production
 * setting. `tb__echo` is called on each in interleaved rounds (the order alternates), sequentially and
 * with 32 in flight; the per-round ratios show the spread. With 32 in flight the gateway's thread is
 * busy all the time, so its CPU time per call (all its threads, from /proc) is the cost itself, read
 * with less noise than calls/s on a shared machine: it is reported beside the rate.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  drive,
  type LatencyStats,
  latencyStats,
  median,
  progress,
  type Row,
  Samples,
  type Target,
} from './harness.js';
import { callTool, type GatewayEndpoint, gatewayConfig, startGateway, waitForTools } from './processes.js';

export interface ObservabilitySizes {
  rounds: number;
  sequential: number;
  concurrent: number;
  warmup: number;
}

const IN_FLIGHT = 32;
const ARGS = { text: 'hello', n: 1 };
const P50_TARGET: Target = { kind: 'ratio', op: '<=', bound: 1.05 };
const CPU_TARGET: Target = { kind: 'ratio', op: '<=', bound: 1.05 };
const RATE_TARGET: Target = { kind: 'ratio', op: '>=', bound: 0.95 };

type Kind = 'off' | 'metrics' | 'on' | 'sampled';
const KINDS: readonly Kind[] = ['off', 'metrics', 'on', 'sampled'];
const MEASURED = ['metrics', 'on', 'sampled'] as const;
const LABEL: Record<Exclude<Kind, 'off'>, string> = {
  metrics: 'metrics only',
  on: 'tracing (every call) + metrics',
  sampled: 'tracing (10 % sampled) + metrics',
};

/** Starts a gateway with `env` added to the environment it inherits. */
async function startWith(env: Record<string, string>, args: string[]): Promise<GatewayEndpoint> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await startGateway('stdio', gatewayConfig(1), args);
  } finally {
    for (const [k, v] of Object.entries(saved))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  }
}

export async function observabilityRows(sizes: ObservabilitySizes): Promise<Row[]> {
  let exports = 0;
  const sink = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      exports++;
      // An empty ExportTraceServiceResponse: everything accepted.
      res.writeHead(200, { 'Content-Type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', () => resolve()));
  const otel = {
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(sink.address() as AddressInfo).port}`,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    OTEL_SERVICE_NAME: 'mcp-gateway-bench',
  };
  const gateways = new Map<Kind, GatewayEndpoint>();
  try {
    progress('observability: starting gateways with nothing on, metrics, everything traced, and 10 % traced');
    gateways.set('off', await startWith({}, []));
    gateways.set('metrics', await startWith({}, ['--metrics-port', '0']));
    gateways.set('on', await startWith(otel, ['--metrics-port', '0']));
    gateways.set(
      'sampled',
      await startWith(
        { ...otel, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' },
        ['--metrics-port', '0'],
      ),
    );
    await Promise.all([...gateways.values()].map((g) => waitForTools(g.client, ['tb__echo'])));
    const call = (kind: Kind) => () => callTool(gateways.get(kind)!.client, 'tb__echo', ARGS);
    for (const kind of KINDS) {
      await drive(call(kind), sizes.warmup, 1);
      await drive(call(kind), sizes.warmup * 2, IN_FLIGHT);
    }
    const seq = new Map(KINDS.map((k) => [k, new Samples()]));
    const conc = new Map(KINDS.map((k) => [k, new Samples()]));
    const ratios = () => ({ metrics: [] as number[], on: [] as number[], sampled: [] as number[] });
    const [seqRatios, concRatios, cpuRatios] = [ratios(), ratios(), ratios()];
    const cpu = new Map(KINDS.map((k) => [k, { ms: 0, calls: 0 }]));
    for (let round = 0; round < sizes.rounds; round++) {
      progress(`observability: round ${round + 1}/${sizes.rounds}`);
      const k = round % KINDS.length;
      const rotated = [...KINDS.slice(k), ...KINDS.slice(0, k)];
      const order = round % 2 === 0 ? rotated : rotated.reverse();
      const roundSeq = new Map<Kind, LatencyStats>();
      const roundConc = new Map<Kind, LatencyStats>();
      for (const kind of order) {
        const r = await drive(call(kind), Math.ceil(sizes.sequential / sizes.rounds), 1);
        seq.get(kind)!.add(r.latencies, r.wallMs);
        roundSeq.set(kind, latencyStats(r.latencies, r.wallMs));
      }
      const roundCpu = new Map<Kind, number>();
      for (const kind of order) {
        const pid = gateways.get(kind)!.pid;
        const before = cpuMs(pid);
        const r = await drive(call(kind), Math.ceil(sizes.concurrent / sizes.rounds), IN_FLIGHT);
        const after = cpuMs(pid);
        conc.get(kind)!.add(r.latencies, r.wallMs);
        roundConc.set(kind, latencyStats(r.latencies, r.wallMs));
        if (before !== null && after !== null) {
          const total = cpu.get(kind)!;
          total.ms += after - before;
          total.calls += r.latencies.length;
          roundCpu.set(kind, (after - before) / r.latencies.length);
        }
      }
      for (const kind of MEASURED) {
        seqRatios[kind].push(roundSeq.get(kind)!.p50 / roundSeq.get('off')!.p50);
        concRatios[kind].push(roundConc.get(kind)!.rate / roundConc.get('off')!.rate);
        const [cpuKind, cpuOff] = [roundCpu.get(kind), roundCpu.get('off')];
        if (cpuKind !== undefined && cpuOff) cpuRatios[kind].push(cpuKind / cpuOff);
      }
    }
    if (exports === 0) throw new Error('no gateway exported a span: tracing was not on');
    const spread = (ratios: number[]) =>
      ratios.length === 0
        ? 'not measured'
        : `per-round ratio ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}, median ${median(ratios).toFixed(2)}, over ${ratios.length} rounds`;
    const cpuPerCall = (kind: Kind) => {
      const total = cpu.get(kind)!;
      return total.calls > 0 ? (total.ms * 1000) / total.calls : null;
    };
    const reference = 'tracing and metrics off';
    const off = { seq: seq.get('off')!.stats(), conc: conc.get('off')!.stats() };
    return MEASURED.flatMap((kind): Row[] => {
      const s = seq.get(kind)!.stats();
      const c = conc.get(kind)!.stats();
      return [
        {
          id: `observability.${kind}.seq.p50`,
          name: `stdio, sequential: tb__echo p50, ${LABEL[kind]}`,
          unit: 'ms',
          figure: s.p50,
          reference: { label: reference, value: off.seq.p50 },
          target: P50_TARGET,
          note: spread(seqRatios[kind]),
        },
        {
          id: `observability.${kind}.seq.p99`,
          name: `stdio, sequential: tb__echo p99, ${LABEL[kind]}`,
          unit: 'ms',
          figure: s.p99,
          reference: { label: reference, value: off.seq.p99 },
        },
        {
          id: `observability.${kind}.c32.rate`,
          name: `stdio, ${IN_FLIGHT} in flight: tb__echo calls/s, ${LABEL[kind]}`,
          unit: 'calls/s',
          figure: c.rate,
          reference: { label: reference, value: off.conc.rate },
          target: RATE_TARGET,
          note: spread(concRatios[kind]),
        },
        {
          id: `observability.${kind}.c32.cpu`,
          name: `stdio, ${IN_FLIGHT} in flight: gateway CPU per tb__echo call (all threads), ${LABEL[kind]}`,
          unit: 'µs',
          figure: cpuPerCall(kind),
          reference: { label: reference, value: cpuPerCall('off') },
          target: CPU_TARGET,
          note: cpuPerCall(kind) === null ? 'needs /proc (Linux)' : spread(cpuRatios[kind]),
        },
      ];
    });
  } finally {
    await Promise.allSettled([...gateways.values()].map((g) => g.close()));
    await new Promise<void>((resolve) => sink.close(() => resolve()));
  }
}

/** CPU time (user + system, every thread) a process has used, in ms; null without /proc. */
function cpuMs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    // Fields after the command name: utime and stime are the 12th and 13th, in clock ticks (100 Hz).
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}
