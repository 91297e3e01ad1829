import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { waitFor } from './wait.js';

/** Helpers that start the real, built gateway (dist/) and talk to it through the SDK Client. */

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const GATEWAY_BIN = path.join(ROOT, 'dist/cli/index.js');
export const TESTBED = path.join(ROOT, 'test/fixtures/servers/testbed.mjs');
export const NODE = process.execPath;

export function tempDir(prefix = 'mcp-gateway-test-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/** Writes a gateway config into a fresh temp folder and returns its path. */
export function writeConfig(yaml: string, dir = tempDir()): string {
  const file = path.join(dir, 'gateway.yaml');
  writeFileSync(file, yaml);
  return file;
}

/** A testbed backend entry for a config, as YAML lines under `servers:`. */
export function testbedServer(name: string, extraArgs: string[] = [], extra = ''): string {
  const args = JSON.stringify([TESTBED, '--name', name, ...extraArgs]);
  return `  ${name}:\n    command: ${JSON.stringify(NODE)}\n    args: ${args}\n${extra}`;
}

export interface StdioGateway {
  client: Client;
  stderr: () => string;
  pid: number | undefined;
  close(): Promise<void>;
}

export async function startStdioGateway(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; clientName?: string } = {},
): Promise<StdioGateway> {
  const transport = new StdioClientTransport({
    command: NODE,
    args: [GATEWAY_BIN, ...args],
    env: { ...(process.env as Record<string, string>), ...options.env },
    cwd: options.cwd,
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const client = new Client({ name: options.clientName ?? 'e2e-stdio', version: '1.0.0' });
  await client.connect(transport);
  return {
    client,
    stderr: () => stderr,
    pid: transport.pid ?? undefined,
    close: () => client.close(),
  };
}

export interface HttpGatewayProcess {
  url: string;
  child: ChildProcess;
  stderr: () => string;
  close(): Promise<void>;
}

/** Starts `serve --transport streamable-http --port 0` and learns the URL from its log line. */
export async function startHttpGateway(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<HttpGatewayProcess> {
  const child = spawn(
    NODE,
    [GATEWAY_BIN, 'serve', '--transport', 'streamable-http', '--port', '0', ...args],
    {
      env: { ...process.env, ...options.env },
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  let stdout = '';
  child.stdout?.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start:\n${stderr}`)), 15_000);
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /listening on (http:\/\/[^\s"]+)/.exec(stderr);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code}:\n${stderr}`));
    });
  });
  return {
    url,
    child,
    stderr: () => stderr + (stdout ? `\n[stdout]\n${stdout}` : ''),
    close: () => stopProcess(child),
  };
}

export async function connectHttp(
  url: string,
  options: { token?: string; headers?: Record<string, string>; clientName?: string } = {},
): Promise<Client> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
  const client = new Client({ name: options.clientName ?? 'e2e-http', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

export async function stopProcess(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Runs the CLI to completion and returns its exit code and output. */
export function runCli(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [GATEWAY_BIN, ...args], {
      env: { ...process.env, ...options.env },
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`CLI ${args.join(' ')} timed out:\n${stderr}`));
    }, options.timeoutMs ?? 20_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export function textOf(result: unknown): string {
  const content = (result as CallToolResult).content ?? [];
  return content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
}

export function structured<T = Record<string, unknown>>(result: unknown): T {
  return (result as CallToolResult).structuredContent as T;
}

/** Waits until the gateway serves every one of `names` (backends connect in the background). */
export async function waitForTools(client: Client, names: string[], timeoutMs = 20_000): Promise<void> {
  await waitFor(
    async () => {
      const served = new Set((await client.listTools()).tools.map((t) => t.name));
      return names.every((n) => served.has(n));
    },
    { timeoutMs, message: `the gateway serves ${names.join(', ')}` },
  );
}

/** Waits for the gateway to log that it watches `target`, so an edit made afterwards cannot be missed. */
export async function waitUntilWatching(gw: StdioGateway, target: string): Promise<void> {
  await waitFor(() => gw.stderr().includes(`watching ${target} for changes`), {
    message: `the gateway watches ${target}`,
  });
}
