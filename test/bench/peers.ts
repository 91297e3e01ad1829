/**
 * The HTTP front on both protocol eras beside a peer gateway, `mcp-hub` (npm, run as a process with the
 * same testbed echo backend), in one run: sequential p50 and calls/s with 32 in flight, interleaved
 * rounds as in calls.ts.
 *
 * - `hub`: mcp-hub 4.2.1's client endpoint (`/mcp`, the HTTP+SSE transport: the only one it serves),
 *   tool `tb__echo`, no authentication (it has none).
 * - `legacy`: the gateway with a bearer token set (auth on; the rest at its defaults), an SDK 2.x client
 *   in the 2025-11-25 era (initialize, a session).
 * - `modern`: the same gateway, an SDK 2.x client pinned to 2026-07-28 (stateless requests).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client as ModernClient, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { GATEWAY_BIN, NODE, stopProcess, TESTBED } from '../helpers/gateway.js';
import { freePort } from '../helpers/ports.js';
import { drive, type LatencyStats, progress, type Row, Samples, type Target } from './harness.js';
import { gatewayConfig, track } from './processes.js';

export interface PeerSizes {
  rounds: number;
  sequential: number;
  concurrent: number;
  warmup: number;
}

const IN_FLIGHT = 32;
const ARGS = { text: 'hello', n: 1 };
const TOKEN = 'bench-token-0123456789abcdef';
const HUB_BIN = path.resolve(import.meta.dirname, '../../node_modules/mcp-hub/dist/cli.js');

type Kind = 'hub' | 'legacy' | 'modern';
const KINDS: readonly Kind[] = ['hub', 'legacy', 'modern'];

/** The targets against mcp-hub: modern ≥ 1.3× its calls/s and p50 at or below; legacy ≥ 1×. */
const TARGETS: Record<Exclude<Kind, 'hub'>, { p50: Target; rate: Target }> = {
  modern: { p50: { kind: 'ratio', op: '<=', bound: 1 }, rate: { kind: 'ratio', op: '>=', bound: 1.3 } },
  legacy: { p50: { kind: 'ratio', op: '<=', bound: 1 }, rate: { kind: 'ratio', op: '>=', bound: 1 } },
};
const LABEL: Record<Kind, string> = {
  hub: 'mcp-hub 4.2.1 (HTTP+SSE)',
  legacy: 'gateway, 2025-11-25 session',
  modern: 'gateway, 2026-07-28 stateless',
};

interface Caller {
  call(): Promise<unknown>;
  close(): Promise<void>;
}

async function waitUntil(what: string, probe: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} did not come up within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function checked(kind: Kind, result: { isError?: boolean }): void {
  if (result.isError) throw new Error(`${kind}: the call failed: ${JSON.stringify(result)}`);
}

async function startHub(): Promise<Caller> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mcp-gateway-bench-hub-'));
  const config = path.join(dir, 'hub.json');
  writeFileSync(
    config,
    JSON.stringify({ mcpServers: { tb: { command: NODE, args: [TESTBED, '--name', 'tb'] } } }),
  );
  const port = await freePort();
  // XDG_STATE_HOME: mcp-hub keeps a workspace cache and logs there; keep them out of the home folder.
  const child = track(
    spawn(NODE, [HUB_BIN, '--port', String(port), '--config', config], {
      env: { ...process.env, XDG_STATE_HOME: dir },
      stdio: ['ignore', 'ignore', 'ignore'],
    }),
  );
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitUntil('mcp-hub', async () => {
      const health = (await (await fetch(`${base}/api/health`)).json()) as { state?: string };
      return health.state === 'ready';
    });
    const client = new Client({ name: 'bench-hub', version: '1.0.0' });
    await client.connect(new SSEClientTransport(new URL(`${base}/mcp`)));
    await waitUntil('mcp-hub tb__echo', async () =>
      (await client.listTools()).tools.some((t) => t.name === 'tb__echo'),
    );
    return {
      call: async () =>
        checked('hub', (await client.callTool({ name: 'tb__echo', arguments: ARGS })) as never),
      close: async () => {
        await client.close();
        await stopProcess(child);
      },
    };
  } catch (err) {
    await stopProcess(child);
    throw err;
  }
}

async function startGatewayHttp(): Promise<{ url: string; close(): Promise<void> }> {
  const port = await freePort();
  const child = track(
    spawn(
      NODE,
      [
        GATEWAY_BIN,
        'serve',
        '--transport',
        'streamable-http',
        '--port',
        String(port),
        '--config',
        gatewayConfig(1),
      ],
      { env: { ...process.env, MCP_GATEWAY_TOKEN: TOKEN }, stdio: ['ignore', 'ignore', 'ignore'] },
    ),
  );
  const url = `http://127.0.0.1:${port}/mcp`;
  try {
    await waitUntil('gateway', async () => (await fetch(url, { method: 'GET' })).status > 0);
    return { url, close: () => stopProcess(child) };
  } catch (err) {
    await stopProcess(child);
    throw err;
  }
}

