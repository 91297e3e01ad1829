/**
 * The caching hints on a 2026-07-28 client's prompts/list and resources/list, through the real HTTP
 * gateway and testbed backends: a list built while a backend was still connecting says "do not
 * cache" (ttlMs 0) even when that backend is ready by the time the list is answered, so the SDK
 * client asks again and sees it. Else the client would hold a list without that backend for 30 s.
 */
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eraClient, httpTransport } from '../helpers/eras.js';
import { startHttpGateway, stopProcess, tempDir, testbedServer, writeConfig } from '../helpers/gateway.js';
import { waitFor } from '../helpers/wait.js';

const dir = tempDir();
/** Backend `late` starts serving once this file exists. */
const gate = path.join(dir, 'start-late');
const config = writeConfig(
  [
    'servers:',
    // Its lists take 3 s: long enough for `late` to become ready while one is being built.
    testbedServer('slowlists', ['--slow-resources', '--lists-delay', '3000']),
    testbedServer('late', ['--slow-resources', '--start-when', gate], '    timeout: 60s\n'),
  ].join('\n'),
  dir,
);

let gateway: ChildProcess | undefined;
let client: Client;

/**
 * Whether `server` serves its tools now. tools/list, not list_servers: that one builds the prompt and
 * resource lists (to report name clashes), which would be cached before the test lists them.
 */
async function serving(server: string): Promise<boolean> {
  const { tools } = await client.listTools(undefined, { cacheMode: 'bypass' });
  return tools.some((t) => t.name === `${server}__echo`);
}

beforeAll(async () => {
  const gw = await startHttpGateway(['--config', config]);
  gateway = gw.child;
  client = eraClient('modern').client;
  await client.connect(httpTransport(gw.url));
  await waitFor(() => serving('slowlists'), { timeoutMs: 20_000 });
}, 30_000);
afterAll(async () => {
  await client?.close();
  if (gateway) await stopProcess(gateway);
});

describe('list hints for a 2026-07-28 client', () => {
  it('a list built while a backend connected is not to be cached, though the backend is ready when it is answered', async () => {
    expect(await serving('late')).toBe(false);
    const prompts = client.listPrompts() as Promise<{ prompts: { name: string }[]; ttlMs?: number }>;
    const resources = client.listResources() as Promise<{ resources: { uri: string }[]; ttlMs?: number }>;
    // The lists are being built (slowlists answers in 3 s); now `late` starts, and is ready long before.
    await new Promise((resolve) => setTimeout(resolve, 300));
    writeFileSync(gate, '');
    await waitFor(() => serving('late'), { timeoutMs: 2_500 });

    const [listedPrompts, listedResources] = await Promise.all([prompts, resources]);
    // Built without `late` (it was connecting then): that list must not be held.
    expect(listedPrompts.prompts.map((p) => p.name)).toEqual(['slowlists__slow']);
    expect(listedPrompts.ttlMs).toBe(0);
    expect(listedResources.resources.some((r) => r.uri.includes('late'))).toBe(false);
    expect(listedResources.ttlMs).toBe(0);

    // The client's next lists (its cache honoured) come from the gateway, and include `late`.
    const [again, resourcesAgain] = await Promise.all([client.listPrompts(), client.listResources()]);
    expect(again.prompts.map((p) => p.name).sort()).toEqual(['late__slow', 'slowlists__slow']);
    expect((again as { ttlMs?: number }).ttlMs).toBe(30_000);
    expect(resourcesAgain.resources.some((r) => r.uri.includes('late'))).toBe(true);
  }, 30_000);
});

describe('list hints when a backend’s list fails', () => {
  it('a list missing a backend whose list failed is not to be cached; the next one has it', async () => {
    const failing = writeConfig(
      [
        'servers:',
        testbedServer('steady', ['--slow-resources']),
        testbedServer('flaky', ['--slow-resources', '--fail-lists', '1']),
      ].join('\n'),
      tempDir(),
    );
    const gw = await startHttpGateway(['--config', failing]);
    const modern = eraClient('modern').client;
    try {
      await modern.connect(httpTransport(gw.url));
      await waitFor(
        async () => {
          const { tools } = await modern.listTools(undefined, { cacheMode: 'bypass' });
          return ['steady__echo', 'flaky__echo'].every((n) => tools.some((t) => t.name === n));
        },
        { timeoutMs: 20_000 },
      );
      const first = (await modern.listPrompts()) as { prompts: { name: string }[]; ttlMs?: number };
      expect(first.prompts.map((p) => p.name)).toEqual(['steady__slow']);
      expect(first.ttlMs).toBe(0);
      const second = (await modern.listPrompts()) as { prompts: { name: string }[]; ttlMs?: number };
      expect(second.prompts.map((p) => p.name).sort()).toEqual(['flaky__slow', 'steady__slow']);
      expect(second.ttlMs).toBe(30_000);
    } finally {
      await modern.close();
      await stopProcess(gw.child);
    }
  }, 40_000);
});
