/**
 * Several gateway replicas over one real Redis: runtime registrations, caps, legacy sessions, config
 * reload status and a Redis outage. Heavy (a Redis and several gateways): `npm run test:replicas`.
 */
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  baseOf,
  callTool,
  modernClient,
  type RedisProcess,
  type Replica,
  startRedis,
  startReplica,
  structured,
  waitReady,
} from '../helpers/cluster.js';
import { NODE, stopProcess, TESTBED, testbedServer, writeConfig } from '../helpers/gateway.js';
import { INITIALIZE, MCP_ACCEPT, openRawSession, rawRequest } from '../helpers/http-raw.js';
import { waitFor } from '../helpers/wait.js';

let redis: RedisProcess;
const replicas: Replica[] = [];
let configA: string;
let a: Replica;
let b: Replica;

const clusterYaml = (url: string, extra = '') =>
  `cluster:\n  redis: ${url}\nlimits:\n  max_runtime_backends: 2\nhttp:\n  allow_commands:\n    - command: ${JSON.stringify(NODE)}\n      args: ["..."]\n${extra}servers:\n${testbedServer('base')}`;

beforeAll(async () => {
  redis = await startRedis();
  configA = writeConfig(clusterYaml(redis.url));
  const configB = writeConfig(clusterYaml(redis.url));
  [a, b] = await Promise.all([startReplica(configA, 'replica-a'), startReplica(configB, 'replica-b')]);
  replicas.push(a, b);
  await Promise.all([waitReady(a.url), waitReady(b.url)]);
}, 60_000);

afterAll(async () => {
  await Promise.all(replicas.map((r) => stopProcess(r.child)));
  await redis?.stop();
});

const registerArgs = (name: string) => ({
  name,
  command: NODE,
  args: [TESTBED, '--name', name, '--fault-tools'],
});

describe('runtime registrations across replicas', () => {
  it('a server registered on one replica serves calls on another within 2 s, and its removal reaches every replica', async () => {
    const onA = await modernClient(a.url);
    const onB = await modernClient(b.url);
    try {
      const registered = await callTool(onA, 'register_server', registerArgs('shared1'));
      expect(registered.isError, JSON.stringify(registered.content)).toBeFalsy();
      const t0 = Date.now();
      const echoed = await waitFor(
        async () => {
          const r = await callTool(onB, 'shared1__echo', { hello: 'b' });
          return r.isError ? undefined : r;
        },
        { timeoutMs: 2_000, intervalMs: 50 },
      );
      expect(Date.now() - t0).toBeLessThan(2_000);
      // B runs its own process of it: the testbed names its server in what it echoes.
      expect(JSON.stringify(echoed.content)).toContain('shared1');
      const pidA = structured<{ pid: number }>(await callTool(onA, 'shared1__pid')).pid;
      const pidB = structured<{ pid: number }>(await callTool(onB, 'shared1__pid')).pid;
      expect(pidA).toBeTruthy();
      expect(pidB).not.toBe(pidA);

      // Removed on B (not where it was registered): gone on A too.
      const removed = await callTool(onB, 'remove_server', { name: 'shared1' });
      expect(removed.isError, JSON.stringify(removed.content)).toBeFalsy();
      await waitFor(
        async () => {
          const names = (await onA.listTools()).tools.map((t) => t.name);
          return !names.includes('shared1__echo');
        },
        { timeoutMs: 2_000, intervalMs: 50 },
      );
    } finally {
      await onA.close();
      await onB.close();
    }
  });

  it('a replica started later serves what was registered before it came, and the cap counts the cluster', async () => {
    const onA = await modernClient(a.url);
    try {
      expect((await callTool(onA, 'register_server', registerArgs('early'))).isError).toBeFalsy();
      const onB = await modernClient(b.url);
      // The name is the cluster's: taken on B too.
      const taken = await callTool(onB, 'register_server', registerArgs('early'));
      expect(structured(taken)).toMatchObject({ code: 'BACKEND_EXISTS' });
      // Registered on B: the cluster now holds 2, the most max_runtime_backends allows.
      expect((await callTool(onB, 'register_server', registerArgs('early2'))).isError).toBeFalsy();
      const refused = await callTool(onA, 'register_server', registerArgs('third'));
      expect(refused.isError).toBe(true);
      expect(structured(refused)).toMatchObject({ code: 'REGISTER_LIMIT' });
      await onB.close();

      const c = await startReplica(writeConfig(clusterYaml(redis.url)), 'replica-c');
      replicas.push(c);
      await waitReady(c.url);
      const onC = await modernClient(c.url);
      const r = await waitFor(
        async () => {
          const result = await callTool(onC, 'early2__echo', { from: 'c' });
          return result.isError ? undefined : result;
        },
        { timeoutMs: 10_000 },
      );
      expect(JSON.stringify(r.content)).toContain('early2');
      await onC.close();
      await stopProcess(c.child);
    } finally {
      for (const name of ['early', 'early2']) await callTool(onA, 'remove_server', { name }).catch(() => {});
      await onA.close();
    }
  });
});

