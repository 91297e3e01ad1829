import { mkdtempSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ProtocolError } from '@modelcontextprotocol/client';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BackendRegistry } from '../../src/backends/index.js';
import type { HttpServerConfig, StdioServerConfig } from '../../src/config/types.js';
import { GatewayError } from '../../src/errors.js';
import { type Logger, silentLogger } from '../../src/log.js';
import { readTestbedLog } from '../helpers/testbed-log.js';
import { isAlive, waitFor } from '../helpers/wait.js';

const TESTBED = path.resolve(import.meta.dirname, '../fixtures/servers/testbed.mjs');
const dir = mkdtempSync(path.join(tmpdir(), 'registry-test-'));

function testbed(
  name: string,
  args: string[] = [],
  extra: Partial<StdioServerConfig> = {},
): StdioServerConfig {
  return {
    name,
    transport: 'stdio',
    command: process.execPath,
    args: [TESTBED, '--name', name, ...args],
    env: { TESTBED_LOG: logFile(name) },
    enabled: true,
    source: { kind: 'runtime' },
    ...extra,
  };
}

function logFile(name: string): string {
  return path.join(dir, `${name}.log`);
}

type TestbedEvent = { event: string; tool?: string; requestId?: number; reason?: string; pid?: number };

function events(name: string): TestbedEvent[] {
  return readTestbedLog<TestbedEvent>(logFile(name));
}

/** Rejects with the GatewayError (or other error) the promise rejects with. */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

function captureLogger(lines: string[], scope = 'test'): Logger {
  const make = (s: string): Logger => ({
    debug: (m) => lines.push(`debug ${s}: ${m}`),
    info: (m) => lines.push(`info ${s}: ${m}`),
    warn: (m) => lines.push(`warn ${s}: ${m}`),
    error: (m) => lines.push(`error ${s}: ${m}`),
    child: (sub) => make(`${s}/${sub}`),
  });
  return make(scope);
}

let registry: BackendRegistry;
const registries: BackendRegistry[] = [];

function newRegistry(options: { defaultTimeoutMs?: number; logger?: Logger } = {}): BackendRegistry {
  const r = new BackendRegistry({
    defaultTimeoutMs: options.defaultTimeoutMs ?? 5_000,
    logger: options.logger ?? silentLogger,
  });
  registries.push(r);
  return r;
}

afterEach(async () => {
  await Promise.all(registries.splice(0).map((r) => r.close()));
});

