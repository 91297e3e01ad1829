import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterEach, describe, expect, it } from 'vitest';
import {
  connectHttp,
  GATEWAY_BIN,
  type HttpGatewayProcess,
  NODE,
  startHttpGateway,
  structured,
  tempDir,
  testbedServer,
  waitForTools,
  writeConfig,
} from '../helpers/gateway.js';
import { readTestbedLog } from '../helpers/testbed-log.js';
import { isAlive, waitFor } from '../helpers/wait.js';

/**
 * Starting and stopping `serve` as a process: a start-up failure exits non-zero with its reason and
 * leaves no backend behind; a signal drains calls in flight within the shutdown deadline; a second
 * signal exits at once.
 */

/** Generous on a busy machine: these bound how long a test waits, they do not measure speed. */
const EXIT_WAIT_MS = 20_000;

function configWithLoggedBackend(dir: string, head = ''): { file: string; log: string } {
  const log = path.join(dir, 'testbed.log');
  const server = testbedServer('slow', [], `    env: { TESTBED_LOG: ${JSON.stringify(log)} }\n`);
  return { file: writeConfig([head, 'servers:', server].join('\n'), dir), log };
}

function startedPids(log: string): number[] {
  return readTestbedLog(log)
    .filter((e) => e.event === 'started' && e.pid !== undefined)
    .map((e) => e.pid as number);
}

interface Exit {
  code: number | null;
  stderr: string;
}

/** Spawns `serve` and resolves when it exits; rejects (and kills it) if it is still running after `ms`. */
function runServe(args: string[], env: Record<string, string | undefined> = {}): Promise<Exit> {
  const child = spawn(NODE, [GATEWAY_BIN, 'serve', ...args], {
    env: { ...process.env, MCP_GATEWAY_TOKEN: undefined, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve still running after ${EXIT_WAIT_MS} ms:\n${stderr}`));
    }, EXIT_WAIT_MS);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the gateway did not exit')), EXIT_WAIT_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

async function expectAllGone(log: string): Promise<void> {
  for (const pid of startedPids(log)) await waitFor(() => !isAlive(pid), { timeoutMs: 10_000 });
}

describe('serve: a start-up failure after backends started', () => {
  let blocker: Server | undefined;
  afterEach(() => {
    blocker?.close();
    blocker = undefined;
  });

  it('a port already taken: exits 1 at once naming the port, and its backends are stopped', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer();
      blocker = server;
      server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
    });
    const { file, log } = configWithLoggedBackend(tempDir('mcp-gateway-port-'));
    const result = await runServe([
      '--config',
      file,
      '--transport',
      'streamable-http',
      '--port',
      String(port),
      '--no-watch',
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: port in use`));
    await expectAllGone(log);
  });

  it('a non-loopback bind without a token: exits 1 with the reason, starting no backend', async () => {
    const { file, log } = configWithLoggedBackend(tempDir('mcp-gateway-token-'));
    const result = await runServe([
      '--config',
      file,
      '--transport',
      'streamable-http',
      '--host',
      '0.0.0.0',
      '--port',
      '0',
      '--no-watch',
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/refusing to listen on 0\.0\.0\.0 without a token/);
    expect(startedPids(log)).toEqual([]);
  });
});

describe('serve: stopping on SIGTERM', () => {
  let gw: HttpGatewayProcess | undefined;
  let client: Client | undefined;
  afterEach(async () => {
    await client?.close().catch(() => {});
    await gw?.close();
    gw = client = undefined;
  });

  /** An HTTP gateway with one testbed backend 'slow' whose events go to a log, and a client on it. */
  async function start(
    shutdownTimeout: string,
    via: 'flag' | 'config' = 'flag',
  ): Promise<{ gw: HttpGatewayProcess; log: string }> {
    const head = via === 'config' ? `timeout: 2m\nshutdown_timeout: ${shutdownTimeout}` : 'timeout: 2m';
    const { file, log } = configWithLoggedBackend(tempDir('mcp-gateway-stop-'), head);
    const flag = via === 'flag' ? ['--shutdown-timeout', shutdownTimeout] : [];
    gw = await startHttpGateway(['--config', file, '--no-watch', ...flag], {
      env: { MCP_GATEWAY_LOG_LEVEL: 'info' },
    });
    client = await connectHttp(gw.url);
    await waitForTools(client, ['slow__sleep']);
    return { gw, log };
  }

  type Outcome = { ok: true; result: unknown } | { ok: false; err: unknown };

  /** Starts slow__sleep; resolves once the backend runs it, with the promise of the call's outcome. */
  async function callInFlight(c: Client, log: string, ms: number): Promise<{ outcome: Promise<Outcome> }> {
    const outcome = c
      .callTool({ name: 'slow__sleep', arguments: { ms } }, undefined, { timeout: 120_000 })
      .then(
        (result): Outcome => ({ ok: true, result }),
        (err: unknown): Outcome => ({ ok: false, err }),
      );
    await waitFor(() => readTestbedLog(log).some((e) => e.event === 'call' && e.tool === 'sleep'));
    return { outcome };
  }

  it('a call in flight finishes and is answered, then the gateway exits 0', async () => {
    const { gw, log } = await start('60s');
    const { outcome } = await callInFlight(client!, log, 1500);
    gw.child.kill('SIGTERM');
    const done = await outcome;
    expect(done.ok && structured(done.result)).toEqual({ slept: 1500 });
    expect(await exited(gw.child)).toBe(0);
    await expectAllGone(log);
  });

  it('a call that hangs: the gateway exits 1 by the shutdown deadline, and the backend is stopped', async () => {
    const { gw, log } = await start('2s', 'config');
    const { outcome } = await callInFlight(client!, log, 600_000);
    const signalled = Date.now();
    gw.child.kill('SIGTERM');
    expect(await exited(gw.child)).toBe(1);
    // The deadline bounds the whole stop; the margin is for process start-up noise on a busy machine.
    expect(Date.now() - signalled).toBeLessThan(2_000 + 3_000);
    expect(gw.stderr()).toMatch(
      /shutdown deadline \(2000 ms\) passed: 1 request\(s\) still running were cut off/,
    );
    // The answer never came; closing the client ends the request it still waits for.
    await client?.close();
    expect((await outcome).ok).toBe(false);
    await expectAllGone(log);
  });

  it('a second SIGTERM exits at once with 143, long before the deadline', async () => {
    const { gw, log } = await start('10m');
    const { outcome } = await callInFlight(client!, log, 600_000);
    gw.child.kill('SIGTERM');
    await waitFor(() => /shutting down \(SIGTERM\)/.test(gw.stderr()));
    gw.child.kill('SIGTERM');
    expect(await exited(gw.child)).toBe(143);
    expect(gw.stderr()).toMatch(/SIGTERM again during shutdown: exiting at once/);
    // The answer never came; closing the client ends the request it still waits for.
    await client?.close();
    expect((await outcome).ok).toBe(false);
    await expectAllGone(log);
  });

  it('new sessions are refused while it drains', async () => {
    const { gw, log } = await start('60s');
    const { outcome } = await callInFlight(client!, log, 3000);
    gw.child.kill('SIGTERM');
    await waitFor(() => /shutting down \(SIGTERM\)/.test(gw.stderr()));
    await expect(connectHttp(gw.url)).rejects.toThrow();
    expect((await outcome).ok).toBe(true);
    expect(await exited(gw.child)).toBe(0);
  });
});
