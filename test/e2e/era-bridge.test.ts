/**
 * The requestState the gateway hands a 2026-07-28 client when a 2025-only backend asks for input
 * mid-call: one retry resumes the parked call; a replayed, forged, re-targeted, expired or
 * other-replica state gets an error saying which; waiting for the person does not count against the
 * backend's timeout; and a 2026 backend that keeps asking is stopped at bridge.max_rounds.
 * Real processes: two gateway replicas sharing a key, an SDK 1.x backend, an SDK 2.x backend.
 */
import type { ChildProcess } from 'node:child_process';
import { type Client, withInputRequired } from '@modelcontextprotocol/client';
import { CallToolResultSchema } from '@modelcontextprotocol/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERA_LEGACY, ERA_MODERN, eraClient, eraServer, httpTransport } from '../helpers/eras.js';
import { startHttpGateway, stopProcess, writeConfig } from '../helpers/gateway.js';
import { waitFor } from '../helpers/wait.js';

const KEY = 'k'.repeat(40);
const configOf = (replica: string) =>
  writeConfig(
    `bridge:\n  state_key: ${KEY}\n  replica: ${replica}\n  state_ttl: 6s\n  max_rounds: 2\nservers:\n${eraServer('old', ERA_LEGACY, 'legacy', '    timeout: 2s\n')}${eraServer('new', ERA_MODERN, 'modern')}`,
  );
const gateways: { url: string; child: ChildProcess; stderr: () => string }[] = [];
/** A 2026 client that handles input_required itself. */
let manual: Client;
let west: Client;

type Outcome = {
  resultType?: string;
  inputRequests?: Record<string, { method: string }>;
  requestState?: string;
};
const SCHEMA = withInputRequired(CallToolResultSchema);
const ANSWER = { action: 'accept', content: { name: 'Ada' } };

function call(client: Client, args: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return client.request(
    { method: 'tools/call', params: { name: 'old__ask', arguments: args, ...extra } },
    SCHEMA,
    { allowInputRequired: true },
  ) as Promise<Outcome & { content?: { text: string }[] }>;
}

async function asked(client: Client, question: string): Promise<{ state: string; key: string }> {
  const first = await call(client, { question });
  expect(first.resultType).toBe('input_required');
  const [key, request] = Object.entries(first.inputRequests ?? {})[0] ?? [];
  expect(request?.method).toBe('elicitation/create');
  return { state: first.requestState as string, key: key as string };
}

const answer = (key: string) => ({ inputResponses: { [key]: ANSWER } });

beforeAll(async () => {
  for (const replica of ['east', 'west'])
    gateways.push(await startHttpGateway(['--config', configOf(replica)]));
  const connect = async (url: string) => {
    const { client } = eraClient('modern', undefined, { inputRequired: { autoFulfill: false } });
    await client.connect(httpTransport(url));
    await waitFor(async () => (await client.listTools()).tools.some((t) => t.name === 'old__ask'), {
      timeoutMs: 20_000,
    });
    return client;
  };
  manual = await connect(gateways[0]?.url as string);
  west = await connect(gateways[1]?.url as string);
}, 40_000);
afterAll(async () => {
  await manual?.close();
  await west?.close();
  for (const gw of gateways) await stopProcess(gw.child);
});

describe("a 2025-only backend's elicitation, bridged to a 2026 client", () => {
  it('is answered by one retry with the requestState, and a replay of it is refused', async () => {
    const { state, key } = await asked(manual, 'Who?');
    const done = await call(manual, { question: 'Who?' }, { ...answer(key), requestState: state });
    expect(done.content?.[0]?.text).toBe('hello Ada');
    await expect(call(manual, { question: 'Who?' }, { ...answer(key), requestState: state })).rejects.toThrow(
      /invalid requestState: it was already used/,
    );
  });

  it('refuses a forged state, and one issued for other arguments', async () => {
    const { state, key } = await asked(manual, 'Forged?');
    const forged = `${state.slice(0, -3)}${state.endsWith('AAA') ? 'BBB' : 'AAA'}`;
    await expect(
      call(manual, { question: 'Forged?' }, { ...answer(key), requestState: forged }),
    ).rejects.toThrow(/invalid requestState: its signature does not match/);
    await expect(
      call(manual, { question: 'Other?' }, { ...answer(key), requestState: state }),
    ).rejects.toThrow(/invalid requestState: it was issued for another call/);
    // Neither refusal used the state up: the right retry still resumes the call.
    const done = await call(manual, { question: 'Forged?' }, { ...answer(key), requestState: state });
    expect(done.content?.[0]?.text).toBe('hello Ada');
  });

  it('names the replica that holds the call when the retry reaches another one', async () => {
    const { state, key } = await asked(manual, 'Where?');
    await expect(call(west, { question: 'Where?' }, { ...answer(key), requestState: state })).rejects.toThrow(
      /issued by gateway replica 'east', and this is replica 'west'/,
    );
    const done = await call(manual, { question: 'Where?' }, { ...answer(key), requestState: state });
    expect(done.content?.[0]?.text).toBe('hello Ada');
  });

  it("does not count the person's time against the backend's timeout (2s here)", {
    timeout: 15_000,
  }, async () => {
    const { state, key } = await asked(manual, 'Slowly?');
    await new Promise((r) => setTimeout(r, 3_000));
    const done = await call(manual, { question: 'Slowly?' }, { ...answer(key), requestState: state });
    expect(done.content?.[0]?.text).toBe('hello Ada');
  });

  it('expires after bridge.state_ttl (6s here): the retry is refused and the parked call cancelled', async () => {
    const { state, key } = await asked(manual, 'Late?');
    await new Promise((r) => setTimeout(r, 6_500));
    await expect(
      call(manual, { question: 'Late?' }, { ...answer(key), requestState: state }),
    ).rejects.toThrow(/invalid requestState: it has expired/);
    await waitFor(() => gateways[0]?.stderr().includes('expired unanswered; cancelled'), {
      timeoutMs: 3_000,
    });
  }, 20_000);
});

describe('a 2026 backend that keeps asking', () => {
  it('is given up after bridge.max_rounds (2 here), for a 2025 client too', async () => {
    const { client, asked: questions } = eraClient('legacy');
    await client.connect(httpTransport(gateways[0]?.url as string));
    try {
      const result = await client.callTool({ name: 'new__ask_forever', arguments: {} });
      expect(result.isError).toBe(true);
      expect(JSON.stringify(result.content)).toContain('after 2 rounds (bridge.max_rounds)');
      expect(result.structuredContent, JSON.stringify(result.structuredContent)).toMatchObject({
        code: 'INPUT_ROUNDS_EXCEEDED',
      });
      expect(questions).toHaveLength(2);
    } finally {
      await client.close();
    }
  });
});
