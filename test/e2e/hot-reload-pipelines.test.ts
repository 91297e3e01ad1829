import { mkdirSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type StdioGateway,
  startStdioGateway,
  structured,
  tempDir,
  testbedServer,
  textOf,
  waitUntilWatching,
} from '../helpers/gateway.js';
import { readTestbedLog } from '../helpers/testbed-log.js';
import { waitFor } from '../helpers/wait.js';

/** Reloads are debounced and the machine may be loaded: bounded, but with room. */
const RELOAD_WAIT = { timeoutMs: 15_000 };

interface Issue {
  file: string;
  line: number;
  column: number;
  message: string;
}

interface PipelineRow {
  name: string;
  file?: string;
  description?: string;
  valid: boolean;
  issues: Issue[];
  servingLastGood?: true;
  tool?: string;
}

/**
 * A pipeline that answers `<word> <who>` through the testbed's echo; `sayStep` is the step the output
 * reads, so `greet('hello', 'sya')` is invalid at 10:9 (an unknown step).
 */
function greet(word: string, options: { name?: string; sayStep?: string } = {}): string {
  return `${[
    `name: ${options.name ?? 'greet'}`,
    `description: says ${word}`,
    'inputs:',
    '  who: { type: string, default: world }',
    'steps:',
    '  say:',
    '    server: tb',
    '    tool: echo',
    `    args: { text: "${word} \${{ $.inputs.who }}" }`,
    `output: \${{ $.steps.${options.sayStep ?? 'say'}.output.args.text }}`,
  ].join('\n')}\n`;
}

/** A pipeline that sleeps, then says which version of the file it ran. */
function slow(version: string, ms: number): string {
  return `${[
    'name: slow',
    `description: slow ${version}`,
    'steps:',
    '  wait:',
    '    server: tb',
    '    tool: sleep',
    `    args: { ms: ${ms} }`,
    '  mark:',
    '    server: tb',
    '    tool: echo',
    '    needs: [wait]',
    `    args: { version: ${version} }`,
    'output:',
    `  version: \${{ $.steps.mark.output.args.version }}`,
  ].join('\n')}\n`;
}

async function toolNames(client: Client): Promise<string[]> {
  return (await client.listTools()).tools.map((t) => t.name);
}

async function listPipelines(client: Client): Promise<{ rows: Map<string, PipelineRow>; text: string }> {
  const result = await client.callTool({ name: 'list_pipelines', arguments: {} });
  const rows = structured<{ pipelines: PipelineRow[] }>(result).pipelines;
  return { rows: new Map(rows.map((p) => [p.name, p])), text: textOf(result) };
}

async function row(client: Client, name: string): Promise<PipelineRow | undefined> {
  return (await listPipelines(client)).rows.get(name);
}

/** Runs pipeline__<name> and returns its output (failing the test if the run failed). */
async function runOutput(client: Client, name: string, args: Record<string, unknown> = {}): Promise<unknown> {
  const result = await client.callTool({ name: `pipeline__${name}`, arguments: args });
  expect(result.isError, textOf(result)).toBeFalsy();
  return structured<{ output: unknown }>(result).output;
}

async function routeOutput(client: Client, scenario: string): Promise<unknown> {
  const result = await client.callTool({ name: 'route_pipeline', arguments: { scenario } });
  expect(result.isError, textOf(result)).toBeFalsy();
  return structured<{ output: unknown }>(result).output;
}

function events(file: string): Array<{ event: string; tool?: string }> {
  return readTestbedLog(file);
}

function gatewayYaml(pipelines: string, tbLog: string): string {
  return [
    'timeout: 10s',
    `pipelines: ${pipelines}`,
    'servers:',
    testbedServer('tb', [], `    env: { TESTBED_LOG: ${JSON.stringify(tbLog)} }\n`),
  ].join('\n');
}

