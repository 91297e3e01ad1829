// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} is the config's syntax
/**
 * Every fenced block in README.md, ARCHITECTURE.md and docs/ is checked against the real thing, so the
 * docs cannot drift from the code: gateway configs through the config loader, pipelines through the
 * validator with the bundled backends' tools, JSON parsed (a Claude Desktop or Cursor entry loaded as a
 * config), tool calls against the input schemas the gateway serves, systemd units by systemd-analyze,
 * `mcp-gateway` command lines run against the built CLI (a `serve` until it listens, then stopped), npm
 * lines against package.json. A `json output` block after a command is compared with its output.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { Ajv2020 as Ajv } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Env, formatIssue as formatConfigIssue, parseConfigText } from '../../src/config/index.js';
import { formatIssue, parsePipelineTest, validatePipelineText } from '../../src/pipeline/index.js';
import { type Block, docPages, fencedBlocks, REPO_ROOT } from '../docs/markdown.js';
import { classify, isServe, jsonValues, shellCommands, withFreePort, yamlRole } from '../docs/snippets.js';
import {
  GATEWAY_BIN,
  NODE,
  runCli,
  type StdioGateway,
  startStdioGateway,
  stopProcess,
  tempDir,
  waitForTools,
} from '../helpers/gateway.js';
import { type NwsFixture, startNwsFixture } from '../helpers/nws-fixture-server.js';

const blocks: Block[] = docPages().flatMap((page) =>
  fencedBlocks(page, readFileSync(path.join(REPO_ROOT, page), 'utf8')),
);
const checked = blocks.filter((b) => b.noCheck === undefined);
const scripts = (
  JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  }
).scripts;

/** Any `${VAR}` a snippet uses is set: the docs show where secrets go, not their values. */
const snippetEnv: Env = new Proxy({} as Record<string, string>, {
  get: (_t, key) => (typeof key === 'string' ? (process.env[key] ?? 'docs-test-value') : undefined),
});

let nws: NwsFixture;
let dataDir: string;
let gateway: StdioGateway;
/** Served tool name → input schema, from the bundled gateway.yaml's backends. */
const toolSchemas = new Map<string, Record<string, unknown>>();
/** Bundled server → its tools, for pipeline validation. */
const knownTools = new Map<string, string[]>();
/** Each command's stdout, by block, for `json output` blocks. */
const lastOutput = new Map<Block, string>();
const ajv = new Ajv({ strict: false, allErrors: true });

function cliEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { MCP_GATEWAY_DATA: dataDir, NWS_API_BASE: nws.url, MCP_GATEWAY_LOG_LEVEL: 'info', ...extra };
}

beforeAll(async () => {
  nws = await startNwsFixture();
  dataDir = tempDir('mcp-gateway-docs-');
  mkdirSync(path.join(dataDir, 'sandbox'), { recursive: true });
  gateway = await startStdioGateway(['serve', '--config', 'gateway.yaml', '--no-watch'], {
    cwd: REPO_ROOT,
    env: cliEnv(),
  });
  await waitForTools(
    gateway.client,
    ['weather__get_alerts', 'sqlite__read_query', 'filesystem__write_file'],
    60_000,
  );
  await collectTools(gateway.client);
}, 90_000);

afterAll(async () => {
  await gateway?.close();
  await nws?.close();
});

async function collectTools(client: Client): Promise<void> {
  for (const tool of (await client.listTools()).tools) {
    toolSchemas.set(tool.name, tool.inputSchema as Record<string, unknown>);
    const [server, name] = tool.name.split('__');
    if (name && server !== 'pipeline')
      knownTools.set(server as string, [...(knownTools.get(server as string) ?? []), name]);
  }
}

function checkPipeline(text: string, where: string): void {
  const result = validatePipelineText(text, { file: where, knownTools });
  expect(result.ok ? [] : result.issues.map(formatIssue)).toEqual([]);
}

function checkPipelineTest(text: string, where: string): void {
  const result = parsePipelineTest(text, where);
  expect(result.ok ? [] : result.issues.map(formatIssue)).toEqual([]);
}

function checkConfig(text: string, file: string): void {
  const dir = tempDir('mcp-gateway-docs-config-');
  const result = parseConfigText(text, path.join(dir, file), snippetEnv);
  expect(result.ok ? [] : result.errors.map(formatConfigIssue)).toEqual([]);
}

function checkToolCall(call: unknown, where: string): void {
  const { name, arguments: args } = call as { name: string; arguments: Record<string, unknown> };
  const schema = toolSchemas.get(name);
  expect(schema, `${where}: the gateway serves no tool '${name}'`).toBeDefined();
  const validate = ajv.compile(schema as object);
  expect(validate(args) ? [] : validate.errors, `${where}: ${name} arguments`).toEqual([]);
  const known = Object.keys((schema as { properties?: object }).properties ?? {});
  expect(
    Object.keys(args).filter((k) => !known.includes(k)),
    `${where}: ${name} has no such arguments`,
  ).toEqual([]);
  if (name === 'route_pipeline' && typeof args.pipeline === 'string')
    checkPipeline(args.pipeline, `${where} (pipeline)`);
}