describe('legacy sessions', () => {
  it('a session id unknown on this replica is answered 404, so the client initialises again', async () => {
    const session = await openRawSession(a.url);
    const onB = await rawRequest(b.url, {
      headers: { 'mcp-session-id': session, accept: MCP_ACCEPT, 'mcp-protocol-version': '2025-11-25' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    });
    expect(onB.status).toBe(404);
    expect(onB.body).toContain('Session not found');
    // Re-initialising on B works.
    const again = await rawRequest(b.url, { body: INITIALIZE });
    expect(again.status).toBe(200);
    expect(again.headers['mcp-session-id']).toBeTruthy();
  });
});

describe('replica-safe hot reload', () => {
  it("a reload one replica refuses shows in every replica's list_servers", async () => {
    writeFileSync(configA, `timeout: not-a-duration\n${clusterYaml(redis.url)}`);
    const onB = await modernClient(b.url);
    try {
      const seen = await waitFor(
        async () => {
          const listed = structured<{
            cluster: { replicas: { replica: string; config: string; issues?: string[] }[] };
          }>(await callTool(onB, 'list_servers'));
          return listed.cluster.replicas.find((r) => r.replica === 'replica-a' && r.config === 'refused');
        },
        { timeoutMs: 10_000, intervalMs: 200 },
      );
      expect(seen.issues?.join(' ')).toMatch(/gateway\.yaml:1:\d+: .*timeout|duration/);
      // The address replicas forward retries to is theirs, not the client's.
      expect(seen).not.toHaveProperty('url');
      writeFileSync(configA, clusterYaml(redis.url));
      await waitFor(
        async () => {
          const listed = structured<{ cluster: { replicas: { replica: string; config: string }[] } }>(
            await callTool(onB, 'list_servers'),
          );
          return listed.cluster.replicas.find((r) => r.replica === 'replica-a')?.config === 'ok';
        },
        { timeoutMs: 10_000, intervalMs: 200 },
      );
    } finally {
      await onB.close();
    }
  });
});

describe('Redis going away', () => {
  it('degrades to a clear error and recovers when Redis returns', async () => {
    const onA = await modernClient(a.url);
    try {
      await redis.stop();
      await waitFor(async () => (await fetch(`${baseOf(a.url)}/readyz`)).status === 503, {
        timeoutMs: 10_000,
      });
      // Backends already serving go on.
      expect((await callTool(onA, 'base__echo', { x: 1 })).isError).toBeFalsy();
      const refused = await callTool(onA, 'register_server', registerArgs('during'));
      expect(refused.isError).toBe(true);
      expect(structured(refused)).toMatchObject({ code: 'CLUSTER_UNAVAILABLE' });
      expect(JSON.stringify(refused.content)).toMatch(/cannot be reached.*Try again/);

      await redis.restart();
      await waitReady(a.url, 15_000);
      await waitReady(b.url, 15_000);
      const ok = await callTool(onA, 'register_server', registerArgs('after'));
      expect(ok.isError, JSON.stringify(ok.content)).toBeFalsy();
      await callTool(onA, 'remove_server', { name: 'after' });
    } finally {
      await onA.close();
    }
  }, 60_000);
});
