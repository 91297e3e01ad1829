/**
 * Availability, through the real gateway and real testbed processes: a call made right after start to
 * a backend still starting waits for it instead of "Unknown tool" (and, served late, still gets its
 * progress); the first tools/list includes backends ready within the startup grace; calls made while a
 * backend restarts wait for it (even when a restart attempt is itself killed); a call in flight when
 * its process dies is retried once on the new process when the tool is read-only or idempotent — or
 * the operator says so — and never otherwise.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type StdioGateway,
  startStdioGateway,
  structured,
  tempDir,
  testbedServer,
  textOf,
  writeConfig,
} from '../helpers/gateway.js';
import { readTestbedLog } from '../helpers/testbed-log.js';
import { isAlive, waitFor } from '../helpers/wait.js';

interface ServerInfo {
  name: string;
  status: string;
  pid?: number;
  restarts: number;
}

const logEnv = (file: string) => `    env: { TESTBED_LOG: ${JSON.stringify(file)} }\n`;

async function servers(gw: StdioGateway): Promise<ServerInfo[]> {
  return structured<{ servers: ServerInfo[] }>(
    await gw.client.callTool({ name: 'list_servers', arguments: {} }),
  ).servers;
}

async function server(gw: StdioGateway, name: string): Promise<ServerInfo> {
  const found = (await servers(gw)).find((s) => s.name === name);
  if (!found) throw new Error(`no server ${name}`);
  return found;
}

/** Waits until `name` is ready on a process other than `notPid`, and returns that pid. */
async function readyPid(gw: StdioGateway, name: string, notPid?: number): Promise<number> {
  return waitFor(
    async () => {
      const s = await server(gw, name);
      return s.status === 'ready' && s.pid !== undefined && s.pid !== notPid ? s.pid : undefined;
    },
    { timeoutMs: 20_000, message: `${name} ready on a new process` },
  );
}

function errorCode(result: unknown): string | undefined {
  return (result as { structuredContent?: { code?: string } }).structuredContent?.code;
}

