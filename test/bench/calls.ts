/**
 * Per-call overhead: the same instant backend tool (testbed `echo`) called directly, through the bare
 * relay, and through the gateway as `call_backend` and as `tb__echo`, sequentially and with 32 calls in
 * flight. The endpoints are measured in interleaved rounds (the order changes each round), so drift on
 * a shared machine falls on all of them alike.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { drive, type LatencyStats, progress, type Row, Samples, type Target } from './harness.js';
import {
  callTool,
  type Endpoint,
  gatewayConfig,
  startDirect,
  startGateway,
  startHttpRelay,
  startStdioRelay,
  waitForTools,
} from './processes.js';

export interface CallSizes {
  rounds: number;
  /** Sequential calls per endpoint, over all rounds. */
  sequential: number;
  /** Calls per endpoint with IN_FLIGHT in flight, over all rounds. */
  concurrent: number;
  warmup: number;
}

export const IN_FLIGHT = 32;
const ARGS = { text: 'hello', n: 1 };
const P50_TARGET: Target = { kind: 'ratio', op: '<=', bound: 1.15 };
const RATE_TARGET: Target = { kind: 'ratio', op: '>=', bound: 0.9 };

type Kind = 'direct' | 'relay' | 'call_backend' | 'namespaced';

interface Contender {
  kind: Kind;
  call: () => Promise<unknown>;
}

function contender(kind: Kind, client: Client): Contender {
  const check = async (promise: Promise<{ isError?: boolean }>) => {
    const result = await promise;
    if (result.isError) throw new Error(`${kind}: the call failed: ${JSON.stringify(result)}`);
  };
  switch (kind) {
    case 'direct':
    case 'relay':
      return { kind, call: () => check(callTool(client, 'echo', ARGS)) };
    case 'call_backend':
      return {
        kind,
        call: () => check(callTool(client, 'call_backend', { server: 'tb', tool: 'echo', params: ARGS })),
      };
    case 'namespaced':
      return { kind, call: () => check(callTool(client, 'tb__echo', ARGS)) };
  }
}

/** Rows for one transport: the gateway's two tools against the relay, and the relay against direct. */
export async function callRows(transport: 'stdio' | 'http', sizes: CallSizes): Promise<Row[]> {
  progress(`${transport}: starting direct backend, bare relay and gateway`);
  const endpoints: Endpoint[] = [];
  try {
    const direct = await startDirect();
    endpoints.push(direct);
    const relay = transport === 'stdio' ? await startStdioRelay() : await startHttpRelay();
    endpoints.push(relay);
    const gateway = await startGateway(transport, gatewayConfig(1));
    endpoints.push(gateway);
    await waitForTools(gateway.client, ['call_backend', 'tb__echo']);

    const contenders = [
      contender('direct', direct.client),
      contender('relay', relay.client),
      contender('call_backend', gateway.client),
      // Over HTTP each gets a session of its own, as two clients would; a session's client-side
      // costs (undici keeps an abort listener per request until GC) then fall on each alike.
      contender('namespaced', (await gateway.connectAnother?.()) ?? gateway.client),
    ];
    for (const c of contenders) {
      await drive(c.call, sizes.warmup, 1);
      await drive(c.call, sizes.warmup * 2, IN_FLIGHT);
    }
    const seq = new Map(contenders.map((c) => [c.kind, new Samples()]));
    const conc = new Map(contenders.map((c) => [c.kind, new Samples()]));
    for (let round = 0; round < sizes.rounds; round++) {
      progress(`${transport}: round ${round + 1}/${sizes.rounds}`);
      const order = orderFor(contenders, round);
      for (const c of order) {
        const r = await drive(c.call, Math.ceil(sizes.sequential / sizes.rounds), 1);
        seq.get(c.kind)!.add(r.latencies, r.wallMs);
      }
      for (const c of order) {
        const r = await drive(c.call, Math.ceil(sizes.concurrent / sizes.rounds), IN_FLIGHT);
        conc.get(c.kind)!.add(r.latencies, r.wallMs);
      }
    }
    const stats = (m: Map<Kind, Samples>) => (k: Kind) => m.get(k)!.stats();
    return [
      ...modeRows(transport, 'sequential', stats(seq)),
      ...modeRows(transport, `${IN_FLIGHT} in flight`, stats(conc)),
    ];
  } finally {
    await Promise.allSettled(endpoints.map((e) => e.close()));
  }
}

/**
 * The order of round `round`: rotated, and reversed every other round, so that no endpoint always
 * follows the same other one (a process's GC debt from one burst would otherwise always fall on the
 * same next endpoint: call_backend and tb__echo share the gateway process).
 */
function orderFor<T>(items: readonly T[], round: number): T[] {
  const k = Math.floor(round / 2) % items.length;
  const rotated = [...items.slice(k), ...items.slice(0, k)];
  return round % 2 === 0 ? rotated : rotated.reverse();
}

function modeRows(transport: 'stdio' | 'http', mode: string, stats: (k: Kind) => LatencyStats): Row[] {
  const sequential = mode === 'sequential';
  const idMode = sequential ? 'seq' : `c${IN_FLIGHT}`;
  const relayLabel = transport === 'stdio' ? 'bare relay' : 'bare HTTP relay';
  const relay = stats('relay');
  const direct = stats('direct');
  const rows: Row[] = [];
  for (const kind of ['call_backend', 'namespaced'] as const) {
    const s = stats(kind);
    const label = kind === 'call_backend' ? 'call_backend' : 'tb__echo';
    const id = `${transport}.${idMode}.${kind}`;
    const name = `${transport}, ${mode}: ${label}`;
    rows.push(
      {
        id: `${id}.p50`,
        name: `${name} p50`,
        unit: 'ms',
        figure: s.p50,
        reference: { label: relayLabel, value: relay.p50 },
        ...(sequential ? { target: P50_TARGET } : {}),
      },
      {
        id: `${id}.p99`,
        name: `${name} p99`,
        unit: 'ms',
        figure: s.p99,
        reference: { label: relayLabel, value: relay.p99 },
      },
      {
        id: `${id}.rate`,
        name: `${name} calls/s`,
        unit: 'calls/s',
        figure: s.rate,
        reference: { label: relayLabel, value: relay.rate },
        ...(sequential ? {} : { target: RATE_TARGET }),
      },
    );
  }
  const directLabel = transport === 'stdio' ? 'direct' : 'direct (stdio)';
  const id = `${transport}.${idMode}.relay`;
  const name = `${transport}, ${mode}: ${relayLabel}`;
  rows.push(
    {
      id: `${id}.p50`,
      name: `${name} p50`,
      unit: 'ms',
      figure: relay.p50,
      reference: { label: directLabel, value: direct.p50 },
    },
    {
      id: `${id}.p99`,
      name: `${name} p99`,
      unit: 'ms',
      figure: relay.p99,
      reference: { label: directLabel, value: direct.p99 },
    },
    {
      id: `${id}.rate`,
      name: `${name} calls/s`,
      unit: 'calls/s',
      figure: relay.rate,
      reference: { label: directLabel, value: direct.rate },
    },
  );
  return rows;
}
