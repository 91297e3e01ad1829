/**
 * register_server over the real HTTP front: only the commands, arguments, env, cwd and url hosts the
 * config allows, and no more runtime servers than limits.max_runtime_backends. Over stdio the caller
 * is the local user: the allow-lists do not apply there (the count limit does).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FlakyHttpBackend, startFlakyHttpBackend } from '../helpers/flaky-http-backend.js';
import {
  connectHttp,
  type HttpGatewayProcess,
  NODE,
  type StdioGateway,
  startHttpGateway,
  startStdioGateway,
  structured,
  TESTBED,
  tempDir,
  textOf,
  writeConfig,
} from '../helpers/gateway.js';
import { readTestbedLog } from '../helpers/testbed-log.js';
import { waitFor } from '../helpers/wait.js';

const TOKEN = 'register-policy-token-0123456789';

interface Refusal {
  code: string;
  error: string;
  reason?: string;
  setting?: string;
}

async function register(client: Client, args: Record<string, unknown>) {
  return client.callTool({ name: 'register_server', arguments: args });
}

async function runtimeServers(client: Client): Promise<string[]> {
  const result = await client.callTool({ name: 'list_servers', arguments: {} });
  return structured<{ servers: { name: string; source: { kind: string } }[] }>(result)
    .servers.filter((s) => s.source.kind === 'runtime')
    .map((s) => s.name);
}

/** A node -e script that leaves a file behind: proof of whether a refused program ran. */
function markerScript(marker: string): string {
  return `require('fs').writeFileSync(${JSON.stringify(marker)}, 'ran')`;
}

