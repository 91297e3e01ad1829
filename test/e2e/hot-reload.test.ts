import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  NODE,
  type StdioGateway,
  startStdioGateway,
  structured,
  TESTBED,
  tempDir,
  testbedServer,
  waitUntilWatching,
} from '../helpers/gateway.js';
import { readTestbedLog } from '../helpers/testbed-log.js';
import { isAlive, waitFor } from '../helpers/wait.js';

/** Reloads start backends; give them room on a loaded machine. */
const RELOAD_WAIT = { timeoutMs: 15_000 };

interface ServerRow {
  name: string;
  status: string;
  pid?: number;
  source: { kind: string; file?: string };
}

async function servers(client: Client): Promise<Map<string, ServerRow>> {
  const result = await client.callTool({ name: 'list_servers', arguments: {} });
  const rows = structured<{ servers: ServerRow[] }>(result).servers;
  return new Map(rows.map((s) => [s.name, s]));
}

async function toolNames(client: Client): Promise<string[]> {
  return (await client.listTools()).tools.map((t) => t.name);
}

/** A gateway.yaml with these testbed servers (each an entry as `testbedServer` writes it). */
function gatewayYaml(entries: string[], head = 'timeout: 5s'): string {
  return [head, 'servers:', ...entries].join('\n');
}

function events(file: string): Array<{ event: string; tool?: string }> {
  return readTestbedLog(file);
}