async function gatewayCaller(url: string, kind: 'legacy' | 'modern'): Promise<Caller> {
  const versionNegotiation =
    kind === 'modern' ? { mode: { pin: '2026-07-28' as const } } : { mode: 'legacy' as const };
  const client = new ModernClient({ name: `bench-${kind}`, version: '1.0.0' }, { versionNegotiation });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), {
      requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } },
    }),
  );
  await waitUntil(`gateway tb__echo (${kind})`, async () =>
    (await client.listTools()).tools.some((t) => t.name === 'tb__echo'),
  );
  return {
    call: async () => checked(kind, (await client.callTool({ name: 'tb__echo', arguments: ARGS })) as never),
    close: () => client.close(),
  };
}

export async function peerRows(sizes: PeerSizes): Promise<Row[]> {
  progress('peers: starting mcp-hub and the gateway over HTTP, each with the testbed backend');
  const closers: (() => Promise<void>)[] = [];
  try {
    const hub = await startHub();
    closers.push(() => hub.close());
    const gateway = await startGatewayHttp();
    closers.push(() => gateway.close());
    const callers = new Map<Kind, Caller>([['hub', hub]]);
    for (const kind of ['legacy', 'modern'] as const) {
      const caller = await gatewayCaller(gateway.url, kind);
      closers.unshift(() => caller.close());
      callers.set(kind, caller);
    }
    for (const kind of KINDS) {
      const call = () => callers.get(kind)!.call();
      await drive(call, sizes.warmup, 1);
      await drive(call, sizes.warmup * 2, IN_FLIGHT);
    }
    const seq = new Map(KINDS.map((k) => [k, new Samples()]));
    const conc = new Map(KINDS.map((k) => [k, new Samples()]));
    const rateRatios = { legacy: [] as number[], modern: [] as number[] };
    for (let round = 0; round < sizes.rounds; round++) {
      progress(`peers: round ${round + 1}/${sizes.rounds}`);
      const k = round % KINDS.length;
      const rotated = [...KINDS.slice(k), ...KINDS.slice(0, k)];
      const order = round % 2 === 0 ? rotated : rotated.reverse();
      for (const kind of order) {
        const r = await drive(() => callers.get(kind)!.call(), Math.ceil(sizes.sequential / sizes.rounds), 1);
        seq.get(kind)!.add(r.latencies, r.wallMs);
      }
      const roundRates = new Map<Kind, number>();
      for (const kind of order) {
        const n = Math.ceil(sizes.concurrent / sizes.rounds);
        const r = await drive(() => callers.get(kind)!.call(), n, IN_FLIGHT);
        conc.get(kind)!.add(r.latencies, r.wallMs);
        roundRates.set(kind, (r.latencies.length / r.wallMs) * 1000);
      }
      for (const kind of ['legacy', 'modern'] as const)
        rateRatios[kind].push(roundRates.get(kind)! / roundRates.get('hub')!);
    }
    const hubSeq = seq.get('hub')!.stats();
    const hubConc = conc.get('hub')!.stats();
    const reference = (s: LatencyStats, of: 'p50' | 'rate') => ({ label: LABEL.hub, value: s[of] });
    const rows: Row[] = [
      {
        id: 'peers.hub.seq.p50',
        name: `HTTP, sequential: tb__echo p50, ${LABEL.hub}`,
        unit: 'ms',
        figure: hubSeq.p50,
      },
      {
        id: 'peers.hub.c32.rate',
        name: `HTTP, ${IN_FLIGHT} in flight: tb__echo calls/s, ${LABEL.hub}`,
        unit: 'calls/s',
        figure: hubConc.rate,
      },
    ];
    for (const kind of ['legacy', 'modern'] as const) {
      const s = seq.get(kind)!.stats();
      const c = conc.get(kind)!.stats();
      const ratios = rateRatios[kind];
      rows.push(
        {
          id: `peers.${kind}.seq.p50`,
          name: `HTTP, sequential: tb__echo p50, ${LABEL[kind]}`,
          unit: 'ms',
          figure: s.p50,
          reference: reference(hubSeq, 'p50'),
          target: TARGETS[kind].p50,
        },
        {
          id: `peers.${kind}.c32.rate`,
          name: `HTTP, ${IN_FLIGHT} in flight: tb__echo calls/s, ${LABEL[kind]}`,
          unit: 'calls/s',
          figure: c.rate,
          reference: reference(hubConc, 'rate'),
          target: TARGETS[kind].rate,
          note: `per-round ratio ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)} over ${ratios.length} rounds; p99 ${c.p99.toFixed(1)} ms vs ${hubConc.p99.toFixed(1)} ms`,
        },
      );
    }
    return rows;
  } finally {
    for (const close of closers) await close().catch(() => {});
  }
}