describe('availability: the first call after start', () => {
  let gw: StdioGateway | undefined;
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });

  it('a call to <server>__<tool> sent at once, while that backend is still starting, waits and succeeds', async () => {
    const config = writeConfig(
      [
        'timeout: 20s',
        // No grace: the call itself must wait, not ride on tools/list having waited.
        'startup_grace: 0s',
        'servers:',
        testbedServer('slow', ['--start-delay', '1000']),
      ].join('\n'),
    );
    gw = await startStdioGateway(['--config', config]);
    const result = await gw.client.callTool({ name: 'slow__echo', arguments: { first: true } });
    expect(textOf(result)).not.toMatch(/Unknown tool/);
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual({ server: 'slow', args: { first: true } });
  }, 40_000);

  it('a call served once a backend still starting is ready gets its progress', async () => {
    const dir = tempDir();
    const go = path.join(dir, 'go');
    const config = writeConfig(
      ['timeout: 20s', 'startup_grace: 0s', 'servers:', testbedServer('late', ['--start-when', go])].join(
        '\n',
      ),
    );
    gw = await startStdioGateway(['--config', config]);
    setTimeout(() => writeFileSync(go, ''), 1000);
    const seen: number[] = [];
    const result = await gw.client.callTool(
      { name: 'late__sleep', arguments: { ms: 300, steps: 3 } },
      undefined,
      { onprogress: (p) => seen.push(p.progress) },
    );
    expect(textOf(result)).not.toMatch(/BACKEND_|Unknown tool/);
    expect(result.structuredContent).toEqual({ slept: 300 });
    // The last one may come in the same read as the result, which the SDK client then drops.
    expect(seen.slice(0, 2)).toEqual([1, 2]);
  }, 40_000);

  // The wait for a backend still starting and the call itself share one timeout: the call ends within
  // it, not after a full timeout of waiting and another of calling.
  it('a call to a backend that does not start in time fails within its timeout, not twice it', async () => {
    const config = writeConfig(
      [
        'timeout: 3s',
        'startup_grace: 0s',
        'servers:',
        testbedServer('never', ['--start-when', path.join(tempDir(), 'never')]),
      ].join('\n'),
    );
    gw = await startStdioGateway(['--config', config]);
    const started = Date.now();
    const result = await gw.client.callTool({ name: 'never__echo', arguments: {} });
    const took = Date.now() - started;
    expect(errorCode(result)).toBe('BACKEND_UNAVAILABLE');
    expect(textOf(result)).toContain('still connecting after 3000 ms');
    expect(took).toBeGreaterThanOrEqual(2900);
    expect(took).toBeLessThan(4500);
  }, 40_000);

  it('a call that waited for its backend to start has only the rest of its timeout to run', async () => {
    const dir = tempDir();
    const go = path.join(dir, 'go');
    const log = path.join(dir, 'testbed.jsonl');
    const config = writeConfig(
      [
        'timeout: 3s',
        'startup_grace: 0s',
        'servers:',
        testbedServer('late', ['--start-when', go], logEnv(log)),
      ].join('\n'),
    );
    gw = await startStdioGateway(['--config', config]);
    // Ready after about 1.5 s; the call then needs 2.5 s more: 4 s in all, over its 3 s.
    setTimeout(() => writeFileSync(go, ''), 1500);
    const started = Date.now();
    const result = await gw.client.callTool({ name: 'late__sleep', arguments: { ms: 2500 } });
    const took = Date.now() - started;
    expect(errorCode(result), textOf(result)).toBe('BACKEND_TIMEOUT');
    expect(textOf(result)).toContain('timed out after 3000 ms');
    expect(took).toBeGreaterThanOrEqual(2900);
    expect(took).toBeLessThan(4500);
    // It reached the backend, which was told to stop when the time was up.
    await waitFor(() => readTestbedLog(log).some((e) => e.event === 'cancelled' && e.tool === 'sleep'));
  }, 40_000);

  it('a call to <server>__<tool> of a configured backend that cannot start says why, not "Unknown tool"', async () => {
    const config = writeConfig(
      ['startup_grace: 0s', 'servers:', testbedServer('broken', ['--exit-on-start', '3'])].join('\n'),
    );
    gw = await startStdioGateway(['--config', config]);
    const result = await gw.client.callTool({ name: 'broken__echo', arguments: {} });
    expect(result.isError).toBe(true);
    expect(errorCode(result)).toBe('BACKEND_UNAVAILABLE');
    expect(textOf(result)).toMatch(
      /server 'broken' is not available for 'echo' \(status failed\): exited with code 3/,
    );
  }, 40_000);

  it('the first tools/list includes a backend that is ready within the startup grace', async () => {
    const config = writeConfig(
      [
        'timeout: 30s',
        'startup_grace: 15s',
        'servers:',
        testbedServer('slow', ['--start-delay', '1000']),
      ].join('\n'),
    );
    gw = await startStdioGateway(['--config', config]);
    const names = (await gw.client.listTools()).tools.map((t) => t.name);
    expect(names).toContain('slow__echo');
  }, 40_000);

  it('the grace bounds the wait: a backend that never starts does not hold the first tools/list', async () => {
    const config = writeConfig(
      [
        'startup_grace: 1s',
        'servers:',
        testbedServer('good'),
        testbedServer('hanger', ['--hang-on-start'], '    timeout: 60s\n'),
      ].join('\n'),
    );
    gw = await startStdioGateway(['--config', config]);
    // Answered long before hanger's 60 s connect timeout (the client's own timeout is 60 s too).
    const names = (await gw.client.listTools(undefined, { timeout: 30_000 })).tools.map((t) => t.name);
    expect(names).not.toContain('hanger__echo');
  }, 40_000);
});

