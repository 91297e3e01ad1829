/**
 * A backend started through a wrapper leaves no process behind. The wrapper here is `sh -c '…; true'`
 * (the `; true` keeps sh from exec-ing node, so node is a grandchild of the gateway) and the real
 * server ignores SIGTERM and the end of stdin: only a SIGKILL to its process group ends it. Checked
 * after remove_server, after a config reload that drops it, and after the gateway exits on the end
 * of its stdin and on SIGTERM. The testbed logs its own pid, so the test knows the grandchild.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { processAlive } from '../../src/transport/index.js';
import {
  NODE,
  type StdioGateway,
  startStdioGateway,
  TESTBED,
  tempDir,
  waitForTools,
} from '../helpers/gateway.js';
import { readTestbedLog } from '../helpers/testbed-log.js';
import { waitFor } from '../helpers/wait.js';

/** A server entry that runs the testbed under `sh -c`, logging to `log`. */
function wrappedServer(name: string, log: string): string {
  const script = `"${NODE}" "${TESTBED}" --name ${name} --ignore-sigterm; true`;
  return [
    `  ${name}:`,
    '    command: sh',
    `    args: ${JSON.stringify(['-c', script])}`,
    `    env: { TESTBED_LOG: ${JSON.stringify(log)} }`,
  ].join('\n');
}

function setup(names: string[]) {
  const dir = tempDir();
  const log = path.join(dir, 'testbed.log');
  const file = path.join(dir, 'gateway.yaml');
  const write = (servers: string[]) =>
    writeFileSync(file, `servers:\n${servers.map((n) => wrappedServer(n, log)).join('\n')}\n`);
  write(names);
  /** The pid the testbed `name` logged at start: the grandchild. */
  const pidOf = (name: string) =>
    readTestbedLog<{ event: string; name: string; pid: number }>(log).find(
      (e) => e.event === 'started' && e.name === name,
    )?.pid;
  return { file, write, pidOf };
}

async function started(gw: StdioGateway, pidOf: (name: string) => number | undefined, names: string[]) {
  await waitForTools(
    gw.client,
    names.map((n) => `${n}__echo`),
  );
  const pids = await waitFor(() => {
    const found = names.map(pidOf);
    return found.every((p) => p !== undefined) ? (found as number[]) : undefined;
  });
  for (const pid of pids) {
    expect(processAlive(pid)).toBe(true);
    seen.add(pid);
  }
  return pids;
}

/** Every grandchild seen, SIGKILLed at the end should a failing test have left it running. */
const seen = new Set<number>();
afterAll(() => {
  for (const pid of seen) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone, as it should be
    }
  }
});

/** Gone, or a zombie no one reaps (containers whose init does not): either way it runs no more. */
function gone(pid: number, timeoutMs = 15_000): Promise<boolean> {
  return waitFor(() => !processAlive(pid), { timeoutMs, message: `pid ${pid} to be gone` });
}

describe('no grandchild outlives its backend or the gateway', () => {
  it('after remove_server, and after a config reload that removes it', async () => {
    const { file, write, pidOf } = setup(['w1', 'w2']);
    const gw = await startStdioGateway(['--config', file]);
    try {
      const [w1, w2] = await started(gw, pidOf, ['w1', 'w2']);
      await gw.client.callTool({ name: 'remove_server', arguments: { name: 'w1' } }, undefined, {
        timeout: 30_000,
      });
      await gone(w1 as number);
      expect(processAlive(w2 as number)).toBe(true);

      write([]);
      await gone(w2 as number);
    } finally {
      await gw.close();
    }
  });

  it('after the gateway exits because its stdin closed', async () => {
    const { file, pidOf } = setup(['w3']);
    const gw = await startStdioGateway(['--config', file]);
    const [w3] = await started(gw, pidOf, ['w3']);
    // The SDK client's close: end our stdin, SIGTERM after 2 s, SIGKILL 2 s later.
    await gw.close();
    await gone(w3 as number);
  });

  it.each([
    ['SIGTERM', 'w4'],
    ['SIGHUP', 'w5'],
  ] as const)('after the gateway exits on %s', async (signal, name) => {
    const { file, pidOf } = setup([name]);
    const gw = await startStdioGateway(['--config', file]);
    try {
      const [pid] = await started(gw, pidOf, [name]);
      process.kill(gw.pid as number, signal);
      await gone(gw.pid as number);
      await gone(pid as number);
    } finally {
      await gw.close();
    }
  });
});

describe('the exit hook', () => {
  it('kills every known group when the process exits without closing them', async () => {
    const log = path.join(tempDir(), 'testbed.log');
    const hook = path.join(import.meta.dirname, '../fixtures/exit-hook.mjs');
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(NODE, [hook, TESTBED, log], { stdio: 'ignore' });
      child.once('exit', resolve);
    });
    expect(code).toBe(0);
    const pid = readTestbedLog(log).find((e) => e.event === 'started')?.pid;
    expect(pid).toBeDefined();
    seen.add(pid as number);
    await gone(pid as number, 5_000);
  });
});
