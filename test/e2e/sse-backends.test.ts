/**
 * Backends on the deprecated HTTP+SSE transport: a real 1.x SDK SSE server process
 * (test/fixtures/servers/legacy-sse-server.mjs) behind the real gateway, reached with `transport: sse`,
 * through the fallback from Streamable HTTP when no transport is set, and after it dies and comes back.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  NODE,
  ROOT,
  runCli,
  type StdioGateway,
  startStdioGateway,
  stopProcess,
  tempDir,
  writeConfig,
} from '../helpers/gateway.js';
import { waitFor } from '../helpers/wait.js';

const SSE_SERVER = path.join(ROOT, 'test/fixtures/servers/legacy-sse-server.mjs');

interface SseServer {
  url: string;
  port: number;
  child: ChildProcess;
}

/** Starts the fixture and waits for its `listening on URL` line. */
async function startSseServer(args: string[] = []): Promise<SseServer> {
  const child = spawn(NODE, [SSE_SERVER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`SSE server did not start: ${out}`)), 10_000);
    const read = (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', read);
    child.stderr?.on('data', read);
    child.once('exit', (code) => reject(new Error(`SSE server exited with ${code}: ${out}`)));
  });
  return { url, port: Number(new URL(url).port), child };
}

interface ServerInfo {
  name: string;
  status: string;
  transport: string;
  httpTransport?: string;
  era?: string;
  lastError?: string;
  tools: string[];
}

function text(result: unknown): string {
  const content = (result as CallToolResult).content;
  return content.map((c) => (c.type === 'text' ? c.text : '')).join('');
}

async function servers(gw: StdioGateway): Promise<Record<string, ServerInfo>> {
  const result = await gw.client.callTool({ name: 'list_servers', arguments: {} });
  const list = (result.structuredContent as { servers: ServerInfo[] }).servers;
  return Object.fromEntries(list.map((s) => [s.name, s]));
}

describe('backends on the HTTP+SSE transport', () => {
  let sse: SseServer;
  let sse404: SseServer;
  let gw: StdioGateway;

  beforeAll(async () => {
    sse = await startSseServer(['--name', 'legacy']);
    sse404 = await startSseServer(['--name', 'legacy404', '--post-status', '404']);
    const dir = tempDir();
    mkdirSync(path.join(dir, 'pipelines'));
    const config = writeConfig(
      [
        'servers:',
        '  explicit:',
        `    url: ${sse.url}`,
        '    transport: sse',
        '  fallback:',
        `    url: ${sse.url}`,
        '  fallback404:',
        `    url: ${sse404.url}`,
        '  strict:',
        `    url: ${sse.url}`,
        '    transport: streamable-http',
        '    timeout: 3s',
        '  wrongpath:',
        `    url: ${sse.url.replace(/\/sse$/, '/nope')}`,
        '    timeout: 3s',
        'pipelines: ./pipelines',
        '',
      ].join('\n'),
      dir,
    );
    gw = await startStdioGateway(['serve', '--config', config, '--no-watch'], { cwd: dir });
    await waitFor(
      async () => {
        const s = await servers(gw);
        return ['explicit', 'fallback', 'fallback404'].every((n) => s[n]?.status === 'ready');
      },
      { timeoutMs: 15_000, message: 'the SSE backends did not become ready' },
    );
  }, 30_000);

  afterAll(async () => {
    await gw?.close();
    for (const server of [sse, sse404]) if (server) await stopProcess(server.child);
  });

  it('calls the tools of an SSE backend with transport: sse, and through the fallback with none set', async () => {
    expect(text(await gw.client.callTool({ name: 'explicit__echo', arguments: { text: 'one' } }))).toBe(
      'legacy: one',
    );
    expect(text(await gw.client.callTool({ name: 'fallback__echo', arguments: { text: 'two' } }))).toBe(
      'legacy: two',
    );
    expect(text(await gw.client.callTool({ name: 'fallback404__echo', arguments: { text: 'three' } }))).toBe(
      'legacy404: three',
    );
    const read = await gw.client.readResource({ uri: 'mcpgw://fallback/legacy://greeting' });
    expect(read.contents[0]).toMatchObject({ text: 'hello from legacy' });
  });

  it('list_servers shows the transport in use, and why transport: streamable-http does not connect', async () => {
    const s = await servers(gw);
    expect(s.explicit).toMatchObject({ transport: 'http', httpTransport: 'sse', era: 'legacy' });
    expect(s.fallback).toMatchObject({ httpTransport: 'sse (fallback)', era: 'legacy' });
    expect(s.fallback404).toMatchObject({ httpTransport: 'sse (fallback)' });
    expect(s.strict?.status).toBe('failed');
    expect(s.strict?.httpTransport).toBeUndefined();
    expect(s.strict?.lastError).toMatch(
      /answered HTTP 405, .*"transport: streamable-http" does not fall back to it \(remove the setting, or set transport: sse\)/,
    );
    // A 404 is as often a wrong URL as an SSE-only server: both answers are named.
    expect(s.wrongpath?.status).toBe('failed');
    expect(s.wrongpath?.lastError).toMatch(
      /^could not connect to http:\/\/127\.0\.0\.1:\d+\/nope: Streamable HTTP answered HTTP 404 Not Found, and HTTP\+SSE failed too: SSE error: Non-200 status code \(404\)/,
    );
    const registered = await gw.client.callTool({
      name: 'register_server',
      arguments: { name: 'runtime_sse', url: sse.url, transport: 'sse' },
    });
    expect(registered.isError).toBeFalsy();
    expect((await servers(gw)).runtime_sse).toMatchObject({ status: 'ready', httpTransport: 'sse' });
    const listed = await gw.client.callTool({ name: 'list_servers', arguments: { format: 'text' } });
    expect(text(listed)).toMatch(/fallback \[sse \(fallback\)\] ready/);
  });
});