describe('availability: backends that crash', () => {
  let gw: StdioGateway;
  const dir = tempDir();
  const logs = {
    ro: path.join(dir, 'ro.log'),
    plain: path.join(dir, 'plain.log'),
    roOff: path.join(dir, 'ro-off.log'),
    plainOn: path.join(dir, 'plain-on.log'),
  };
  const pids = new Set<number>();

  beforeAll(async () => {
    const config = writeConfig(
      [
        'timeout: 20s',
        'servers:',
        testbedServer('steady'),
        testbedServer('slowstart', ['--start-delay', '800']),
        testbedServer('ro', ['--hint', 'sleep=readOnlyHint'], logEnv(logs.ro)),
        testbedServer('plain', [], logEnv(logs.plain)),
        testbedServer(
          'ro_off',
          ['--hint', 'sleep=readOnlyHint'],
          `${logEnv(logs.roOff)}    retry_on_crash: false\n`,
        ),
        testbedServer('plain_on', [], `${logEnv(logs.plainOn)}    retry_on_crash: { "sl*": true }\n`),
      ].join('\n'),
    );
    gw = await startStdioGateway(['--config', config]);
    await waitFor(async () => (await servers(gw)).every((s) => s.status === 'ready'), { timeoutMs: 30_000 });
  }, 60_000);

  afterAll(async () => {
    await gw?.close();
    await waitFor(() => [...pids].every((pid) => !isAlive(pid)), { timeoutMs: 15_000 });
  });

  async function kill(name: string, notPid?: number): Promise<number> {
    const pid = await readyPid(gw, name, notPid);
    pids.add(pid);
    process.kill(pid, 'SIGKILL');
    return pid;
  }

  it('a backend killed again and again after serving restarts at once: each call made right after a kill succeeds', async () => {
    // Killed six times, each after it served a while. The old policy counted each kill toward a
    // backoff that reset only after 10 s up: 250 ms, 500 ms, … 8 s, beyond the calls' 3 s timeout.
    let pid: number | undefined;
    for (let round = 0; round < 6; round++) {
      const current = await readyPid(gw, 'steady', pid);
      // Up long enough to count as having run and served (stable_ms is 1 s).
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      pids.add(current);
      process.kill(current, 'SIGKILL');
      pid = current;
      // Once the gateway has seen the death (a call racing it is in flight on a dead process, and
      // echo declares no hints, so it would not be retried).
      await waitFor(
        async () => {
          const s = await server(gw, 'steady');
          return s.status !== 'ready' || s.pid !== current;
        },
        { timeoutMs: 10_000, intervalMs: 5 },
      );
      const result = await gw.client.callTool({
        name: 'call_backend',
        arguments: { server: 'steady', tool: 'echo', params: { round }, timeout: '3s' },
      });
      expect(textOf(result), `round ${round}`).not.toMatch(/BACKEND_/);
      expect(result.structuredContent, `round ${round}`).toEqual({ server: 'steady', args: { round } });
    }
  }, 90_000);

  it('calls made while a backend restarts wait for it, even when the restart itself is killed', async () => {
    const first = await kill('slowstart');
    // The next process, while it is still starting (it waits 800 ms before answering initialize).
    const second = await waitFor(
      async () => {
        const s = await server(gw, 'slowstart');
        return s.pid !== undefined && s.pid !== first && s.status === 'connecting' ? s.pid : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 10 },
    );
    pids.add(second);
    process.kill(second, 'SIGKILL');
    const calls = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        i % 2
          ? gw.client.callTool({ name: 'slowstart__echo', arguments: { i } })
          : gw.client.callTool({
              name: 'call_backend',
              arguments: { server: 'slowstart', tool: 'echo', params: { i } },
            }),
      ),
    );
    calls.forEach((result, i) => {
      expect(textOf(result), `call ${i}`).not.toMatch(/BACKEND_|Unknown tool/);
      expect(result.structuredContent).toEqual({ server: 'slowstart', args: { i } });
    });
  }, 60_000);

  /** Starts `<name>__sleep`, SIGKILLs the process once the call reached it, and returns the result. */
  async function killMidCall(name: string, log: string) {
    const before = readTestbedLog(log).filter((e) => e.event === 'call' && e.tool === 'sleep').length;
    const pending = gw.client.callTool({ name: `${name}__sleep`, arguments: { ms: 1_500 } });
    const reached = await waitFor(
      () => readTestbedLog(log).filter((e) => e.event === 'call' && e.tool === 'sleep')[before],
      { timeoutMs: 10_000 },
    );
    pids.add(reached.pid!);
    process.kill(reached.pid!, 'SIGKILL');
    const result = await pending;
    // The backend is back (a retry, if any, has happened: the call above has returned).
    await readyPid(gw, name, reached.pid);
    const calls = readTestbedLog(log)
      .filter((e) => e.event === 'call' && e.tool === 'sleep')
      .slice(before);
    return { result, calls, killed: reached.pid! };
  }

  it('a read-only tool (readOnlyHint) in flight when its process is killed is retried once, on the new process', async () => {
    const { result, calls, killed } = await killMidCall('ro', logs.ro);
    expect(result.isError, textOf(result)).toBeFalsy();
    expect(result.structuredContent).toEqual({ slept: 1_500 });
    expect(calls).toHaveLength(2);
    expect(calls[0]?.pid).toBe(killed);
    expect(calls[1]?.pid).not.toBe(killed);
  }, 60_000);

  it('a tool without hints in flight when its process is killed gets BACKEND_EXITED and is not retried', async () => {
    const { result, calls } = await killMidCall('plain', logs.plain);
    expect(result.isError).toBe(true);
    expect(errorCode(result)).toBe('BACKEND_EXITED');
    expect(calls).toHaveLength(1);
  }, 60_000);

  it('retry_on_crash overrides the hints: false stops the retry of a read-only tool', async () => {
    const { result, calls } = await killMidCall('ro_off', logs.roOff);
    expect(errorCode(result)).toBe('BACKEND_EXITED');
    expect(calls).toHaveLength(1);
  }, 60_000);

  it('retry_on_crash overrides the hints: a pattern set to true retries a tool without hints', async () => {
    const { result, calls } = await killMidCall('plain_on', logs.plainOn);
    expect(result.isError, textOf(result)).toBeFalsy();
    expect(result.structuredContent).toEqual({ slept: 1_500 });
    expect(calls).toHaveLength(2);
  }, 60_000);
});
