import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { type HttpGatewayProcess, startHttpGateway, stopProcess, tempDir } from './gateway.js';
import { freePort } from './ports.js';
import { waitFor } from './wait.js';

export { freePort };

/** Helpers for tests (and the bench) that run several gateway replicas over a real Redis. */

export interface RedisProcess {
  url: string;
  port: number;
  child: ChildProcess;
  stop(): Promise<void>;
  /** Starts it again on the same port (after `stop`). */
  restart(): Promise<void>;
}

/** A private redis-server on a free loopback port, in a temp dir, persisting nothing. */
export async function startRedis(port?: number): Promise<RedisProcess> {
  const chosen = port ?? (await freePort());
  const dir = tempDir('mcp-gateway-redis-');
  const launch = async (): Promise<ChildProcess> => {
    const child = spawn(
      'redis-server',
      ['--port', String(chosen), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${out}`)), 10_000);
      child.stdout?.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code}:\n${out}`));
      });
    });
    return child;
  };
  const redis: RedisProcess = {
    url: `redis://127.0.0.1:${chosen}`,
    port: chosen,
    child: await launch(),
    stop: () => stopProcess(redis.child),
    async restart() {
      redis.child = await launch();
    },
  };
  return redis;
}

/** A 2026-07-28 client (stateless: any replica can answer any of its requests). */
export async function modernClient(url: string, name = 'replica-test', token?: string): Promise<Client> {
  const client = new Client(
    { name, version: '1.0.0' },
    { versionNegotiation: { mode: { pin: '2026-07-28' } } },
  );
  const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  return client;
}

export async function callTool(client: Client, name: string, args: Record<string, unknown> = {}) {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

export function structured<T = Record<string, unknown>>(result: CallToolResult): T {
  return result.structuredContent as T;
}

/** The base URL (no /mcp) of a gateway URL. */
export function baseOf(url: string): string {
  return url.replace(/\/mcp$/, '');
}

export async function waitReady(url: string, timeoutMs = 10_000): Promise<void> {
  await waitFor(async () => (await fetch(`${baseOf(url)}/readyz`)).status === 200, { timeoutMs });
}

/** A raw modern tools/call: for the HTTP status and headers the SDK client hides. */
export async function rawModernCall(
  url: string,
  name: string,
  args: Record<string, unknown> = {},
  client = 'raw',
): Promise<{ status: number; headers: Headers; body: string }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/call',
      'mcp-name': name,
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: {
        name,
        arguments: args,
        _meta: {
          'io.modelcontextprotocol/protocolVersion': '2026-07-28',
          'io.modelcontextprotocol/clientInfo': { name: client, version: '1' },
          'io.modelcontextprotocol/clientCapabilities': {},
        },
      },
    }),
  });
  return { status: response.status, headers: response.headers, body: await response.text() };
}

export type Replica = HttpGatewayProcess;

export function startReplica(config: string, id: string, env: Record<string, string> = {}): Promise<Replica> {
  return startHttpGateway(['--config', config], { env: { MCP_GATEWAY_REPLICA_ID: id, ...env } });
}

/** nginx (from PATH) balancing round-robin over `upstreams` (host:port), as deploy/nginx.conf does. */
export async function startNginx(upstreams: string[]) {
  const dir = tempDir('bench-nginx-');
  const port = await freePort();
  const conf = path.join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off;\npid ${dir}/nginx.pid;\nerror_log ${dir}/error.log warn;\nworker_processes 1;\nevents {}\nhttp {\n  access_log off;\n  client_body_temp_path ${dir};\n  proxy_temp_path ${dir};\n  fastcgi_temp_path ${dir};\n  uwsgi_temp_path ${dir};\n  scgi_temp_path ${dir};\n  upstream gw {\n${upstreams.map((u) => `    server ${u};`).join('\n')}\n    keepalive 32;\n  }\n  server {\n    listen 127.0.0.1:${port};\n    location / {\n      proxy_pass http://gw;\n      proxy_http_version 1.1;\n      proxy_set_header Connection "";\n      proxy_set_header Host localhost;\n      proxy_buffering off;\n      proxy_next_upstream error http_502 http_503 non_idempotent;\n    }\n  }\n}\n`,
  );
  const child = spawn('nginx', ['-c', conf, '-p', dir, '-e', `${dir}/error.log`], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 500));
  return { url: `http://127.0.0.1:${port}/mcp`, stop: () => stopProcess(child) };
}
