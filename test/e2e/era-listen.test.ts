/**
 * 2026-07-28 clients' subscriptions/listen through the HTTP and stdio fronts, with real backends: each listen
 * stream hears the updates of the resources it listed and no other (two clients, two backends of
 * either era), and list changes of the gateway's aggregated lists (a backend registered and removed
 * at run time) reach streams that asked for them; list results' caching hints say "do not cache"
 * while a backend is still connecting. Over stdio the stream ends with the client's cancellation.
 */
import type { ChildProcess } from 'node:child_process';
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ERA_LEGACY,
  ERA_MODERN,
  eraClient,
  eraServer,
  httpTransport,
  stdioTransport,
} from '../helpers/eras.js';
import { NODE, startHttpGateway, stopProcess, TESTBED, writeConfig } from '../helpers/gateway.js';
import { waitFor } from '../helpers/wait.js';

const LATE_ARGS = [TESTBED, '--name', 'late', '--start-delay', '1500', '--slow-resources'];
// register_server over HTTP may start only the commands listed here.
const config = writeConfig(
  `http:\n  allow_commands: [{ command: ${JSON.stringify(NODE)}, args: ${JSON.stringify(LATE_ARGS)} }]\nservers:\n${eraServer('old', ERA_LEGACY, 'legacy')}${eraServer('new', ERA_MODERN, 'modern')}`,
);
let http: { url: string; child: ChildProcess } | undefined;
const clients: Client[] = [];

async function modernClient(): Promise<Client> {
  const { client } = eraClient('modern');
  await client.connect(httpTransport(http?.url ?? ''));
  clients.push(client);
  return client;
}

beforeAll(async () => {
  const gw = await startHttpGateway(['--config', config]);
  http = { url: gw.url, child: gw.child };
}, 30_000);
afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  if (http) await stopProcess(http.child);
});

