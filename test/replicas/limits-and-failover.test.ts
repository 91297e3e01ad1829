/**
 * Rate limits that hold across replicas, and calls that survive a replica going away: killed
 * (SIGKILL) mid-load, a modern client retrying on another replica loses nothing; stopped (SIGTERM),
 * the replica drains and every call it accepted completes.
 */
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  baseOf,
  callTool,
  modernClient,
  type RedisProcess,
  type Replica,
  rawModernCall,
  startRedis,
  startReplica,
  waitReady,
} from '../helpers/cluster.js';
import { stopProcess, testbedServer, writeConfig } from '../helpers/gateway.js';

let redis: RedisProcess;
const replicas: Replica[] = [];

beforeAll(async () => {
  redis = await startRedis();
}, 30_000);
afterAll(async () => {
  await Promise.all(replicas.map((r) => stopProcess(r.child)));
  await redis?.stop();
});

async function pair(extra = ''): Promise<[Replica, Replica]> {
  const yaml = `cluster:\n  redis: ${redis.url}\n${extra}servers:\n${testbedServer('tb')}`;
  const started = await Promise.all([
    startReplica(writeConfig(yaml), `r-${replicas.length}`),
    startReplica(writeConfig(yaml), `r-${replicas.length + 1}`),
  ]);
  replicas.push(...started);
  await Promise.all(started.map((r) => waitReady(r.url)));
  return started;
}

describe('rate limits across replicas', () => {
  it('a per-caller limit counts the calls made on every replica, answered 429 with Retry-After', async () => {
    const [a, b] = await pair(
      'rate_limits:\n  per_caller: { calls: 4, per: 60s }\n  per_server: { calls: 1000 }\n',
    );
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await rawModernCall(i % 2 ? b.url : a.url, 'tb__echo', { i }, 'alice')).status);
    expect(statuses).toEqual([200, 200, 200, 200]);
    const over = await rawModernCall(b.url, 'tb__echo', {}, 'alice');
    expect(over.status).toBe(429);
    const retryAfter = Number(over.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const body = JSON.parse(over.body) as { error: { message: string; data: Record<string, unknown> } };
    expect(body.error.message).toMatch(/Rate limit reached \(rate_limits\.per_caller\)/);
    expect(body.error.data).toMatchObject({ code: 'RATE_LIMITED', limit: 'rate_limits.per_caller' });
    // Another caller has its own allowance.
    expect((await rawModernCall(a.url, 'tb__echo', {}, 'bob')).status).toBe(200);
  });

  it('a per-server limit holds across replicas and callers', async () => {
    const [a, b] = await pair('rate_limits:\n  servers: { tb: { calls: 3, per: 60s } }\n');
    // The previous pair's counters are per setting: a fresh setting starts fresh.
    const seen: number[] = [];
    for (let i = 0; i < 4; i++)
      seen.push((await rawModernCall(i % 2 ? a.url : b.url, 'tb__echo', {}, `c${i}`)).status);
    expect(seen).toEqual([200, 200, 200, 429]);
    // call_backend reaches the same server: the same limit.
    expect((await rawModernCall(a.url, 'call_backend', { server: 'tb', tool: 'echo' }, 'c9')).status).toBe(
      429,
    );
  });
});

/** Calls `name` on the first replica that accepts it, in turn: what a client behind a load balancer gets. */
async function callAnywhere(clients: Client[], start: number, name: string, args: Record<string, unknown>) {
  let lastError: unknown;
  for (let attempt = 0; attempt < clients.length * 2; attempt++) {
    const client = clients[(start + attempt) % clients.length] as Client;
    try {
      const result = await callTool(client, name, args);
      if (!result.isError) return { ok: true as const, attempts: attempt + 1 };
      lastError = JSON.stringify(result.content);
    } catch (err) {
      lastError = err;
    }
  }
  return { ok: false as const, error: String(lastError) };
}

describe('a replica going away under load', () => {
  it('SIGKILL mid-load: a modern client retrying on another replica loses no call', async () => {
    const [a, b] = await pair();
    const clients = [await modernClient(a.url, 'kill-a'), await modernClient(b.url, 'kill-b')];
    const results: Promise<{ ok: boolean; attempts?: number; error?: string }>[] = [];
    const t0 = Date.now();
    let i = 0;
    // About 2 s of load, 4 calls at a time; the kill lands in the middle.
    const load = (async () => {
      while (Date.now() - t0 < 2_000) {
        const batch = Array.from({ length: 4 }, () =>
          callAnywhere(clients, i++ % 2, 'tb__sleep', { ms: 100 }),
        );
        results.push(...batch);
        await Promise.all(batch);
      }
    })();
    await new Promise((r) => setTimeout(r, 800));
    a.child.kill('SIGKILL');
    await load;
    const outcomes = await Promise.all(results);
    const lost = outcomes.filter((o) => !o.ok);
    expect(lost).toEqual([]);
    expect(outcomes.length).toBeGreaterThan(10);
    // Some calls did land on the killed replica and were retried.
    expect(outcomes.some((o) => (o.attempts ?? 1) > 1)).toBe(true);
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
  });

  it('SIGTERM mid-load: the replica drains, finishing every call it accepted; 0 lost', async () => {
    const [a, b] = await pair();
    const onA = await modernClient(a.url, 'term-a');
    const clients = [onA, await modernClient(b.url, 'term-b')];
    // Warm: the client has what it needs (tool list, output schemas) before the calls that count.
    await callTool(onA, 'tb__echo', {});
    // Calls accepted by A before the signal: each must complete on A, not be retried.
    const accepted = Array.from({ length: 6 }, (_, n) =>
      callTool(onA, 'tb__sleep', { ms: 1_000 + n * 50 }).then(
        (r) => (r.isError ? 'error' : 'ok'),
        (err: unknown) => `lost: ${String(err)}`,
      ),
    );
    await new Promise((r) => setTimeout(r, 500));
    const exited = new Promise<number | null>((resolve) => a.child.once('exit', (code) => resolve(code)));
    a.child.kill('SIGTERM');
    // Load that keeps coming during the drain goes elsewhere.
    const during = await Promise.all(
      Array.from({ length: 8 }, (_, n) => callAnywhere(clients, n, 'tb__echo', { n })),
    );
    expect(during.filter((o) => !o.ok)).toEqual([]);
    expect(await Promise.all(accepted)).toEqual(Array(6).fill('ok'));
    expect(await exited).toBe(0);
    expect((await fetch(`${baseOf(b.url)}/readyz`)).status).toBe(200);
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
  });
});