/** A `# file: PATH` first line: the block is that file, less its leading comment lines. */
function checkFileCopy(block: Block): void {
  const named = /^# file: (\S+)\n/.exec(block.text);
  if (!named) return;
  const file = readFileSync(path.join(REPO_ROOT, named[1] as string), 'utf8');
  expect(file.replace(/^(#.*\n)+/, '')).toBe(block.text.slice(named[0].length));
}

async function runGatewayCommand(
  args: string[],
  env: Record<string, string>,
  where: string,
): Promise<string> {
  if (!isServe(args)) {
    const result = await runCli(args, { cwd: REPO_ROOT, env: cliEnv(env), timeoutMs: 90_000 });
    expect(result.code, `${where}: exit code\n${result.stderr}`).toBe(0);
    return result.stdout;
  }
  // A server runs until stopped: start it, wait until it serves, stop it, and expect a clean exit.
  const child: ChildProcess = spawn(NODE, [GATEWAY_BIN, ...withFreePort(args)], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...cliEnv(env) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${where}: did not start serving:\n${stderr}`)),
        60_000,
      );
      child.stderr?.on('data', () => {
        if (/listening on http|serving on stdio/.test(stderr)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${where}: exited with ${code} before serving:\n${stderr}`));
      });
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await stopProcess(child, 15_000);
    expect(await exited, `${where}: exit code after SIGTERM`).toBe(0);
  } finally {
    await stopProcess(child);
  }
  return '';
}

function vitestPathExists(p: string): boolean {
  if (existsSync(path.join(REPO_ROOT, p))) return true;
  const dir = path.join(REPO_ROOT, path.dirname(p));
  return existsSync(dir) && readdirSync(dir).some((f) => f.startsWith(path.basename(p)));
}

async function checkShell(block: Block, where: string): Promise<void> {
  for (const command of shellCommands(block.text)) {
    const kind = classify(command.argv);
    const at = `${where}: ${command.line}`;
    switch (kind.kind) {
      case 'gateway':
        lastOutput.set(block, await runGatewayCommand(kind.args, command.env, at));
        break;
      case 'npm-script':
        expect(scripts[kind.script], `${at}: package.json has no script '${kind.script}'`).toBeDefined();
        break;
      case 'npm-builtin':
        break;
      case 'vitest':
        expect(
          kind.paths.filter((p) => !vitestPathExists(p)),
          `${at}: no such test files`,
        ).toEqual([]);
        break;
      case 'unknown':
        throw new Error(`${at}: no checker for this command; check it here or tag the block no-check: <why>`);
    }
  }
}

function checkSystemd(block: Block, where: string): void {
  const which = spawnSync('systemd-analyze', ['--version']);
  if (which.error) {
    // Not a Linux with systemd: say so rather than pass silently.
    console.warn(`${where}: systemd-analyze is not installed; the unit is not verified`);
    return;
  }
  const file = path.join(tempDir('mcp-gateway-docs-unit-'), 'mcp-gateway.service');
  writeFileSync(file, block.text);
  const result = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
  const complaints = `${result.stdout}${result.stderr}`.split('\n').filter((l) => l.includes(file));
  expect({ status: result.status, complaints }).toEqual({ status: 0, complaints: [] });
}

describe('docs snippets', () => {
  it('are found, and most are checked', () => {
    expect(blocks.length).toBeGreaterThan(20);
    expect(checked.length / blocks.length).toBeGreaterThan(0.9);
  });

  for (const [index, block] of checked.entries()) {
    const where = `${block.page}:${block.line}`;
    it(`${where} (${block.lang || 'plain'}${block.tags.length ? ` ${block.tags.join(' ')}` : ''})`, async () => {
      switch (block.lang) {
        case 'yaml':
        case 'yml':
          checkFileCopy(block);
          if (yamlRole(block.text) === 'pipeline') checkPipeline(block.text, where);
          else if (yamlRole(block.text) === 'pipeline-test') checkPipelineTest(block.text, where);
          else checkConfig(block.text, 'gateway.yaml');
          break;
        case 'json': {
          const value = JSON.parse(block.text) as Record<string, unknown>;
          if (block.tags.includes('output')) {
            const previous = checked[index - 1];
            const output = previous ? lastOutput.get(previous) : undefined;
            expect(output, `${where}: an output block must follow a command block`).toBeDefined();
            expect(JSON.parse(output as string)).toEqual(value);
          } else if ('mcpServers' in value || 'servers' in value) {
            checkConfig(block.text, 'config.json');
          }
          break;
        }
        case 'jsonc':
          for (const value of jsonValues(block.text)) checkToolCall(value, where);
          break;
        case 'sh':
        case 'bash':
          await checkShell(block, where);
          break;
        case 'ini':
          expect(block.tags, `${where}: say what the ini block is (systemd)`).toContain('systemd');
          checkSystemd(block, where);
          break;
        case 'text':
        case 'mermaid':
          // Prose in a box (layouts, usage, diagrams): nothing to run. The usage is generated and checked
          // by docs-generated.test.ts.
          break;
        default:
          throw new Error(`${where}: no checker for \`\`\`${block.lang}; add one or tag it no-check: <why>`);
      }
    }, 120_000);
  }
});
