import path from 'node:path';
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
  textOf,
  writeConfig,
} from '../helpers/gateway.js';
import { readTestbedLog } from '../helpers/testbed-log.js';
import { waitFor } from '../helpers/wait.js';

interface ServerRow {
  name: string;
  status: string;
  toolCount: number;
  lastError?: string;
  stderrTail: string[];
  source: { kind: string };
}

function readEvents(file: string): Array<Record<string, unknown>> {
  return readTestbedLog<Record<string, unknown>>(file);
}

describe('gateway over stdio with testbed backends', () => {
  const dir = tempDir();
  const alphaLog = path.join(dir, 'alpha.log');
  let gw: StdioGateway;
  let listChanged = 0;

  beforeAll(async () => {
    const config = writeConfig(
      [
        'timeout: 5s',
        'servers:',
        testbedServer(
          'alpha',
          ['--stderr-banner', 'alpha says hello'],
          `    env: { TESTBED_LOG: ${JSON.stringify(alphaLog)} }\n`,
        ),
        testbedServer('beta'),
      ].join('\n'),
      dir,
    );
    gw = await startStdioGateway(['serve', '--config', config]);
    gw.client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      listChanged++;
    });
    await waitFor(async () => {
      const names = new Set((await gw.client.listTools()).tools.map((t) => t.name));
      return names.has('alpha__echo') && names.has('beta__echo');
    });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('serves the meta-tools and every backend tool under <server>__<tool>', async () => {
    const names = (await gw.client.listTools()).tools.map((t) => t.name);
    for (const name of ['register_server', 'remove_server', 'list_servers', 'call_backend']) {
      expect(names).toContain(name);
    }
    expect(names).toContain('alpha__echo');
    expect(names).toContain('beta__add');
    const add = (await gw.client.listTools()).tools.find((t) => t.name === 'alpha__add');
    expect(add?.inputSchema.properties).toHaveProperty('a');
    expect(add?.description).toMatch(/^\[alpha\]/);
  });

  it('call_backend returns the backend result unchanged, with params as an object or a JSON string', async () => {
    const asObject = await gw.client.callTool({
      name: 'call_backend',
      arguments: { server: 'alpha', tool: 'echo', params: { hello: 'world' } },
    });
    expect(asObject.isError).toBeFalsy();
    expect(structured(asObject)).toEqual({ server: 'alpha', args: { hello: 'world' } });

    const asString = await gw.client.callTool({
      name: 'call_backend',
      arguments: { server: 'beta', tool: 'add', params: '{"a": 2, "b": 40}' },
    });
    expect(structured(asString)).toEqual({ sum: 42 });
  });

  it('a namespaced tool call reaches its backend', async () => {
    const result = await gw.client.callTool({ name: 'beta__add', arguments: { a: 1, b: 2 } });
    expect(structured(result)).toEqual({ sum: 3 });
  });

  it('a backend isError result passes through as isError', async () => {
    const result = await gw.client.callTool({ name: 'alpha__fail', arguments: { message: 'nope' } });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('nope');
  });

  it('bad JSON params give a clear error and the gateway keeps serving', async () => {
    const result = await gw.client.callTool({
      name: 'call_backend',
      arguments: { server: 'alpha', tool: 'echo', params: '{"a": ' },
    });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/call_backend: 'params' is not valid JSON/);
    const after = await gw.client.callTool({ name: 'alpha__echo', arguments: { still: 'alive' } });
    expect(structured(after)).toMatchObject({ args: { still: 'alive' } });
  });

  it('an unknown server or tool is an error that lists what exists', async () => {
    const server = await gw.client.callTool({
      name: 'call_backend',
      arguments: { server: 'nope', tool: 'echo' },
    });
    expect(server.isError).toBe(true);
    expect(textOf(server)).toMatch(/unknown server 'nope'.*alpha.*beta/s);

    const tool = await gw.client.callTool({
      name: 'call_backend',
      arguments: { server: 'alpha', tool: 'nope' },
    });
    expect(tool.isError).toBe(true);
    expect(textOf(tool)).toMatch(/no tool 'nope'.*echo/s);

    await expect(gw.client.callTool({ name: 'alpha__nope', arguments: {} })).rejects.toThrow(
      /Unknown tool: alpha__nope/,
    );
  });

  it('a call over its timeout fails naming server, tool and limit, and the backend is told to cancel', async () => {
    const result = await gw.client.callTool({
      name: 'call_backend',
      arguments: { server: 'alpha', tool: 'sleep', params: { ms: 10_000 }, timeout: '300ms' },
    });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/alpha.*sleep.*timed out after 300 ?ms/);
    await waitFor(() => readEvents(alphaLog).some((e) => e.event === 'cancelled'));
  });

  it('a client that cancels its request cancels the backend call', async () => {
    const before = readEvents(alphaLog).filter((e) => e.event === 'cancelled').length;
    const sleepCalls = () =>
      readEvents(alphaLog).filter((e) => e.event === 'call' && e.tool === 'sleep').length;
    const callsBefore = sleepCalls();
    const controller = new AbortController();
    const call = gw.client.callTool({ name: 'alpha__sleep', arguments: { ms: 10_000 } }, undefined, {
      signal: controller.signal,
    });
    await waitFor(() => sleepCalls() > callsBefore);
    controller.abort();
    await expect(call).rejects.toThrow();
    await waitFor(() => readEvents(alphaLog).filter((e) => e.event === 'cancelled').length > before);
  });

  it('progress notifications from a backend reach the calling client', async () => {
    const seen: number[] = [];
    const result = await gw.client.callTool(
      { name: 'beta__sleep', arguments: { ms: 200, steps: 4 } },
      undefined,
      {
        onprogress: (p) => seen.push(p.progress),
      },
    );
    expect(result.isError).toBeFalsy();
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
  });

  it('list_servers shows each backend with status, tools, source and captured stderr', async () => {
    const result = await gw.client.callTool({ name: 'list_servers', arguments: {} });
    const { servers } = structured<{ servers: ServerRow[] }>(result);
    const alpha = servers.find((s) => s.name === 'alpha');
    expect(alpha?.status).toBe('ready');
    expect(alpha?.toolCount).toBeGreaterThan(3);
    expect(alpha?.source.kind).toBe('config');
    expect(alpha?.stderrTail.join('\n')).toContain('alpha says hello');
    expect(textOf(result)).toContain('alpha');
  });

  it('a backend that crashes mid-call gives an error saying so, then comes back', async () => {
    const result = await gw.client.callTool({ name: 'beta__crash', arguments: { code: 3 } });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/beta.*exited.*3/s);
    await waitFor(
      async () => {
        const again = await gw.client.callTool({
          name: 'call_backend',
          arguments: { server: 'beta', tool: 'add', params: { a: 1, b: 1 } },
        });
        return !again.isError && structured<{ sum: number }>(again).sum === 2;
      },
      { timeoutMs: 10_000 },
    );
    const list = structured<{ servers: (ServerRow & { restarts: number })[] }>(
      await gw.client.callTool({ name: 'list_servers', arguments: {} }),
    );
    expect(list.servers.find((s) => s.name === 'beta')?.restarts).toBeGreaterThanOrEqual(1);
  });

  it('register_server and remove_server change the served tools and send list_changed', async () => {
    const before = listChanged;
    const registered = await gw.client.callTool({
      name: 'register_server',
      arguments: { name: 'gamma', command: NODE, args: `${TESTBED} --name gamma` },
    });
    expect(registered.isError).toBeFalsy();
    const body = structured<{ server: ServerRow; tools: { name: string }[] }>(registered);
    expect(body.server.status).toBe('ready');
    expect(body.server.source.kind).toBe('runtime');
    expect(body.tools.map((t) => t.name)).toContain('echo');
    await waitFor(() => listChanged > before);
    expect((await gw.client.listTools()).tools.map((t) => t.name)).toContain('gamma__echo');
    expect(structured(await gw.client.callTool({ name: 'gamma__echo', arguments: { x: 1 } }))).toMatchObject({
      server: 'gamma',
    });

    const afterRegister = listChanged;
    const removed = await gw.client.callTool({ name: 'remove_server', arguments: { name: 'gamma' } });
    expect(removed.isError).toBeFalsy();
    expect(textOf(removed)).toMatch(/Removed server 'gamma' \([1-9]\d* tools\)/);
    await waitFor(() => listChanged > afterRegister);
    expect((await gw.client.listTools()).tools.map((t) => t.name)).not.toContain('gamma__echo');
  });

  it('register_server with a command that cannot start is an error and leaves nothing behind', async () => {
    const result = await gw.client.callTool({
      name: 'register_server',
      arguments: { name: 'broken', command: '/nonexistent/program' },
    });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/broken.*failed to start/);
    const { servers } = structured<{ servers: ServerRow[] }>(
      await gw.client.callTool({ name: 'list_servers', arguments: {} }),
    );
    expect(servers.map((s) => s.name)).not.toContain('broken');
  });

  it('register_server rejects a bad name with a clear message', async () => {
    const result = await gw.client.callTool({
      name: 'register_server',
      arguments: { name: 'bad__name', command: NODE, args: [TESTBED] },
    });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/bad__name/);
  });
});