describe('subscriptions/listen on the HTTP front', () => {
  it("gives each stream the updates of its own resources, never another's", async () => {
    const [a, b] = [await modernClient(), await modernClient()];
    const note = async (server: string) => {
      const listed = await a.listResources();
      const uri = listed.resources.find((r) => r.uri.includes(server) && r.uri.includes('era://note'))?.uri;
      expect(uri, JSON.stringify(listed.resources)).toBeDefined();
      return uri as string;
    };
    // Both backends' notes (each backend serves more than one resource).
    await waitFor(
      async () => (await a.listResources()).resources.filter((r) => r.uri.endsWith('era://note')).length >= 2,
      { timeoutMs: 20_000 },
    );
    const [oldNote, newNote] = [await note('old'), await note('new')];
    const heard = { a: [] as string[], b: [] as string[] };
    a.setNotificationHandler('notifications/resources/updated', (n) => {
      heard.a.push(n.params.uri);
    });
    b.setNotificationHandler('notifications/resources/updated', (n) => {
      heard.b.push(n.params.uri);
    });
    // a listens to the 2025 backend's note, b to the 2026 backend's.
    const listenA = await a.listen({ resourceSubscriptions: [oldNote] });
    const listenB = await b.listen({ resourceSubscriptions: [newNote] });
    try {
      await a.callTool({ name: 'old__touch', arguments: {} });
      await waitFor(() => heard.a.includes(oldNote), { timeoutMs: 10_000 });
      await b.callTool({ name: 'new__touch', arguments: {} });
      await waitFor(() => heard.b.includes(newNote), { timeoutMs: 10_000 });
      // Each hears its own once the other's has come and gone.
      await a.callTool({ name: 'old__touch', arguments: {} });
      await waitFor(() => heard.a.filter((u) => u === oldNote).length >= 2, { timeoutMs: 10_000 });
      expect(heard.a).not.toContain(newNote);
      expect(heard.b).not.toContain(oldNote);
    } finally {
      await listenA.close();
      await listenB.close();
    }
    // Closed: the next update reaches nobody.
    const before = heard.a.length;
    await a.callTool({ name: 'old__touch', arguments: {} });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(heard.a).toHaveLength(before);
  });

  it('tells listening streams when the aggregated lists change, with no-cache hints while a backend connects', async () => {
    const client = await modernClient();
    const changed: string[] = [];
    for (const method of [
      'notifications/tools/list_changed',
      'notifications/prompts/list_changed',
      'notifications/resources/list_changed',
    ] as const) {
      client.setNotificationHandler(method, () => {
        changed.push(method);
      });
    }
    // The SDK client caches list results by their hints: `bypass` asks the gateway each time.
    const listTools = () =>
      client.listTools(undefined, { cacheMode: 'bypass' }) as Promise<{
        tools: { name: string }[];
        ttlMs?: number;
        cacheScope?: string;
      }>;
    const listening = await client.listen({
      toolsListChanged: true,
      promptsListChanged: true,
      resourcesListChanged: true,
    });
    try {
      const settled = await listTools();
      expect(settled).toMatchObject({ ttlMs: 30_000, cacheScope: 'private' });
      // A backend that takes a while to start: lists are not to be cached until it is up.
      // register_server answers once the backend is up; meanwhile lists say "do not cache".
      const adding = client.callTool({
        name: 'register_server',
        arguments: { name: 'late', command: NODE, args: LATE_ARGS },
      });
      await waitFor(async () => (await listTools()).ttlMs === 0, {
        timeoutMs: 5_000,
        message: 'ttlMs 0 while the registered backend connects',
      });
      const added = await adding;
      expect(added.isError, JSON.stringify(added)).toBeFalsy();
      await waitFor(async () => (await listTools()).tools.some((t) => t.name === 'late__echo'), {
        timeoutMs: 15_000,
      });
      expect((await listTools()).ttlMs).toBe(30_000);
      await waitFor(
        () =>
          changed.includes('notifications/tools/list_changed') &&
          changed.includes('notifications/prompts/list_changed') &&
          changed.includes('notifications/resources/list_changed'),
        { timeoutMs: 10_000, message: `list changes heard: ${changed.join(', ')}` },
      );
      changed.length = 0;
      const removed = await client.callTool({ name: 'remove_server', arguments: { name: 'late' } });
      expect(removed.isError, JSON.stringify(removed)).toBeFalsy();
      await waitFor(() => changed.includes('notifications/tools/list_changed'), { timeoutMs: 10_000 });
      expect((await listTools()).tools.some((t) => t.name === 'late__echo')).toBe(false);
    } finally {
      await listening.close();
    }
  });
});

describe('subscriptions/listen on the stdio front', () => {
  it('hears its resource updates and list changes until it closes the stream', async () => {
    const { client } = eraClient('modern');
    await client.connect(stdioTransport(config));
    clients.push(client);
    await waitFor(async () => (await client.listResources()).resources.some((r) => r.uri.includes('old')), {
      timeoutMs: 20_000,
    });
    const listed = await client.listResources();
    const uri = listed.resources.find((r) => r.uri.includes('old') && r.uri.includes('era://note'))?.uri;
    expect(uri, JSON.stringify(listed.resources)).toBeDefined();
    const updates: string[] = [];
    let toolsChanged = 0;
    client.setNotificationHandler('notifications/resources/updated', (n) => {
      updates.push(n.params.uri);
    });
    client.setNotificationHandler('notifications/tools/list_changed', () => {
      toolsChanged++;
    });
    const listening = await client.listen({ toolsListChanged: true, resourceSubscriptions: [uri as string] });
    await client.callTool({ name: 'old__touch', arguments: {} });
    await waitFor(() => updates.includes(uri as string), { timeoutMs: 10_000 });
    const added = await client.callTool({
      name: 'register_server',
      arguments: { name: 'late', command: NODE, args: LATE_ARGS },
    });
    expect(added.isError, JSON.stringify(added)).toBeFalsy();
    await waitFor(() => toolsChanged > 0, { timeoutMs: 10_000 });
    await listening.close();
    const before = updates.length;
    await client.callTool({ name: 'old__touch', arguments: {} });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(updates).toHaveLength(before);
  });
});