describe('hot reload of pipelines (stdio gateway, SDK client)', () => {
  const dir = tempDir('mcp-gateway-reload-pipelines-');
  const config = path.join(dir, 'gateway.yaml');
  const folder = path.join(dir, 'pipelines');
  const tbLog = path.join(dir, 'tb.log');
  const greetFile = path.join(folder, 'greet.yaml');
  let gw: StdioGateway;
  let listChanged = 0;

  /** Everything the gateway wrote to stderr from now on. */
  function stderrFromNow(): () => string {
    const mark = gw.stderr().length;
    return () => gw.stderr().slice(mark);
  }

  beforeAll(async () => {
    mkdirSync(folder);
    writeFileSync(config, gatewayYaml('./pipelines', tbLog));
    gw = await startStdioGateway(['serve', '--config', config], { env: { MCP_GATEWAY_LOG_LEVEL: 'info' } });
    gw.client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      listChanged++;
    });
    await waitFor(async () => (await toolNames(gw.client)).includes('tb__echo'), RELOAD_WAIT);
    await waitUntilWatching(gw, folder);
    await waitUntilWatching(gw, config);
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('a pipeline added to the folder is served as pipeline__<name>, and the client gets list_changed', async () => {
    expect(await toolNames(gw.client)).not.toContain('pipeline__greet');
    const before = listChanged;
    writeFileSync(greetFile, greet('hello'));
    await waitFor(async () => (await toolNames(gw.client)).includes('pipeline__greet'), RELOAD_WAIT);
    await waitFor(() => listChanged > before);
    expect(await runOutput(gw.client, 'greet', { who: 'Ada' })).toBe('hello Ada');
    expect(await row(gw.client, 'greet')).toMatchObject({ valid: true, tool: 'pipeline__greet', issues: [] });
  });

  it('a changed pipeline runs its new version', async () => {
    const before = listChanged;
    writeFileSync(greetFile, greet('hi'));
    await waitFor(async () => (await runOutput(gw.client, 'greet')) === 'hi world', RELOAD_WAIT);
    await waitFor(() => listChanged > before);
    expect(await routeOutput(gw.client, 'greet')).toBe('hi world');
  });

  it('a broken pipeline keeps its last good version serving, and says what is wrong and where', async () => {
    const stderr = stderrFromNow();
    writeFileSync(greetFile, greet('oops', { sayStep: 'sya' }));
    const broken = await waitFor(async () => {
      const r = await row(gw.client, 'greet');
      return r && !r.valid ? r : undefined;
    }, RELOAD_WAIT);

    // list_pipelines: invalid, every problem at line:col, and the last good version still serving.
    expect(broken).toMatchObject({ valid: false, servingLastGood: true, tool: 'pipeline__greet' });
    expect(broken.description).toBe('says hi');
    expect(broken.issues).toEqual([
      {
        file: greetFile,
        line: 10,
        column: 9,
        message: "output references unknown step 'sya' (did you mean 'say'?)",
      },
    ]);
    const { text } = await listPipelines(gw.client);
    expect(text).toContain(`greet — INVALID (${greetFile}); its last good version keeps serving`);
    expect(text).toContain(`${greetFile}:10:9: output references unknown step 'sya'`);

    // stderr: file:line:col.
    await waitFor(
      () => stderr().includes(`${greetFile}:10:9: output references unknown step 'sya'`),
      RELOAD_WAIT,
    );
    expect(stderr()).toContain(
      `${greetFile} is invalid (1 problem); the last good version of pipeline 'greet'`,
    );

    // Both ways of running it still run the last good version.
    expect(await toolNames(gw.client)).toContain('pipeline__greet');
    expect(await runOutput(gw.client, 'greet')).toBe('hi world');
    expect(await routeOutput(gw.client, 'greet')).toBe('hi world');
  });

  it('fixing the file clears the error and serves the fixed version', async () => {
    const stderr = stderrFromNow();
    writeFileSync(greetFile, greet('hey'));
    const fixed = await waitFor(async () => {
      const r = await row(gw.client, 'greet');
      return r?.valid ? r : undefined;
    }, RELOAD_WAIT);
    expect(fixed.issues).toEqual([]);
    expect(fixed.servingLastGood).toBeUndefined();
    expect(fixed.description).toBe('says hey');
    expect(await runOutput(gw.client, 'greet')).toBe('hey world');
    await waitFor(() => stderr().includes("pipeline 'greet' is valid again"), RELOAD_WAIT);
  });

  it('sees an atomic save: a temp file renamed over the pipeline', async () => {
    const temp = path.join(folder, '.greet.yaml.tmp');
    writeFileSync(temp, greet('salut'));
    renameSync(temp, greetFile);
    await waitFor(async () => (await runOutput(gw.client, 'greet')) === 'salut world', RELOAD_WAIT);
    // The temp file was never a pipeline.
    expect([...(await listPipelines(gw.client)).rows.keys()]).toEqual(['greet']);
  });

  it('a new file that is invalid is listed with its problems and serves nothing', async () => {
    const file = path.join(folder, 'bad.yaml');
    writeFileSync(file, greet('nope', { name: 'bad', sayStep: 'sya' }));
    const bad = await waitFor(() => row(gw.client, 'bad'), RELOAD_WAIT);
    expect(bad).toMatchObject({ valid: false, issues: [{ file, line: 10, column: 9 }] });
    expect(bad.servingLastGood).toBeUndefined();
    expect(bad.tool).toBeUndefined();
    expect(await toolNames(gw.client)).not.toContain('pipeline__bad');
    const route = await gw.client.callTool({ name: 'route_pipeline', arguments: { scenario: 'bad' } });
    expect(route.isError).toBe(true);
    expect(textOf(route)).toContain(`${file}:10:9:`);
    unlinkSync(file);
    await waitFor(async () => !(await listPipelines(gw.client)).rows.has('bad'), RELOAD_WAIT);
  });

  it('a renamed file is its new name: checked against its stem, the old name gone', async () => {
    const renamed = path.join(folder, 'hello.yaml');
    renameSync(greetFile, renamed);
    // `name: greet` in hello.yaml: invalid, nothing served under either name.
    const hello = await waitFor(async () => {
      const rows = (await listPipelines(gw.client)).rows;
      return !rows.has('greet') ? rows.get('hello') : undefined;
    }, RELOAD_WAIT);
    expect(hello).toMatchObject({ valid: false, file: renamed });
    expect(hello.issues[0]?.message).toBe("name 'greet' must equal the file name's stem 'hello'");
    const tools = await toolNames(gw.client);
    expect(tools).not.toContain('pipeline__greet');
    expect(tools).not.toContain('pipeline__hello');

    writeFileSync(renamed, greet('hello', { name: 'hello' }));
    await waitFor(async () => (await toolNames(gw.client)).includes('pipeline__hello'), RELOAD_WAIT);
    expect(await runOutput(gw.client, 'hello')).toBe('hello world');
  });

  it('a deleted pipeline is gone: its tool, its entry, and route_pipeline by name', async () => {
    const before = listChanged;
    unlinkSync(path.join(folder, 'hello.yaml'));
    await waitFor(async () => !(await toolNames(gw.client)).includes('pipeline__hello'), RELOAD_WAIT);
    await waitFor(() => listChanged > before);
    expect((await listPipelines(gw.client)).rows.has('hello')).toBe(false);
    const route = await gw.client.callTool({ name: 'route_pipeline', arguments: { scenario: 'hello' } });
    expect(route.isError).toBe(true);
    expect(textOf(route)).toContain("unknown pipeline 'hello'");
  });

  it('a run in flight while its file changes finishes on the version it started with', async () => {
    const file = path.join(folder, 'slow.yaml');
    writeFileSync(file, slow('v1', 3000));
    await waitFor(async () => (await toolNames(gw.client)).includes('pipeline__slow'), RELOAD_WAIT);

    const sleeps = () => events(tbLog).filter((e) => e.event === 'call' && e.tool === 'sleep').length;
    const sleepsBefore = sleeps();
    let finished = false;
    const run = gw.client.callTool({ name: 'pipeline__slow', arguments: {} }).finally(() => {
      finished = true;
    });
    await waitFor(() => sleeps() > sleepsBefore, RELOAD_WAIT);

    writeFileSync(file, slow('v2', 10));
    await waitFor(async () => (await row(gw.client, 'slow'))?.description === 'slow v2', RELOAD_WAIT);
    // The new version is in place while the old run still sleeps; its later step runs as v1 had it.
    expect(finished).toBe(false);
    const result = await run;
    expect(result.isError, textOf(result)).toBeFalsy();
    expect(structured<{ output: unknown }>(result).output).toEqual({ version: 'v1' });
    expect(await runOutput(gw.client, 'slow')).toEqual({ version: 'v2' });
  });

  it('`pipelines:` changed in gateway.yaml: the new folder is loaded and watched, the old one no longer', async () => {
    const other = path.join(dir, 'other');
    mkdirSync(other);
    writeFileSync(path.join(other, 'elsewhere.yaml'), greet('from elsewhere', { name: 'elsewhere' }));
    const stderr = stderrFromNow();
    writeFileSync(config, gatewayYaml('./other', tbLog));
    await waitFor(async () => (await toolNames(gw.client)).includes('pipeline__elsewhere'), RELOAD_WAIT);
    expect(await toolNames(gw.client)).not.toContain('pipeline__slow');
    expect(stderr()).not.toContain('restart');
    await waitFor(() => stderr().includes(`watching ${other} for changes`), RELOAD_WAIT);

    writeFileSync(path.join(other, 'more.yaml'), greet('more', { name: 'more' }));
    await waitFor(async () => (await toolNames(gw.client)).includes('pipeline__more'), RELOAD_WAIT);
    expect(await runOutput(gw.client, 'more')).toBe('more world');

    // An edit in the old folder is not seen (the new one was, after it, so it had every chance).
    writeFileSync(path.join(folder, 'old.yaml'), greet('old', { name: 'old' }));
    writeFileSync(path.join(other, 'last.yaml'), greet('last', { name: 'last' }));
    await waitFor(async () => (await toolNames(gw.client)).includes('pipeline__last'), RELOAD_WAIT);
    expect(await toolNames(gw.client)).not.toContain('pipeline__old');
    rmSync(path.join(folder, 'old.yaml'));
  });
});