describe('hot reload of gateway.yaml (stdio gateway, SDK client)', () => {
  const dir = tempDir('mcp-gateway-reload-');
  const file = path.join(dir, 'gateway.yaml');
  const slowLog = path.join(dir, 'slow.log');
  const alpha = testbedServer('alpha');
  const beta = testbedServer('beta');
  let gw: StdioGateway;
  let listChanged = 0;

  /** Saves the config as editors without atomic save do: truncate and write in place. */
  function save(text: string): void {
    writeFileSync(file, text);
  }

  /** Everything the gateway wrote to stderr from now on. */
  function stderrFromNow(): () => string {
    const mark = gw.stderr().length;
    return () => gw.stderr().slice(mark);
  }

  beforeAll(async () => {
    save(gatewayYaml([alpha, beta]));
    gw = await startStdioGateway(['serve', '--config', file], {
      env: { MCP_GATEWAY_LOG_LEVEL: 'info' },
    });
    gw.client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      listChanged++;
    });
    const registered = await gw.client.callTool({
      name: 'register_server',
      arguments: { name: 'rt', command: NODE, args: [TESTBED, '--name', 'rt'] },
    });
    expect(registered.isError).toBeFalsy();
    await waitFor(async () => (await toolNames(gw.client)).includes('beta__echo'));
    await waitUntilWatching(gw, file);
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('a backend added to the file connects, its tools appear, and the client gets list_changed', async () => {
    const before = listChanged;
    save(gatewayYaml([alpha, beta, testbedServer('gamma')]));
    await waitFor(async () => (await toolNames(gw.client)).includes('gamma__echo'), RELOAD_WAIT);
    await waitFor(() => listChanged > before);
    const echoed = await gw.client.callTool({ name: 'gamma__echo', arguments: { hi: 1 } });
    expect(structured(echoed)).toMatchObject({ server: 'gamma', args: { hi: 1 } });
    expect((await servers(gw.client)).get('gamma')?.source).toEqual({ kind: 'config', file });
  });

  it('a changed backend restarts (new pid); unchanged ones keep their process', async () => {
    const before = await servers(gw.client);
    const pid = (name: string) => before.get(name)?.pid;
    expect(pid('beta')).toBeGreaterThan(0);

    save(gatewayYaml([alpha, testbedServer('beta', ['--stderr-banner', 'beta v2']), testbedServer('gamma')]));
    const after = await waitFor(async () => {
      const now = await servers(gw.client);
      const b = now.get('beta');
      return b?.status === 'ready' && b.pid !== undefined && b.pid !== pid('beta') ? now : undefined;
    }, RELOAD_WAIT);
    for (const name of ['alpha', 'gamma', 'rt']) expect(after.get(name)?.pid).toBe(pid(name));
    // The old beta process is closed once drained.
    await waitFor(() => !isAlive(pid('beta')!), RELOAD_WAIT);
    const echoed = await gw.client.callTool({ name: 'beta__echo', arguments: {} });
    expect(structured(echoed)).toMatchObject({ server: 'beta' });
  });

  it('a backend removed from the file is closed and its tools go', async () => {
    const gammaPid = (await servers(gw.client)).get('gamma')?.pid;
    const before = listChanged;
    save(gatewayYaml([alpha, beta]));
    await waitFor(async () => !(await toolNames(gw.client)).includes('gamma__echo'), RELOAD_WAIT);
    await waitFor(() => listChanged > before);
    expect((await servers(gw.client)).has('gamma')).toBe(false);
    await waitFor(() => !isAlive(gammaPid!), RELOAD_WAIT);
  });

  it('an invalid edit is reported as file:line:col and changes nothing; fixing it applies', async () => {
    const pids = await servers(gw.client);
    const stderr = stderrFromNow();
    save(gatewayYaml([alpha, beta, '  broken:\n    command: 42\n    bogus: true']));
    await waitFor(() => /gateway\.yaml:\d+:\d+: /.test(stderr()), RELOAD_WAIT);
    expect(stderr()).toContain(`${file} is invalid`);
    expect(stderr()).toMatch(new RegExp(`${escapeRegExp(file)}:\\d+:\\d+: servers\\.broken`));

    // Everything keeps serving, as it was.
    const echoed = await gw.client.callTool({ name: 'alpha__echo', arguments: { still: 'here' } });
    expect(structured(echoed)).toMatchObject({ server: 'alpha' });
    const now = await servers(gw.client);
    expect([...now.keys()].sort()).toEqual(['alpha', 'beta', 'rt']);
    for (const name of ['alpha', 'beta', 'rt']) expect(now.get(name)?.pid).toBe(pids.get(name)?.pid);

    save(gatewayYaml([alpha, beta, testbedServer('delta')]));
    await waitFor(async () => (await toolNames(gw.client)).includes('delta__echo'), RELOAD_WAIT);
    expect((await servers(gw.client)).get('alpha')?.pid).toBe(pids.get('alpha')?.pid);
  });

  it('sees an atomic save: a temp file renamed over gateway.yaml', async () => {
    const temp = path.join(dir, '.gateway.yaml.tmp');
    writeFileSync(temp, gatewayYaml([alpha, beta, testbedServer('delta'), testbedServer('epsilon')]));
    renameSync(temp, file);
    await waitFor(async () => (await toolNames(gw.client)).includes('epsilon__echo'), RELOAD_WAIT);
  });

  it('a backend registered at runtime survives reloads, and a config entry with its name is reported', async () => {
    const rtBefore = (await servers(gw.client)).get('rt');
    expect(rtBefore?.source.kind).toBe('runtime');
    const stderr = stderrFromNow();
    save(gatewayYaml([alpha, beta, testbedServer('rt', ['--stderr-banner', 'from the file'])]));
    await waitFor(() => stderr().includes("server 'rt' is not started"), RELOAD_WAIT);
    expect(stderr()).toMatch(
      /gateway\.yaml: server 'rt' is not started: the name is taken by a server registered at runtime/,
    );
    // The reload itself applied: delta and epsilon are gone.
    await waitFor(async () => !(await toolNames(gw.client)).includes('epsilon__echo'), RELOAD_WAIT);
    const rtAfter = (await servers(gw.client)).get('rt');
    expect(rtAfter?.source.kind).toBe('runtime');
    expect(rtAfter?.pid).toBe(rtBefore?.pid);
  });

  it('a call in flight on a removed backend completes before the backend closes', async () => {
    const slow = testbedServer('slow', [], `    env: { TESTBED_LOG: ${JSON.stringify(slowLog)} }\n`);
    save(gatewayYaml([alpha, beta, slow]));
    await waitFor(async () => (await toolNames(gw.client)).includes('slow__sleep'), RELOAD_WAIT);
    const slowPid = (await servers(gw.client)).get('slow')?.pid;

    const call = gw.client.callTool({ name: 'slow__sleep', arguments: { ms: 1500 } });
    await waitFor(() => events(slowLog).some((e) => e.event === 'call' && e.tool === 'sleep'));
    save(gatewayYaml([alpha, beta]));
    await waitFor(async () => !(await toolNames(gw.client)).includes('slow__sleep'), RELOAD_WAIT);
    // Removed from the list while its call still runs, and the call ends with its real result.
    expect(isAlive(slowPid!)).toBe(true);
    const result = await call;
    expect(result.isError).toBeFalsy();
    expect(structured(result)).toEqual({ slept: 1500 });
    await waitFor(() => !isAlive(slowPid!), RELOAD_WAIT);
  });

  it('tool groups and the default timeout apply live; http settings ask for a restart', async () => {
    const stderr = stderrFromNow();
    const before = listChanged;
    save(gatewayYaml([alpha, beta], 'timeout: 5s\ntools: { backends: false }\nhttp: { port: 18099 }'));
    await waitFor(async () => !(await toolNames(gw.client)).includes('alpha__echo'), RELOAD_WAIT);
    await waitFor(() => listChanged > before);
    expect(await toolNames(gw.client)).toContain('call_backend');
    expect(stderr()).toMatch(/http\.port changed; restart the gateway to apply/);

    save(gatewayYaml([alpha, beta]));
    await waitFor(async () => (await toolNames(gw.client)).includes('alpha__echo'), RELOAD_WAIT);
  });
});

