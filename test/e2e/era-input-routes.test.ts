/**
 * What a backend asks of the client during prompts/get and resources/read, carried across the eras
 * as during tools/call: a 2026-07-28 client gets input_required (the backend's own, with its keys,
 * from a 2026 backend; the gateway's, parked, for a 2025 backend's elicitation/create) and answers
 * by retrying; a 2025 client is asked with elicitation/create over its session, whichever era the
 * backend speaks. Real processes: the built gateway (HTTP front), an SDK 1.x backend (era-legacy.mjs)
 * and an SDK 2.x one spoken to in 2026-07-28 (era-modern.mjs).
 */
import type { ChildProcess } from 'node:child_process';
import { type Client, withInputRequired } from '@modelcontextprotocol/client';
import { GetPromptResultSchema, ReadResourceResultSchema } from '@modelcontextprotocol/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERA_LEGACY, ERA_MODERN, eraClient, eraServer, httpTransport } from '../helpers/eras.js';
import { startHttpGateway, stopProcess, writeConfig } from '../helpers/gateway.js';
import { waitFor } from '../helpers/wait.js';

const config = writeConfig(
  `servers:\n${eraServer('old', ERA_LEGACY, 'legacy')}${eraServer('new', ERA_MODERN, 'modern')}`,
);
let gateway: { url: string; child: ChildProcess } | undefined;
const ANSWER = { action: 'accept', content: { name: 'Ada' } };

type Outcome = {
  resultType?: string;
  inputRequests?: Record<string, { method: string; params?: { message?: string } }>;
  requestState?: string;
  messages?: { content: { text?: string } }[];
  contents?: { uri: string; text?: string }[];
};

beforeAll(async () => {
  const gw = await startHttpGateway(['--config', config]);
  gateway = { url: gw.url, child: gw.child };
}, 30_000);
afterAll(async () => {
  if (gateway) await stopProcess(gateway.child);
});

async function connected(client: Client): Promise<Client> {
  await client.connect(httpTransport(gateway?.url ?? ''));
  await waitFor(
    async () => {
      const { prompts } = await client.listPrompts();
      const names = prompts.map((p) => p.name);
      return names.includes('old__greet_asking') && names.includes('new__greet_asking');
    },
    { timeoutMs: 20_000 },
  );
  return client;
}

async function servedUri(client: Client, server: string): Promise<string> {
  const { resources } = await client.listResources();
  const uri = resources.find((r) => r.uri.includes(server) && r.uri.endsWith('era://asked'))?.uri;
  expect(uri).toBeDefined();
  return uri as string;
}

describe('a 2026-07-28 client', () => {
  let client: Client;
  beforeAll(async () => {
    // Handles input_required itself, to see what the gateway hands it.
    client = await connected(
      eraClient('modern', undefined, { inputRequired: { autoFulfill: false } }).client,
    );
  }, 30_000);
  afterAll(async () => client?.close());

  const prompt = (name: string, extra: Record<string, unknown> = {}) =>
    client.request(
      { method: 'prompts/get', params: { name, ...extra } },
      withInputRequired(GetPromptResultSchema),
      { allowInputRequired: true },
    ) as Promise<Outcome>;
  const read = (uri: string, extra: Record<string, unknown> = {}) =>
    client.request(
      { method: 'resources/read', params: { uri, ...extra } },
      withInputRequired(ReadResourceResultSchema),
      { allowInputRequired: true },
    ) as Promise<Outcome>;
  const retryOf = (asked: Outcome) => {
    const [key] = Object.keys(asked.inputRequests ?? {});
    return { inputResponses: { [key as string]: ANSWER }, requestState: asked.requestState };
  };

  it("gets a 2026 backend's input_required during prompts/get with the backend's own key", async () => {
    const asked = await prompt('new__greet_asking');
    expect(asked.resultType).toBe('input_required');
    expect(Object.keys(asked.inputRequests ?? {})).toEqual(['name']);
    expect(asked.inputRequests?.name?.method).toBe('elicitation/create');
    const done = await prompt('new__greet_asking', retryOf(asked));
    expect(done.messages?.[0]?.content.text).toBe('Hello, Ada');
  });

  it("gets a 2025 backend's elicitation during prompts/get as input_required, and its retry resumes it", async () => {
    const asked = await prompt('old__greet_asking');
    expect(asked.resultType).toBe('input_required');
    const [request] = Object.values(asked.inputRequests ?? {});
    expect(request?.method).toBe('elicitation/create');
    expect(request?.params?.message).toBe('Whom to greet?');
    const done = await prompt('old__greet_asking', retryOf(asked));
    expect(done.messages?.[0]?.content.text).toBe('Hello, Ada');
  });

  it('gets input_required during resources/read from either backend, with served URIs in the result', async () => {
    for (const server of ['new', 'old']) {
      const uri = await servedUri(client, server);
      const asked = await read(uri);
      expect(asked.resultType).toBe('input_required');
      expect(Object.values(asked.inputRequests ?? {})[0]?.params?.message).toBe('Who reads?');
      const done = await read(uri, retryOf(asked));
      expect(done.contents?.[0]).toMatchObject({ uri, text: 'asked by Ada' });
    }
  });

  it('may answer before being asked: the answers go with the first request to a 2026 backend', async () => {
    const done = await prompt('new__greet_asking', { inputResponses: { name: ANSWER, extra: ANSWER } });
    expect(done.messages?.[0]?.content.text).toBe('Hello, Ada');
  });
});

describe('a 2025-11-25 client', () => {
  let client: Client;
  let asked: { message: string }[];
  beforeAll(async () => {
    const made = eraClient('legacy');
    asked = made.asked;
    client = await connected(made.client);
  }, 30_000);
  afterAll(async () => client?.close());

  it('is asked with elicitation/create during prompts/get, whichever era the backend speaks', async () => {
    for (const server of ['new', 'old']) {
      const before = asked.length;
      const result = await client.getPrompt({ name: `${server}__greet_asking` });
      expect(result.messages[0]?.content).toMatchObject({ text: 'Hello, Ada' });
      expect(asked.slice(before)).toEqual([{ message: 'Whom to greet?' }]);
    }
  });

  it('is asked with elicitation/create during resources/read, whichever era the backend speaks', async () => {
    for (const server of ['new', 'old']) {
      const uri = await servedUri(client, server);
      const before = asked.length;
      const result = await client.readResource({ uri });
      expect(result.contents[0]).toMatchObject({ uri, text: 'asked by Ada' });
      expect(asked.slice(before)).toEqual([{ message: 'Who reads?' }]);
    }
  });
});
