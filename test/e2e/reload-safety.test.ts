import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type StdioGateway,
  startStdioGateway,
  structured,
  tempDir,
  testbedServer,
  waitUntilWatching,
} from '../helpers/gateway.js';
import { readTestbedLog } from '../helpers/testbed-log.js';
import { isAlive, waitFor } from '../helpers/wait.js';

/** Reloads start backends; give them room on a loaded machine. */
const RELOAD_WAIT = { timeoutMs: 20_000 };

interface ServerRow {
  name: string;
  status: string;
  pid?: number;
  pendingChange?: { status: string; error?: string; target: string };
}

async function server(client: Client, name: string): Promise<ServerRow | undefined> {
  const result = await client.callTool({ name: 'list_servers', arguments: {} });
  return structured<{ servers: ServerRow[] }>(result).servers.find((s) => s.name === name);
}

describe('a config reload never swaps a serving backend for one that cannot start', () => {
  const dir = tempDir('mcp-gateway-reload-safety-');
  const file = path.join(dir, 'gateway.yaml');
  const good = testbedServer('alpha');
  const save = (entry: string) => writeFileSync(file, ['timeout: 5s', 'servers:', entry].join('\n'));
  let gw: StdioGateway;

  beforeAll(async () => {
    save(good);
    gw = await startStdioGateway(['serve', '--config', file], { env: { MCP_GATEWAY_LOG_LEVEL: 'info' } });
    await waitFor(async () => (await server(gw.client, 'alpha'))?.status === 'ready', RELOAD_WAIT);
    await waitUntilWatching(gw, file);
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('a changed command that fails keeps the old process serving, shows why, and a revert drops it', async () => {
    const before = await server(gw.client, 'alpha');
    const pid = before?.pid;
    expect(pid).toBeGreaterThan(0);

    save(testbedServer('alpha', ['--exit-on-start', '7']));
    const during = await waitFor(async () => {
      const row = await server(gw.client, 'alpha');
      return row?.pendingChange?.error ? row : undefined;
    }, RELOAD_WAIT);
    expect(during.status).toBe('ready');
    expect(during.pid).toBe(pid);
    expect(during.pendingChange).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/exited with code 7/),
    });
    expect(gw.stderr()).toMatch(
      /server 'alpha' keeps serving with its previous settings: the changed ones failed to start \(.*exited with code 7/,
    );
    // Calls still reach the old process.
    const echoed = await gw.client.callTool({ name: 'alpha__echo', arguments: { n: 1 } });
    expect(echoed.isError).toBeFalsy();
    expect(structured(echoed)).toMatchObject({ server: 'alpha', args: { n: 1 } });
    expect(isAlive(pid!)).toBe(true);

    // Back to the settings that serve: the pending change goes, the process stays.
    save(good);
    await waitFor(async () => (await server(gw.client, 'alpha'))?.pendingChange === undefined, RELOAD_WAIT);
    expect(gw.stderr()).toMatch(/dropped the pending restart of alpha/);
    expect((await server(gw.client, 'alpha'))?.pid).toBe(pid);
  });

  it('a good change swaps in the new process, and the old one is stopped', async () => {
    const pid = (await server(gw.client, 'alpha'))?.pid;
    save(testbedServer('alpha', ['--stderr-banner', 'alpha v2']));
    const after = await waitFor(async () => {
      const row = await server(gw.client, 'alpha');
      return row?.status === 'ready' && row.pid !== pid ? row : undefined;
    }, RELOAD_WAIT);
    expect(after.pendingChange).toBeUndefined();
    await waitFor(() => !isAlive(pid!), RELOAD_WAIT);
    const echoed = await gw.client.callTool({ name: 'alpha__echo', arguments: {} });
    expect(echoed.isError).toBeFalsy();
  });
});

describe('requests other than tools/call are drained like calls on remove and reload', () => {
  const dir = tempDir('mcp-gateway-drain-');
  const file = path.join(dir, 'gateway.yaml');
  const log = path.join(dir, 'testbed.log');
  const env = `    env: { TESTBED_LOG: ${JSON.stringify(log)} }\n`;
  const entry = (name: string, extra: string[] = []) =>
    testbedServer(name, ['--slow-resources', ...extra], env);
  const save = (entries: string[]) =>
    writeFileSync(file, ['timeout: 20s', 'servers:', ...entries].join('\n'));
  let gw: StdioGateway;

  /** Resolves once `server` has logged `event` `count` times. */
  const logged = (server: string, event: string, count = 1) =>
    waitFor(
      () =>
        readTestbedLog<{ event: string; name: string }>(log).filter(
          (e) => e.name === server && e.event === event,
        ).length >= count,
    );

  beforeAll(async () => {
    save([entry('res1'), entry('res2'), entry('res3')]);
    gw = await startStdioGateway(['serve', '--config', file], { env: { MCP_GATEWAY_LOG_LEVEL: 'info' } });
    for (const name of ['res1', 'res2', 'res3'])
      await waitFor(async () => (await server(gw.client, name))?.status === 'ready', RELOAD_WAIT);
    await waitUntilWatching(gw, file);
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('a resources/read in flight during remove_server with a grace completes', async () => {
    const read = gw.client.readResource({ uri: 'mcpgw://res1/testbed://slow?ms=1500' });
    await logged('res1', 'read');
    const removed = await gw.client.callTool({
      name: 'remove_server',
      arguments: { name: 'res1', grace: '20s' },
    });
    expect(removed.isError).toBeFalsy();
    const result = await read;
    expect(result.contents[0]).toMatchObject({ text: 'read after 1500 ms' });
  });

  it('a prompts/get in flight while a reload replaces its backend completes on the old process', async () => {
    const pid = (await server(gw.client, 'res2'))?.pid;
    const prompt = gw.client.getPrompt({ name: 'res2__slow', arguments: { ms: '1500' } });
    await logged('res2', 'prompt');
    save([entry('res2', ['--stderr-banner', 'res2 v2']), entry('res3')]);
    await waitFor(async () => {
      const row = await server(gw.client, 'res2');
      return row?.status === 'ready' && row.pid !== pid;
    }, RELOAD_WAIT);
    const result = await prompt;
    expect(result.messages[0]?.content).toMatchObject({ text: 'prompt after 1500 ms' });
    await waitFor(() => !isAlive(pid!), RELOAD_WAIT);
  });

  it('a read still running when the grace runs out ends with a clear error', async () => {
    const read = gw.client.readResource({ uri: 'mcpgw://res3/testbed://slow?ms=600000' }).then(
      () => 'answered',
      (err: unknown) => String(err),
    );
    await logged('res3', 'read');
    await gw.client.callTool({ name: 'remove_server', arguments: { name: 'res3', grace: '300ms' } });
    expect(await read).toMatch(/server 'res3' was removed while 'resources\/read' was running/);
  });
});