describe('hot reload through a Kubernetes ConfigMap volume, and --no-watch', () => {
  // The layout a ConfigMap mount has: gateway.yaml -> ..data/gateway.yaml, ..data -> ..<timestamp>/
  const dir = tempDir('mcp-gateway-configmap-');
  const file = path.join(dir, 'gateway.yaml');
  let watched: StdioGateway;
  let unwatched: StdioGateway;
  let version = 0;

  function publish(text: string): void {
    const previous = version > 0 ? `..2026_01_01_00_00_0${version}` : undefined;
    version++;
    const folder = `..2026_01_01_00_00_0${version}`;
    mkdirSync(path.join(dir, folder));
    writeFileSync(path.join(dir, folder, 'gateway.yaml'), text);
    symlinkSync(folder, path.join(dir, '..data_tmp'));
    renameSync(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
    if (previous) rmSync(path.join(dir, previous), { recursive: true });
  }

  beforeAll(async () => {
    publish(gatewayYaml([testbedServer('alpha')]));
    symlinkSync('..data/gateway.yaml', file);
    const env = { MCP_GATEWAY_LOG_LEVEL: 'info' };
    [watched, unwatched] = await Promise.all([
      startStdioGateway(['serve', '--config', file], { env }),
      startStdioGateway(['serve', '--config', file, '--no-watch'], { env }),
    ]);
    for (const gw of [watched, unwatched]) {
      await waitFor(async () => (await toolNames(gw.client)).includes('alpha__echo'));
    }
    await waitUntilWatching(watched, file);
  });
  afterAll(async () => {
    await Promise.all([watched?.close(), unwatched?.close()]);
  });

  it('a new ..data folder swapped in is applied; with --no-watch it is ignored', async () => {
    publish(gatewayYaml([testbedServer('alpha'), testbedServer('beta')]));
    await waitFor(async () => (await toolNames(watched.client)).includes('beta__echo'), RELOAD_WAIT);
    // The watching gateway has applied it, so the other one had every chance to.
    expect(await toolNames(unwatched.client)).not.toContain('beta__echo');
    expect(unwatched.stderr()).not.toContain('watching');
    expect(unwatched.stderr()).not.toContain('reloaded');
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