describe('serve --no-watch ignores pipeline edits', () => {
  const dir = tempDir('mcp-gateway-nowatch-pipelines-');
  const config = path.join(dir, 'gateway.yaml');
  const folder = path.join(dir, 'pipelines');
  let watched: StdioGateway;
  let unwatched: StdioGateway;

  beforeAll(async () => {
    mkdirSync(folder);
    writeFileSync(path.join(folder, 'greet.yaml'), greet('hello'));
    writeFileSync(path.join(folder, 'gone.yaml'), greet('gone', { name: 'gone' }));
    writeFileSync(config, gatewayYaml('./pipelines', path.join(dir, 'tb.log')));
    const env = { MCP_GATEWAY_LOG_LEVEL: 'info' };
    [watched, unwatched] = await Promise.all([
      startStdioGateway(['serve', '--config', config], { env }),
      startStdioGateway(['serve', '--config', config, '--no-watch'], { env }),
    ]);
    await waitUntilWatching(watched, folder);
  });
  afterAll(async () => {
    await Promise.all([watched?.close(), unwatched?.close()]);
  });

  it('an added, a changed and a deleted file reach the watching gateway only', async () => {
    writeFileSync(path.join(folder, 'greet.yaml'), greet('changed'));
    unlinkSync(path.join(folder, 'gone.yaml'));
    writeFileSync(path.join(folder, 'added.yaml'), greet('added', { name: 'added' }));
    await waitFor(async () => {
      const tools = await toolNames(watched.client);
      return tools.includes('pipeline__added') && !tools.includes('pipeline__gone');
    }, RELOAD_WAIT);
    expect(await runOutput(watched.client, 'greet')).toBe('changed world');
    // The watching gateway has applied it all, so the other one had every chance to.
    const tools = await toolNames(unwatched.client);
    expect(tools).toContain('pipeline__gone');
    expect(tools).not.toContain('pipeline__added');
    expect(await runOutput(unwatched.client, 'greet')).toBe('hello world');
    expect(unwatched.stderr()).not.toContain('watching');
  });
});
