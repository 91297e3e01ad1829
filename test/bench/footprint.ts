/**
 * Footprint: the gateway's resident memory idle and with 20 stdio backends, and its start-up time to
 * the first answered tools/list, against a bare SDK server (the testbed) and the bare relay.
 */
import { readFileSync } from 'node:fs';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { median, progress, type Row } from './harness.js';
import {
  callTool,
  type Endpoint,
  gatewayConfig,
  rssMb,
  sleep,
  startDirect,
  startGateway,
  startStdioRelay,
} from './processes.js';
import type { Sizes } from './run.js';

const BACKENDS = 20;

/** Spawn → initialize → first tools/list answered, in ms, and the endpoint (still open). */
async function timedStart(start: () => Promise<Endpoint>): Promise<{ ms: number; endpoint: Endpoint }> {
  const t0 = performance.now();
  const endpoint = await start();
  await endpoint.client.listTools();
  return { ms: performance.now() - t0, endpoint };
}

async function allReady(client: Client, count: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await callTool(client, 'list_servers', {});
    const servers =
      (result.structuredContent as { servers?: { status: string }[] } | undefined)?.servers ?? [];
    if (servers.length === count && servers.every((s) => s.status === 'ready')) return;
    if (Date.now() > deadline) throw new Error(`backends not ready after ${timeoutMs} ms`);
    await sleep(10);
  }
}

/** The RSS of a process's direct children (Linux), in MB, or null. */
function childrenRssMb(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean);
    let total = 0;
    for (const kid of kids) total += rssMb(Number(kid)) ?? 0;
    return total;
  } catch {
    return null;
  }
}

export async function footprintRows(sizes: Sizes): Promise<Row[]> {
  const settleMs = sizes.quick ? 300 : 1000;
  const empty = gatewayConfig(0);
  const twenty = gatewayConfig(BACKENDS);
  const bareStart: number[] = [];
  const idleStart: number[] = [];
  const busyStart: number[] = [];
  const busyReady: number[] = [];
  const idleRss: number[] = [];
  const busyRss: number[] = [];
  const childRss: number[] = [];
  const relayRss: number[] = [];

  for (let i = 0; i < sizes.footprintStarts; i++) {
    progress(`footprint: start ${i + 1}/${sizes.footprintStarts}`);
    const bare = await timedStart(() => startDirect());
    bareStart.push(bare.ms);
    await bare.endpoint.close();

    const idle = await timedStart(() => startGateway('stdio', empty));
    idleStart.push(idle.ms);
    await sleep(settleMs);
    idleRss.push(rssMb(idle.endpoint.pid) ?? Number.NaN);
    await idle.endpoint.close();

    const t0 = performance.now();
    const busy = await timedStart(() => startGateway('stdio', twenty));
    busyStart.push(busy.ms);
    await allReady(busy.endpoint.client, BACKENDS);
    busyReady.push(performance.now() - t0);
    await sleep(settleMs);
    busyRss.push(rssMb(busy.endpoint.pid) ?? Number.NaN);
    const kids = childrenRssMb(busy.endpoint.pid);
    if (kids !== null) childRss.push(kids);
    await busy.endpoint.close();

    const relay = await startStdioRelay();
    await callTool(relay.client, 'echo', {});
    await sleep(settleMs);
    relayRss.push(rssMb(relay.pid) ?? Number.NaN);
    await relay.close();
  }

  const idleMb = median(idleRss);
  const busyMb = median(busyRss);
  const perBackend = (busyMb - idleMb) / BACKENDS;
  const kidsNote = childRss.length
    ? `; the ${BACKENDS} backend processes themselves: ${median(childRss).toFixed(0)} MB`
    : '';
  const runs = `median of ${sizes.footprintStarts} starts`;
  return [
    {
      id: 'footprint.rss.idle',
      name: 'gateway RSS, idle (no backends)',
      unit: 'MB',
      figure: idleMb,
      reference: { label: 'bare relay (1 backend)', value: median(relayRss) },
      note: runs,
    },
    {
      id: 'footprint.rss.backends',
      name: `gateway RSS with ${BACKENDS} stdio backends`,
      unit: 'MB',
      figure: busyMb,
      reference: { label: 'idle gateway', value: idleMb },
      note: `${perBackend.toFixed(2)} MB per backend in the gateway${kidsNote}`,
    },
    {
      id: 'footprint.startup.idle',
      name: 'start-up to first tools/list (no backends)',
      unit: 'ms',
      figure: median(idleStart),
      reference: { label: 'bare SDK server', value: median(bareStart) },
      note: runs,
    },
    {
      id: 'footprint.startup.backends',
      name: `start-up to first tools/list (${BACKENDS} stdio backends)`,
      unit: 'ms',
      figure: median(busyStart),
      reference: { label: 'bare SDK server', value: median(bareStart) },
    },
    {
      id: 'footprint.ready.backends',
      name: `start-up until all ${BACKENDS} backends are ready`,
      unit: 'ms',
      figure: median(busyReady),
      reference: { label: 'bare SDK server', value: median(bareStart) },
    },
  ];
}
