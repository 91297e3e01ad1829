import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BackendRegistry } from '../../src/backends/index.js';
import type { StdioServerConfig } from '../../src/config/types.js';
import { silentLogger } from '../../src/log.js';
import { isAlive, waitFor } from '../helpers/wait.js';

/** BackendRegistry.reconcile with real testbed processes: what a config reload does to backends. */

const TESTBED = path.resolve(import.meta.dirname, '../fixtures/servers/testbed.mjs');
const FILE = '/virtual/gateway.yaml';

function server(
  name: string,
  args: string[] = [],
  extra: Partial<StdioServerConfig> = {},
): StdioServerConfig {
  return {
    name,
    transport: 'stdio',
    command: process.execPath,
    args: [TESTBED, '--name', name, ...args],
    env: {},
    enabled: true,
    source: { kind: 'config', file: FILE },
    ...extra,
  };
}

describe('BackendRegistry.reconcile', () => {
  let registry: BackendRegistry | undefined;
  afterEach(async () => {
    await registry?.close();
    registry = undefined;
  });

  function newRegistry(): BackendRegistry {
    registry = new BackendRegistry({ defaultTimeoutMs: 5_000, logger: silentLogger });
    return registry;
  }

  it('restarts a changed backend make-before-break: the old one serves until the new one is ready', async () => {
    const reg = newRegistry();
    const old = reg.add(server('a'));
    await old.whenSettled();
    const oldPid = old.info().pid!;
    let changes = 0;
    reg.on('toolsChanged', () => changes++);

    const plan = reg.reconcile([server('a', ['--tools-delay', '300'])], FILE);
    expect(plan.replace.map((s) => s.name)).toEqual(['a']);
    // While the new instance lists its tools, the old one still serves the name.
    expect(reg.get('a')).toBe(old);
    expect((await reg.callTool('a', 'echo', {})).isError).toBeFalsy();
    expect(changes).toBe(0);

    await waitFor(() => reg.get('a') !== old);
    const fresh = reg.get('a')!;
    expect(fresh.info().status).toBe('ready');
    expect(fresh.info().pid).not.toBe(oldPid);
    expect(changes).toBeGreaterThan(0);
    await waitFor(() => !isAlive(oldPid));
  });

  it('a later reload supersedes a replacement still starting, which never serves', async () => {
    const reg = newRegistry();
    await reg.add(server('a')).whenSettled();
    reg.reconcile([server('a', ['--hang-on-start'])], FILE);
    reg.reconcile([server('a', ['--stderr-banner', 'v3'])], FILE);
    await waitFor(() => reg.get('a')?.info().target.includes('v3'));
    expect(reg.get('a')?.info().status).toBe('ready');
    expect(reg.names()).toEqual(['a']);
  });

  it('a removed backend takes no new call but finishes the ones in flight within the grace', async () => {
    const reg = newRegistry();
    const slow = reg.add(server('slow'));
    await slow.whenSettled();
    const pid = slow.info().pid!;
    const call = reg.callTool('slow', 'sleep', { ms: 500 });

    reg.reconcile([], FILE, { graceMs: 5_000 });
    expect(reg.has('slow')).toBe(false);
    await expect(reg.callTool('slow', 'echo', {})).rejects.toThrow(/unknown server 'slow'/);
    expect(isAlive(pid)).toBe(true);
    expect((await call).structuredContent).toEqual({ slept: 500 });
    await waitFor(() => !isAlive(pid));
  });

  it('past the grace, calls still running end with BACKEND_REMOVED', async () => {
    const reg = newRegistry();
    await reg.add(server('slow')).whenSettled();
    const call = expect(reg.callTool('slow', 'sleep', { ms: 5_000 })).rejects.toMatchObject({
      code: 'BACKEND_REMOVED',
    });
    await reg.remove('slow', { graceMs: 100 });
    await call;
  });

  it('a new default timeout reaches running backends without a restart', async () => {
    const reg = newRegistry();
    const a = reg.add(server('a'));
    await a.whenSettled();
    const pid = a.info().pid;
    reg.setDefaultTimeout(200);
    expect(a.info().timeoutMs).toBe(200);
    await expect(reg.callTool('a', 'sleep', { ms: 2_000 })).rejects.toMatchObject({
      code: 'BACKEND_TIMEOUT',
    });
    expect(a.info().pid).toBe(pid);
  });
});