describe('register_server over HTTP follows the config', () => {
  let flaky: FlakyHttpBackend;
  let gw: HttpGatewayProcess;
  let client: Client;
  let dir: string;
  let allowedCwd: string;
  let configFile: string;
  const configYaml = (extraEnv: string[] = []) =>
    [
      'http:',
      '  allow_commands:',
      `    - command: ${JSON.stringify(NODE)}`,
      `      args: [${JSON.stringify(TESTBED)}, --name, "*"]`,
      `      env: ${JSON.stringify(['TESTBED_LOG', ...extraEnv])}`,
      '      cwd: [allowed]',
      `  allow_url_hosts: ["127.0.0.1:${new URL(flaky.url).port}"]`,
      'limits:',
      '  max_runtime_backends: 3',
      'servers: {}',
    ].join('\n');

  beforeAll(async () => {
    flaky = await startFlakyHttpBackend();
    dir = tempDir();
    allowedCwd = path.join(dir, 'allowed');
    mkdirSync(allowedCwd);
    mkdirSync(path.join(dir, 'other'));
    configFile = writeConfig(configYaml(), dir);
    gw = await startHttpGateway(['--config', configFile], { env: { MCP_GATEWAY_TOKEN: TOKEN } });
    client = await connectHttp(gw.url, { token: TOKEN });
  });
  afterAll(async () => {
    await client?.close();
    await gw?.close();
    await flaky?.close();
  });

  async function refused(args: Record<string, unknown>): Promise<Refusal> {
    const result = await register(client, args);
    expect(result.isError, textOf(result)).toBe(true);
    const data = structured<Refusal>(result);
    expect(data.error).toBe(textOf(result));
    return data;
  }

  it('refuses arguments no pattern allows, and starts nothing', async () => {
    const marker = path.join(dir, 'args-marker');
    const r = await refused({ name: 'evil', command: NODE, args: ['-e', markerScript(marker)] });
    expect(r.code).toBe('REGISTER_REFUSED');
    expect(r.reason).toBe('args');
    expect(r.setting).toBe('http.allow_commands');
    expect(r.error).toMatch(/over HTTP is refused: the arguments \["-e",.*\] do not match the allowed/);
    expect(r.error).toMatch(/Add an entry with matching args patterns to http\.allow_commands/);
    // One argument too many is refused as well: the patterns fix the count.
    const extra = await refused({
      name: 'evil2',
      command: NODE,
      args: [TESTBED, '--name', 'x', '--hang-on-start'],
    });
    expect(extra.reason).toBe('args');
    expect(existsSync(marker)).toBe(false);
    expect(await runtimeServers(client)).toEqual([]);
  });

  it('refuses env the entry does not list, naming the variable but not its value', async () => {
    const marker = path.join(dir, 'env-marker');
    const preload = path.join(dir, 'preload.cjs');
    writeFileSync(preload, markerScript(marker));
    const r = await refused({
      name: 'envy',
      command: NODE,
      args: [TESTBED, '--name', 'envy'],
      env: { NODE_OPTIONS: `--require ${preload}` },
    });
    expect(r).toMatchObject({ code: 'REGISTER_REFUSED', reason: 'env' });
    expect(r.error).toMatch(/NODE_OPTIONS is not allowed \(allowed: TESTBED_LOG\)/);
    expect(r.error).not.toContain(preload);
    expect(existsSync(marker)).toBe(false);
  });

  it('refuses a cwd the entry does not list', async () => {
    const r = await refused({
      name: 'wander',
      command: NODE,
      args: [TESTBED, '--name', 'wander'],
      cwd: 'other',
    });
    expect(r).toMatchObject({ code: 'REGISTER_REFUSED', reason: 'cwd' });
    expect(r.error).toContain(`the working directory '${path.join(dir, 'other')}' is not allowed`);
    expect(r.error).toContain(`allowed: ${allowedCwd}`);
  });

  it('starts what an entry allows: matching args, a listed env name and cwd', async () => {
    const log = path.join(dir, 'testbed.log');
    const result = await register(client, {
      name: 'good',
      command: NODE,
      args: [TESTBED, '--name', 'good'],
      env: { TESTBED_LOG: log },
      cwd: 'allowed',
    });
    expect(result.isError, textOf(result)).toBeFalsy();
    expect(structured<{ server: { status: string } }>(result).server.status).toBe('ready');
    // The env reached the process.
    await waitFor(() =>
      readTestbedLog<{ event: string; name?: string }>(log).some(
        (e) => e.event === 'started' && e.name === 'good',
      ),
    );
    await client.callTool({ name: 'remove_server', arguments: { name: 'good' } });
  });

  it.each([
    ['127.0.0.1 on a port not listed', () => 'http://127.0.0.1:1/mcp', /127\.0\.0\.1 is a loopback address/],
    [
      'the cloud metadata address',
      () => 'http://169.254.169.254/latest/meta-data/',
      /169\.254\.169\.254 is a link-local address/,
    ],
    [
      'a name that resolves to loopback',
      () => 'http://localhost:1/mcp',
      /'localhost' resolves to \S+ a loopback address/,
    ],
    ['loopback written as a number', () => 'http://2130706433:1/mcp', /127\.0\.0\.1 is a loopback address/],
    [
      'loopback as IPv4-mapped IPv6',
      () => 'http://[::ffff:127.0.0.1]:1/mcp',
      /127\.0\.0\.1 is a loopback address/,
    ],
  ])('refuses a url backend on %s', async (_what, url, message) => {
    const r = await refused({ name: 'ssrf', url: url(), timeout: '2s' });
    expect(r).toMatchObject({ code: 'REGISTER_REFUSED', setting: 'http.allow_url_hosts' });
    expect(r.error).toMatch(/^register_server: connecting to http:\/\/\S+ over HTTP is refused: /);
    expect(r.error).toMatch(message);
    expect(r.error).toMatch(/add "[^"]+" there to allow this one/);
  });

  it('connects to a loopback url backend the config lists, also written another way', async () => {
    const before = flaky.seen.ok;
    const port = new URL(flaky.url).port;
    for (const [name, url] of [
      ['flaky', flaky.url],
      ['flakyhex', `http://0x7f.0.0.1:${port}${new URL(flaky.url).pathname}`],
    ] as const) {
      const result = await register(client, { name, url });
      expect(result.isError, textOf(result)).toBeFalsy();
      const echoed = await client.callTool({ name: `${name}__echo`, arguments: { hi: 1 } });
      expect(structured(echoed)).toMatchObject({ via: 'flaky' });
      await client.callTool({ name: 'remove_server', arguments: { name } });
    }
    expect(flaky.seen.ok).toBeGreaterThan(before);
  });

  it('refuses the runtime server past limits.max_runtime_backends, and takes one again after a removal', async () => {
    for (const name of ['cap1', 'cap2', 'cap3']) {
      const result = await register(client, { name, url: flaky.url });
      expect(result.isError, textOf(result)).toBeFalsy();
    }
    const r = await refused({ name: 'cap4', url: flaky.url });
    expect(r.code).toBe('REGISTER_LIMIT');
    expect(r.error).toMatch(
      /3 servers registered at runtime already, the most limits\.max_runtime_backends allows \(3\)\. Remove one with remove_server, or raise limits\.max_runtime_backends/,
    );
    expect(await runtimeServers(client)).toEqual(['cap1', 'cap2', 'cap3']);
    await client.callTool({ name: 'remove_server', arguments: { name: 'cap3' } });
    const again = await register(client, { name: 'cap4', url: flaky.url });
    expect(again.isError, textOf(again)).toBeFalsy();
    for (const name of ['cap1', 'cap2', 'cap4'])
      await client.callTool({ name: 'remove_server', arguments: { name } });
  });

  it('applies an edited allow-list from the next register_server call (hot reload)', async () => {
    const args = {
      name: 'later',
      command: NODE,
      args: [TESTBED, '--name', 'later'],
      env: { LATER_VAR: '1' },
    };
    expect((await refused(args)).reason).toBe('env');
    writeFileSync(configFile, configYaml(['LATER_VAR']));
    const result = await waitFor(
      async () => {
        const attempt = await register(client, args);
        return attempt.isError ? undefined : attempt;
      },
      { timeoutMs: 20_000, intervalMs: 200, message: 'register_server takes LATER_VAR after the reload' },
    );
    expect(structured<{ server: { status: string } }>(result).server.status).toBe('ready');
    await client.callTool({ name: 'remove_server', arguments: { name: 'later' } });
  });
});