describe('BackendRegistry with real testbed processes', () => {
  it('starts backends in parallel: a ready one is callable while another hangs on start', async () => {
    registry = newRegistry();
    const slow = registry.add(testbed('slow', ['--hang-on-start'], { timeoutMs: 4_000 }));
    registry.add(testbed('quick'));
    const result = await registry.callTool('quick', 'echo', { hello: 'world' });
    expect(result.structuredContent).toEqual({ server: 'quick', args: { hello: 'world' } });
    expect(slow.status).toBe('connecting');
    expect(registry.list().map((i) => [i.name, i.status])).toEqual([
      ['slow', 'connecting'],
      ['quick', 'ready'],
    ]);
    expect(registry.tools().every((t) => t.server === 'quick')).toBe(true);

    const info = await slow.whenSettled();
    expect(info.status).toBe('failed');
    expect(info.lastError).toMatch(/did not answer initialize within 4000 ms/);
    expect(info.stderrTail).toContain('testbed slow: hanging on start');
  });

  it('a call made right after add waits for the connection and succeeds', async () => {
    registry = newRegistry();
    registry.add(testbed('early'));
    expect(registry.get('early')?.status).toBe('connecting');
    const result = await registry.callTool('early', 'add', { a: 2, b: 40 });
    expect(result.structuredContent).toEqual({ sum: 42 });
  });

  describe('calls on one backend', () => {
    let shared: BackendRegistry;
    const lines: string[] = [];

    beforeAll(async () => {
      shared = new BackendRegistry({ defaultTimeoutMs: 5_000, logger: captureLogger(lines) });
      await shared.add(testbed('alpha', ['--stderr-banner', 'alpha says hello'])).whenSettled();
    });
    afterAll(async () => {
      await shared.close();
    });

    it('returns the CallToolResult unchanged', async () => {
      const result = await shared.callTool('alpha', 'echo', { n: 1, nested: { ok: true } });
      expect(result).toEqual({
        content: [
          { type: 'text', text: JSON.stringify({ server: 'alpha', args: { n: 1, nested: { ok: true } } }) },
        ],
        structuredContent: { server: 'alpha', args: { n: 1, nested: { ok: true } } },
      });
    });

    it('passes an isError result through and re-throws the backend protocol error unchanged', async () => {
      const failed = await shared.callTool('alpha', 'fail', { message: 'nope' });
      expect(failed).toEqual({ content: [{ type: 'text', text: 'nope' }], isError: true });

      const thrown = await rejection(shared.callTool('alpha', 'throw', { message: 'boom', code: -32099 }));
      expect(thrown).toBeInstanceOf(ProtocolError);
      expect((thrown as ProtocolError).code).toBe(-32099);
      expect(thrown.message).toContain('boom');
    });

    it('a timeout names server, tool and limit, and the cancellation reaches the backend', async () => {
      const err = await rejection(shared.callTool('alpha', 'sleep', { ms: 10_000 }, { timeoutMs: 300 }));
      expect(err).toBeInstanceOf(GatewayError);
      expect((err as GatewayError).code).toBe('BACKEND_TIMEOUT');
      expect(err.message).toBe('alpha.sleep timed out after 300 ms');
      const cancelled = await waitFor(() =>
        events('alpha').find((e) => e.event === 'cancelled' && e.tool === 'sleep'),
      );
      const call = events('alpha').find((e) => e.event === 'call' && e.requestId === cancelled.requestId);
      expect(call?.tool).toBe('sleep');
      expect(cancelled.reason).toMatch(/timed out/i);
    });

    it('aborting the signal cancels the call at the backend', async () => {
      const before = events('alpha').filter((e) => e.event === 'cancelled').length;
      const calls = () => events('alpha').filter((e) => e.event === 'call' && e.tool === 'sleep').length;
      const callsBefore = calls();
      const controller = new AbortController();
      const pending = shared.callTool('alpha', 'sleep', { ms: 10_000 }, { signal: controller.signal });
      await waitFor(() => calls() > callsBefore);
      controller.abort(new Error('user pressed stop'));
      const err = await rejection(pending);
      expect((err as GatewayError).code).toBe('BACKEND_CANCELLED');
      expect(err.message).toBe('alpha.sleep was cancelled');
      await waitFor(() => events('alpha').filter((e) => e.event === 'cancelled').length > before);

      const already = await rejection(shared.callTool('alpha', 'echo', {}, { signal: AbortSignal.abort() }));
      expect((already as GatewayError).code).toBe('BACKEND_CANCELLED');
    });

    it('progress notifications reach onProgress in order', async () => {
      const seen: { progress: number; total?: number }[] = [];
      const result = await shared.callTool(
        'alpha',
        'sleep',
        { ms: 200, steps: 4 },
        { onProgress: (p) => seen.push(p) },
      );
      expect(result.structuredContent).toEqual({ slept: 200 });
      expect(seen.map((p) => p.progress)).toEqual([1, 2, 3, 4]);
      expect(seen[0]?.total).toBe(4);
    });

    it('survives a flood of notifications', async () => {
      let progress = 0;
      const result = await shared.callTool(
        'alpha',
        'flood',
        { count: 2_000 },
        { onProgress: () => progress++ },
      );
      expect(result.structuredContent).toEqual({ sent: 2_000 });
      expect(progress).toBe(2_000);
      expect((await shared.callTool('alpha', 'add', { a: 1, b: 1 })).structuredContent).toEqual({ sum: 2 });
    });

    it('unknown server and unknown tool errors list what exists', async () => {
      const server = await rejection(shared.callTool('nope', 'echo', {}));
      expect((server as GatewayError).code).toBe('BACKEND_UNKNOWN');
      expect(server.message).toBe("unknown server 'nope'; servers: alpha");

      const tool = await rejection(shared.callTool('alpha', 'nope', {}));
      expect((tool as GatewayError).code).toBe('TOOL_UNKNOWN');
      expect(tool.message).toMatch(/^server 'alpha' has no tool 'nope'; its tools: echo, add, sleep/);
    });

    it('keeps the stderr tail, capped, and logs it at debug level', async () => {
      await shared.callTool('alpha', 'stderr', { lines: 60 });
      const info = shared.get('alpha')!.info();
      await waitFor(() => shared.get('alpha')!.info().stderrTail.at(-1) === 'testbed alpha: stderr line 60');
      expect(shared.get('alpha')!.info().stderrTail).toHaveLength(50);
      expect(info.pid).toBeGreaterThan(0);
      expect(lines).toContain('debug test/alpha: stderr: alpha says hello');
    });

    it('a duplicate name is refused', () => {
      expect(() => shared.add(testbed('alpha'))).toThrow(/server 'alpha' already exists/);
    });
  });

  it('a crash mid-call ends the call with the exit code and stderr, then the backend reconnects', async () => {
    registry = newRegistry();
    const statuses: string[] = [];
    registry.on('status', (name, status) => statuses.push(`${name}:${status}`));
    const backend = registry.add(testbed('crashy'));
    await backend.whenSettled();
    const firstPid = backend.info().pid!;

    const err = await rejection(registry.callTool('crashy', 'crash', { code: 3 }));
    expect((err as GatewayError).code).toBe('BACKEND_EXITED');
    expect(err.message).toBe(
      "server 'crashy' exited while 'crash' was running: exited with code 3; stderr: crashing with code 3",
    );
    // Its tools stay listed while it reconnects; a call waits for the reconnect.
    expect(registry.tools().some((t) => t.server === 'crashy')).toBe(true);
    const again = await registry.callTool('crashy', 'add', { a: 1, b: 1 });
    expect(again.structuredContent).toEqual({ sum: 2 });

    const info = backend.info();
    expect(info.status).toBe('ready');
    expect(info.restarts).toBe(1);
    expect(info.lastError).toBe('exited with code 3; stderr: crashing with code 3');
    expect(info.pid).not.toBe(firstPid);
    expect(isAlive(firstPid)).toBe(false);
    expect(statuses).toEqual(['crashy:ready', 'crashy:connecting', 'crashy:ready']);
  });

  it('a command that cannot start is failed with a clear error and keeps retrying', async () => {
    registry = newRegistry();
    const backend = registry.add({ ...testbed('broken'), command: '/nonexistent/program', args: [] });
    const info = await backend.whenSettled();
    expect(info.status).toBe('failed');
    expect(info.lastError).toMatch(/could not start '\/nonexistent\/program': command not found/);

    const err = await rejection(registry.callTool('broken', 'echo', {}));
    expect((err as GatewayError).code).toBe('BACKEND_UNAVAILABLE');
    expect(err.message).toMatch(
      /server 'broken' is not available for 'echo' \(status failed\): could not start/,
    );

    await waitFor(() => backend.info().restarts >= 2, { timeoutMs: 5_000 });
    expect(backend.status).toBe('failed');
  });

  it('a backend that exits before initialize is failed with its exit code and stderr', async () => {
    registry = newRegistry();
    const info = await registry.add(testbed('quitter', ['--exit-on-start', '2'])).whenSettled();
    expect(info.status).toBe('failed');
    expect(info.lastError).toBe(
      'exited with code 2 during initialize; stderr: testbed quitter: exiting with code 2 on start',
    );
    expect(registry.tools()).toEqual([]);
  });

  it('remove ends a call in flight, tells the backend, and the process is gone', async () => {
    registry = newRegistry();
    let changed = 0;
    registry.on('toolsChanged', () => changed++);
    const backend = registry.add(testbed('doomed'));
    await backend.whenSettled();
    const pid = backend.info().pid!;
    const pending = registry.callTool('doomed', 'sleep', { ms: 10_000 });
    await waitFor(() => events('doomed').some((e) => e.event === 'call' && e.tool === 'sleep'));

    const changedBefore = changed;
    const outcome = rejection(pending);
    const removed = await registry.remove('doomed');
    const err = await outcome;
    expect((err as GatewayError).code).toBe('BACKEND_REMOVED');
    expect(err.message).toBe("server 'doomed' was removed while 'sleep' was running");
    expect(removed.status).toBe('closed');
    expect(changed).toBeGreaterThan(changedBefore);
    expect(registry.has('doomed')).toBe(false);
    expect(isAlive(pid)).toBe(false);
    expect(events('doomed').some((e) => e.event === 'cancelled' && e.tool === 'sleep')).toBe(true);
    expect((await rejection(registry.remove('doomed'))).message).toMatch(/unknown server 'doomed'/);
  });

  it('tools/list_changed refreshes the cached tools and emits toolsChanged', async () => {
    registry = newRegistry();
    await registry.add(testbed('grower')).whenSettled();
    let changed = 0;
    registry.on('toolsChanged', () => changed++);
    await registry.callTool('grower', 'add_tool', { name: 'late_tool' });
    await waitFor(() => registry.tools().some((t) => t.tool.name === 'late_tool'));
    expect(changed).toBeGreaterThanOrEqual(1);
    const result = await registry.callTool('grower', 'late_tool', { x: 1 });
    expect(result.structuredContent).toEqual({ server: 'grower', tool: 'late_tool', args: { x: 1 } });
  });

  it('follows tools/list pagination to the end', async () => {
    registry = newRegistry();
    const info = await registry.add(testbed('paged', ['--page-size', '2'])).whenSettled();
    expect(info.status).toBe('ready');
    expect(info.tools).toEqual([
      'echo',
      'add',
      'sleep',
      'fail',
      'throw',
      'crash',
      'stderr',
      'add_tool',
      'flood',
    ]);
  });

  it('close kills a process that ignores SIGTERM; no process is left', async () => {
    registry = newRegistry();
    const backend = registry.add(testbed('stubborn', ['--ignore-sigterm']));
    await backend.whenSettled();
    const pid = backend.info().pid!;
    expect(isAlive(pid)).toBe(true);
    await registry.close();
    expect(isAlive(pid)).toBe(false);
    expect(events('stubborn').some((e) => e.event === 'sigterm')).toBe(true);
    expect(backend.status).toBe('closed');
  });

  it('removing a backend that hangs on start leaves no process', async () => {
    registry = newRegistry();
    const backend = registry.add(
      testbed('hanger', ['--hang-on-start', '--ignore-sigterm'], { timeoutMs: 20_000 }),
    );
    const pid = await waitFor(() => backend.info().pid);
    await waitFor(() => events('hanger').some((e) => e.event === 'started'));
    const info = await registry.remove('hanger');
    expect(info.status).toBe('closed');
    expect(isAlive(pid)).toBe(false);
    expect((await backend.whenSettled()).status).toBe('closed');
  });

  it('BackendInfo holds no env values', async () => {
    registry = newRegistry();
    const info = await registry
      .add(testbed('secretive', [], { env: { TESTBED_LOG: logFile('secretive'), API_TOKEN: 'sekrit-123' } }))
      .whenSettled();
    expect(JSON.stringify(info)).not.toContain('sekrit-123');
    expect(JSON.stringify(registry.list())).not.toContain('sekrit-123');
  });
});

