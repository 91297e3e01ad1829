/**
 * The sqlite server's per-query deadline and MCP cancellation, on the real server process with a real
 * database file in a temp folder. A runaway recursive CTE never ends on its own; the server must stop
 * it (not merely stop waiting for it) and keep serving.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, describe, expect, it } from 'vitest';
import { distFile } from '../helpers/paths.js';
import { isAlive, waitFor } from '../helpers/wait.js';

const RUNAWAY = 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c';

const dir = mkdtempSync(join(tmpdir(), 'mcp-sqlite-deadline-'));
const open: Client[] = [];

afterAll(async () => {
  await Promise.all(open.map((c) => c.close()));
  rmSync(dir, { recursive: true, force: true });
});

interface Server {
  client: Client;
  pid: number;
  /** Pids of the processes the server ran queries in, in start order (from its stderr log). */
  queryPids: () => number[];
}

async function connect(args: string[], env: Record<string, string> = {}): Promise<Server> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [distFile('servers', 'sqlite.js'), '--db-path', join(dir, 'shop.db'), ...args],
    env: { ...(process.env as Record<string, string>), ...env },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const client = new Client({ name: 'sqlite-deadline-test', version: '0.0.0' });
  await client.connect(transport);
  open.push(client);
  const queryPids = () => [...stderr.matchAll(/query process (\d+) ready/g)].map((m) => Number(m[1]));
  return { client, pid: transport.pid ?? 0, queryPids };
}

/** The query process that ran the runaway query is gone, not merely abandoned. */
async function expectStopped(pid: number | undefined): Promise<void> {
  expect(pid).toBeGreaterThan(0);
  await waitFor(() => !isAlive(pid ?? 0), {
    timeoutMs: 10_000,
    message: `query process ${pid} still running`,
  });
}

async function read(client: Client, query: string, options: { signal?: AbortSignal } = {}) {
  // The client's own timeout is far past every deadline below: if the server does not stop the query,
  // this call hangs until then and the test fails on it, not on a race.
  return (await client.callTool({ name: 'read_query', arguments: { query } }, undefined, {
    timeout: 60_000,
    ...options,
  })) as CallToolResult;
}

function textOf(result: CallToolResult): string {
  return result.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
}

async function countCustomers(client: Client): Promise<unknown> {
  const result = await read(client, 'SELECT COUNT(*) AS n FROM customers');
  expect(result.isError, textOf(result)).toBeFalsy();
  return (result.structuredContent as { rows: { n: number }[] }).rows[0]?.n;
}

describe('sqlite server: query deadline', () => {
  it('stops a runaway query at --query-timeout with a clear error, then serves the next query', async () => {
    const server = await connect(['--query-timeout', '1500ms']);
    const { client } = server;
    const started = Date.now();
    const result = await read(client, RUNAWAY);
    const elapsed = Date.now() - started;
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe("query stopped after 1500 ms (the sqlite server's --query-timeout)");
    // Not a timing assertion on speed: only that the deadline, not the client's 60 s, ended the call.
    expect(elapsed).toBeGreaterThanOrEqual(1_500);
    expect(elapsed).toBeLessThan(30_000);
    await expectStopped(server.queryPids()[0]);
    expect(await countCustomers(client)).toBe(10);
    // A fresh process served it (stderr and stdout are separate pipes, so its log line may trail).
    await waitFor(() => server.queryPids().length === 2, { timeoutMs: 10_000 });
  });

  it('takes the deadline from SQLITE_QUERY_TIMEOUT', async () => {
    const { client } = await connect([], { SQLITE_QUERY_TIMEOUT: '1s' });
    const result = await read(client, RUNAWAY);
    expect(textOf(result)).toBe("query stopped after 1000 ms (the sqlite server's --query-timeout)");
    expect(await countCustomers(client)).toBe(10);
  });

  it('stops a query the client cancels, and the next query runs at once', async () => {
    // A deadline far beyond the test: only the cancellation can end the runaway query.
    const server = await connect(['--query-timeout', '10m']);
    const { client } = server;
    const controller = new AbortController();
    const runaway = read(client, RUNAWAY, { signal: controller.signal });
    setTimeout(() => controller.abort('user gave up'), 300);
    await expect(runaway).rejects.toThrow();
    await expectStopped(server.queryPids()[0]);
    // Queries run one at a time: had the cancelled one kept running, this one would wait 10 minutes.
    expect(await countCustomers(client)).toBe(10);
  });

  it('leaves no query process behind when the server itself is killed mid-query', async () => {
    const server = await connect(['--query-timeout', '10m']);
    const runaway = read(server.client, RUNAWAY).catch(() => undefined);
    // Give the query time to reach its process; whether or not it did, the process must go.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const [queryPid] = server.queryPids();
    process.kill(server.pid, 'SIGKILL');
    await expectStopped(queryPid);
    await runaway;
  });

  it('refuses a malformed --query-timeout at start', async () => {
    await expect(connect(['--query-timeout', 'soon'])).rejects.toThrow();
  });
});
