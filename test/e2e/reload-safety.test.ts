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
