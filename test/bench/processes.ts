/**
 * The processes the bench talks to: the testbed backend called directly, the bare relay (stdio and
 * HTTP), and the built gateway (stdio and HTTP), each behind an SDK Client, plus their memory.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { type CallToolResult, CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import ts from 'typescript';
import {
  connectHttp,
  GATEWAY_BIN,
  NODE,
  ROOT,
  startStdioGateway,
  stopProcess,
  TESTBED,
  testbedServer,
  writeConfig,
} from '../helpers/gateway.js';

/** Something the bench can call tools on and close. */
export interface Endpoint {
  client: Client;
  pid: number | undefined;
  close(): Promise<void>;
}

/** tools/call through `client.request`, the same way for every endpoint (no output-schema checks). */
export function callTool(
  client: Client,
  name: string,
  args: Record<string, unknown>,
): Promise<CallToolResult> {
  return client.request({ method: 'tools/call', params: { name, arguments: args } }, CallToolResultSchema, {
    timeout: 120_000,
  });
}

/** Processes spawned here, stopped when the bench exits however it exits. */
const spawned = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of spawned)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
});
process.once('SIGINT', () => process.exit(130));

export function track(child: ChildProcess): ChildProcess {
  spawned.add(child);
  child.once('exit', () => spawned.delete(child));
  return child;
}

let relayFile: string | undefined;

/**
 * relay.ts compiled to plain JavaScript once per bench run, into node_modules/.cache so its SDK
 * imports resolve, and so the relay runs without a TypeScript loader, as the built gateway does.
 */
export function relayScript(): string {
  if (relayFile) return relayFile;
  const source = readFileSync(path.join(import.meta.dirname, 'relay.ts'), 'utf8');
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  const dir = path.join(ROOT, 'node_modules/.cache/mcp-gateway-bench');
  mkdirSync(dir, { recursive: true });
  relayFile = path.join(dir, 'relay.mjs');
  writeFileSync(relayFile, outputText);
  return relayFile;
}

async function stdioEndpoint(command: string, args: string[], name: string): Promise<Endpoint> {
  const transport = new StdioClientTransport({ command, args, stderr: 'ignore' });
  const client = new Client({ name, version: '1.0.0' });
  await client.connect(transport);
  return { client, pid: transport.pid ?? undefined, close: () => client.close() };
}

export function startDirect(name = 'direct'): Promise<Endpoint> {
  return stdioEndpoint(NODE, [TESTBED, '--name', name], 'bench-direct');
}

export function startStdioRelay(): Promise<Endpoint> {
  return stdioEndpoint(
    NODE,
    [relayScript(), '--transport', 'stdio', '--', NODE, TESTBED, '--name', 'relay'],
    'bench-relay',
  );
}

export async function startHttpRelay(): Promise<Endpoint> {
  const child = track(
    spawn(
      NODE,
      [relayScript(), '--transport', 'http', '--port', '0', '--', NODE, TESTBED, '--name', 'relay-http'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    ),
  );
  try {
    const url = await listeningUrl(child, 'relay');
    const client = await connectHttp(url, { clientName: 'bench-relay-http' });
    return {
      client,
      pid: child.pid,
      close: async () => {
        await client.close();
        await stopProcess(child);
      },
    };
  } catch (err) {
    await stopProcess(child);
    throw err;
  }
}

/** The URL a process prints as "listening on http://…" on stderr. */
function listeningUrl(child: ChildProcess, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start:\n${seen}`)), 15_000);
    child.stderr?.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(seen);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code}:\n${seen}`));
    });
  });
}

/** A gateway config with `count` testbed backends named tb, tb2, tb3 …, and any extra YAML. */
export function gatewayConfig(count: number, extra = '', dir?: string): string {
  const servers = Array.from({ length: count }, (_, i) => testbedServer(i === 0 ? 'tb' : `tb${i + 1}`));
  const body = count === 0 ? 'servers: {}\n' : `servers:\n${servers.join('')}`;
  return writeConfig(`${extra}${body}`, dir);
}

export interface GatewayEndpoint extends Endpoint {
  stderr(): string;
  /** Over HTTP, opens another session (its own SDK Client); over stdio there is one session. */
  connectAnother?: () => Promise<Client>;
}

/**
 * The built gateway with `configFile`, behind an SDK Client. Over HTTP it listens on a free loopback
 * port; a gateway that fails to start is stopped, never left behind.
 */
export async function startGateway(
  transport: 'stdio' | 'http',
  configFile: string,
  extraArgs: string[] = [],
): Promise<GatewayEndpoint> {
  if (transport === 'stdio') {
    const gw = await startStdioGateway(['serve', '--config', configFile, ...extraArgs], {
      clientName: 'bench-gateway',
    });
    return { client: gw.client, pid: gw.pid, stderr: gw.stderr, close: gw.close };
  }
  const child = track(
    spawn(
      NODE,
      [
        GATEWAY_BIN,
        'serve',
        '--transport',
        'streamable-http',
        '--port',
        '0',
        '--config',
        configFile,
        ...extraArgs,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    ),
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  try {
    const url = await listeningUrl(child, 'gateway');
    const clients = [await connectHttp(url, { clientName: 'bench-gateway-http' })];
    return {
      client: clients[0]!,
      pid: child.pid,
      stderr: () => stderr,
      connectAnother: async () => {
        const client = await connectHttp(url, { clientName: 'bench-gateway-http' });
        clients.push(client);
        return client;
      },
      close: async () => {
        await Promise.allSettled(clients.map((c) => c.close()));
        await stopProcess(child);
      },
    };
  } catch (err) {
    await stopProcess(child);
    throw err;
  }
}

/** Waits until tools/list serves every name in `names` (backends connect in the background). */
export async function waitForTools(
  client: Client,
  names: readonly string[],
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { tools } = await client.listTools();
    const served = new Set(tools.map((t) => t.name));
    const missing = names.filter((n) => !served.has(n));
    if (missing.length === 0) return;
    if (Date.now() > deadline) throw new Error(`tools never served: ${missing.join(', ')}`);
    await sleep(50);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resident set size of a process in MB (Linux /proc), or null where that cannot be read. */
export function rssMb(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1];
    return kb ? Number(kb) / 1024 : null;
  } catch {
    return null;
  }
}