describe('register_server over stdio', () => {
  let flaky: FlakyHttpBackend;
  let gw: StdioGateway;
  let dir: string;

  beforeAll(async () => {
    flaky = await startFlakyHttpBackend();
    dir = tempDir();
    // No allow-lists at all: over HTTP this config would refuse every registration below.
    const config = writeConfig(['limits:', '  max_runtime_backends: 2', 'servers: {}'].join('\n'), dir);
    gw = await startStdioGateway(['--config', config]);
  });
  afterAll(async () => {
    await gw?.close();
    await flaky?.close();
  });

  it('is not restricted by the allow-lists: any args, env, cwd and a loopback url', async () => {
    const log = path.join(dir, 'testbed.log');
    const stdio = await register(gw.client, {
      name: 'local',
      command: NODE,
      args: [TESTBED, '--name', 'local', '--stderr-banner', 'hello'],
      env: { TESTBED_LOG: log },
      cwd: dir,
    });
    expect(stdio.isError, textOf(stdio)).toBeFalsy();
    const url = await register(gw.client, { name: 'loop', url: flaky.url });
    expect(url.isError, textOf(url)).toBeFalsy();
    expect(await runtimeServers(gw.client)).toEqual(['local', 'loop']);
  });

  it('is bounded by limits.max_runtime_backends all the same', async () => {
    const result = await register(gw.client, { name: 'third', url: flaky.url });
    expect(result.isError).toBe(true);
    expect(structured<Refusal>(result).code).toBe('REGISTER_LIMIT');
    expect(textOf(result)).toMatch(/the most limits\.max_runtime_backends allows \(2\)/);
  });
});