describe('an SSE backend that dies and comes back', () => {
  it('reconnects with backoff, over SSE, and serves again', async () => {
    let server = await startSseServer(['--name', 'phoenix']);
    const port = server.port;
    const dir = tempDir();
    mkdirSync(path.join(dir, 'pipelines'));
    const config = writeConfig(
      ['servers:', '  phoenix:', `    url: ${server.url}`, 'pipelines: ./pipelines', ''].join('\n'),
      dir,
    );
    const gw = await startStdioGateway(['serve', '--config', config, '--no-watch'], { cwd: dir });
    try {
      await waitFor(async () => (await servers(gw)).phoenix?.status === 'ready', { timeoutMs: 15_000 });
      const before = await gw.client.callTool({ name: 'phoenix__pid', arguments: {} });
      expect(Number(text(before))).toBe(server.child.pid);

      server.child.kill('SIGKILL');
      const down = await waitFor(
        async () => {
          const info = (await servers(gw)).phoenix;
          return info?.status !== 'ready' && info?.lastError ? info : undefined;
        },
        { timeoutMs: 10_000, message: 'the gateway did not notice the SSE server dying' },
      );
      expect(down.lastError).toMatch(/SSE stream from http:\/\/127\.0\.0\.1:\d+\/sse ended|fetch failed/);

      server = await startSseServer(['--name', 'phoenix', '--port', String(port)]);
      const back = await waitFor(
        async () => {
          const info = (await servers(gw)).phoenix;
          return info?.status === 'ready' ? info : undefined;
        },
        { timeoutMs: 20_000, message: 'the SSE backend did not come back' },
      );
      expect(back.httpTransport).toBe('sse (fallback)');
      const after = await gw.client.callTool({ name: 'phoenix__pid', arguments: {} });
      expect(Number(text(after))).toBe(server.child.pid);
      expect(text(await gw.client.callTool({ name: 'phoenix__echo', arguments: { text: 'again' } }))).toBe(
        'phoenix: again',
      );
    } finally {
      await gw.close();
      await stopProcess(server.child);
    }
  }, 60_000);
});

describe('HTTP+SSE in the config and the CLI', () => {
  it('mcp-gateway list shows sse (fallback)', async () => {
    const server = await startSseServer();
    try {
      const dir = tempDir();
      const config = writeConfig(['servers:', '  old:', `    url: ${server.url}`, ''].join('\n'), dir);
      const result = await runCli(['list', '--config', config], { cwd: dir });
      expect(result.stdout).toContain('old (sse (fallback), ready, MCP 2025-11-25 (legacy))\n  echo — ');
      expect(result.code).toBe(0);
    } finally {
      await stopProcess(server.child);
    }
  });

  it('validate reports bad transport settings with file:line:col', async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'pipelines'));
    writeConfig(
      [
        'servers:',
        '  local:',
        '    command: node',
        '    transport: sse',
        '  modern:',
        '    url: http://127.0.0.1:9/sse',
        '    transport: sse',
        '    protocol: modern',
        '  typo:',
        '    url: http://127.0.0.1:9/sse',
        '    transport: websocket',
        'pipelines: ./pipelines',
        '',
      ].join('\n'),
      dir,
    );
    const result = await runCli(['validate', '--offline', '--config', 'gateway.yaml'], { cwd: dir });
    expect(result.code).toBe(1);
    const out = result.stdout + result.stderr;
    expect(out).toContain(
      'gateway.yaml:4:5: servers.local: "transport" applies only to HTTP servers (with "url")',
    );
    expect(out).toContain(
      'gateway.yaml:8:15: servers.modern.protocol: the HTTP+SSE transport carries the 2025 era only',
    );
    expect(out).toContain('gateway.yaml:11:16: servers.typo.transport: expected streamable-http or sse');
  });
});
