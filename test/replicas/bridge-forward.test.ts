/**
 * A 2026-07-28 client's retry after input_required reaches the replica that parked the call, whatever
 * replica the load balancer picks: the one it lands on forwards it (each replica publishes its
 * address in Redis) and relays the answer. A forwarded request is never forwarded again, and a retry
 * for a replica that is gone (stopped, or killed) gets a clear error saying to start again.
 * Real processes: a Redis, three gateway replicas (and nginx in front of two), a 2025-only backend
 * that elicits mid-call.
 */
import { type Client, StreamableHTTPClientTransport, withInputRequired } from '@modelcontextprotocol/client';
import { CallToolResultSchema } from '@modelcontextprotocol/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type RedisProcess,
  type Replica,
  startNginx,
  startRedis,
  startReplica,
  waitReady,
} from '../helpers/cluster.js';
import { ERA_LEGACY, eraClient, eraServer } from '../helpers/eras.js';
import { stopProcess, writeConfig } from '../helpers/gateway.js';
import { waitFor } from '../helpers/wait.js';

let redis: RedisProcess;
let a: Replica;
let b: Replica;
let c: Replica;
const clients: Client[] = [];

type Outcome = {
  resultType?: string;
  inputRequests?: Record<string, { method: string }>;
  requestState?: string;
  content?: { text: string }[];
};
const SCHEMA = withInputRequired(CallToolResultSchema);
const ANSWER = { action: 'accept', content: { name: 'Ada' } };

function call(client: Client, question: string, extra: Record<string, unknown> = {}) {
  return client.request(
    { method: 'tools/call', params: { name: 'old__ask', arguments: { question }, ...extra } },
    SCHEMA,
    { allowInputRequired: true },
  ) as Promise<Outcome>;
}

/** The first round of a call on `client`'s replica: the state and the key to answer under. */
async function asked(client: Client, question: string) {
  const first = await call(client, question);
  expect(first.resultType).toBe('input_required');
  const [key] = Object.keys(first.inputRequests ?? {});
  return {
    retry: { requestState: first.requestState as string, inputResponses: { [key as string]: ANSWER } },
  };
}

/** A modern client that answers nothing itself (the test retries), optionally sending extra headers. */
async function connect(url: string, headers: Record<string, string> = {}): Promise<Client> {
  const { client } = eraClient('modern', undefined, { inputRequired: { autoFulfill: false } });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  await waitFor(async () => (await client.listTools()).tools.some((t) => t.name === 'old__ask'), {
    timeoutMs: 20_000,
  });
  clients.push(client);
  return client;
}

beforeAll(async () => {
  redis = await startRedis();
  const config = () =>
    writeConfig(`cluster:\n  redis: ${redis.url}\nservers:\n${eraServer('old', ERA_LEGACY, 'legacy')}`);
  [a, b, c] = await Promise.all([
    startReplica(config(), 'replica-a'),
    startReplica(config(), 'replica-b'),
    startReplica(config(), 'replica-c'),
  ]);
  await Promise.all([waitReady(a.url), waitReady(b.url), waitReady(c.url)]);
}, 60_000);

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close().catch(() => {})));
  await Promise.all([a, b, c].filter(Boolean).map((r) => stopProcess(r.child)));
  await redis?.stop();
});

describe('a bridged input_required retry that lands on another replica', () => {
  it('is forwarded to the replica holding the call, which answers it', async () => {
    const onA = await connect(a.url);
    const onB = await connect(b.url);
    const { retry } = await asked(onA, 'Who?');
    const done = await call(onB, 'Who?', retry);
    expect(done.content?.[0]?.text).toBe('hello Ada');
    // It was A's parked call that the retry resumed: the state is used up there.
    await expect(call(onA, 'Who?', retry)).rejects.toThrow(/invalid requestState: it was already used/);
  });

  it('through nginx (round-robin over two replicas), every retry reaches the call it answers', async () => {
    const nginx = await startNginx([new URL(a.url).host, new URL(b.url).host]);
    const forwarded = () => `${a.stderr()}${b.stderr()}`.split('forwarding a retry').length - 1;
    const before = forwarded();
    try {
      const client = await connect(nginx.url);
      for (const question of ['One?', 'Two?', 'Three?', 'Four?']) {
        const { retry } = await asked(client, question);
        expect((await call(client, question, retry)).content?.[0]?.text).toBe('hello Ada');
      }
      // Round-robin sent retries to the replica that did not hold the call: forwarded.
      expect(forwarded()).toBeGreaterThan(before);
    } finally {
      await nginx.stop();
    }
  });

  it('is not forwarded a second time: a request already forwarded is answered where it lands', async () => {
    const onA = await connect(a.url);
    const marked = await connect(b.url, { 'mcp-gateway-forwarded-by': 'replica-x' });
    const { retry } = await asked(onA, 'Loop?');
    await expect(call(marked, 'Loop?', retry)).rejects.toThrow(
      /issued by gateway replica 'replica-a', and this is replica 'replica-b'/,
    );
    // Refused without touching the call: the retry on A still resumes it.
    expect((await call(onA, 'Loop?', retry)).content?.[0]?.text).toBe('hello Ada');
  });

  it('gets a clear error when the replica that held the call was killed (SIGKILL: its status lingers)', async () => {
    const onC = await connect(c.url);
    const onB = await connect(b.url);
    const { retry } = await asked(onC, 'Killed?');
    c.child.kill('SIGKILL');
    await new Promise((resolve) => c.child.once('exit', resolve));
    await expect(call(onB, 'Killed?', retry)).rejects.toThrow(
      /issued by gateway replica 'replica-c', which could not be reached .*start the request again without requestState/,
    );
  });

  it('gets a clear error when the replica that held the call has left the cluster (SIGTERM)', async () => {
    const onA = await connect(a.url);
    const onB = await connect(b.url);
    const { retry } = await asked(onA, 'Gone?');
    await stopProcess(a.child);
    await expect(call(onB, 'Gone?', retry)).rejects.toThrow(
      /issued by gateway replica 'replica-a', which is no longer in the cluster; .*start the request again/,
    );
  });
});