describe('BackendRegistry with a Streamable HTTP backend', () => {
  let http: HttpServer;
  let url: string;
  const seenAuth: (string | undefined)[] = [];

  beforeAll(async () => {
    http = createServer(async (req, res) => {
      seenAuth.push(req.headers.authorization);
      if (req.headers.authorization !== 'Bearer letmein') {
        res.writeHead(401).end('unauthorized');
        return;
      }
      // Stateless: a fresh server and transport per request.
      const server = new Server({ name: 'http-echo', version: '1.0.0' }, { capabilities: { tools: {} } });
      server.setRequestHandler(ListToolsRequestSchema, async () => ({
        tools: [{ name: 'echo', inputSchema: { type: 'object' } }],
      }));
      server.setRequestHandler(CallToolRequestSchema, async (request) => ({
        content: [{ type: 'text', text: 'over http' }],
        structuredContent: { via: 'http', args: request.params.arguments ?? {} },
      }));
      const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: undefined,
        enableJsonResponse: true,
      });
      res.on('close', () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      await transport.handleRequest(req, res);
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;
  });
  afterAll(async () => {
    await new Promise((resolve) => http.close(resolve));
  });

  function httpBackend(name: string, target: string, headers: Record<string, string>): HttpServerConfig {
    return { name, transport: 'http', url: target, headers, enabled: true, source: { kind: 'runtime' } };
  }

  it('connects with the configured headers, calls a tool, and never shows credentials', async () => {
    registry = newRegistry();
    const withSecrets = `${url.replace('http://', 'http://user:pw@')}?token=abc#frag`;
    const info = await registry
      .add(httpBackend('web', withSecrets, { Authorization: 'Bearer letmein' }))
      .whenSettled();
    expect(info.lastError).toBeUndefined();
    expect(info.status).toBe('ready');
    expect(info.target).toBe(url);
    expect(JSON.stringify(info)).not.toMatch(/letmein|pw@|abc/);
    const result = await registry.callTool('web', 'echo', { q: 1 });
    expect(result.structuredContent).toEqual({ via: 'http', args: { q: 1 } });
    expect(seenAuth).toContain('Bearer letmein');
  });

  it('a refused connection is failed with the reason', async () => {
    registry = newRegistry();
    const info = await registry.add(httpBackend('locked', url, {})).whenSettled();
    expect(info.status).toBe('failed');
    expect(info.lastError).toMatch(
      /^could not connect to http:\/\/127\.0\.0\.1:\d+\/mcp: .*requires authorization \(HTTP 401\)/,
    );
  });
});
