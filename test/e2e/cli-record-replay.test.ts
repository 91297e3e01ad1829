// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ROOT,
  runCli,
  startStdioGateway,
  structured,
  tempDir,
  testbedServer,
  writeConfig,
} from '../helpers/gateway.js';
import { readTestbedLog } from '../helpers/testbed-log.js';

interface RecordingFile {
  version: number;
  pipeline: string;
  inputs: Record<string, unknown>;
  recordedAt: string;
  calls: {
    server: string;
    tool: string;
    arguments: Record<string, unknown>;
    result?: Record<string, unknown>;
    error?: { code?: string | number; message: string };
    startedAt: number;
    durationMs: number;
  }[];
}

/**
 * A folder with pipelines, a config whose backend `alpha` is the testbed logging every start to
 * `log`, and one whose `alpha` cannot start at all.
 */
function setup() {
  const dir = tempDir();
  const pipelines = path.join(dir, 'pipelines');
  mkdirSync(pipelines);
  writeFileSync(
    path.join(pipelines, 'greet.yaml'),
    [
      'name: greet',
      'inputs:',
      '  who: { type: string }',
      '  times: { type: integer, default: 2 }',
      'steps:',
      '  hello:',
      '    server: alpha',
      '    tool: echo',
      '    args: { greeting: "hello ${{ $.inputs.who }}", n: "${{ $.inputs.times }}" }',
      '  sum:',
      '    server: alpha',
      '    tool: add',
      '    args: { b: 1, a: "${{ $.inputs.times }}" }',
      'output:',
      '  greeting: ${{ $.steps.hello.output.args.greeting }}',
      '  sum: ${{ $.steps.sum.output.sum }}',
      '',
    ].join('\n'),
  );
  writeFileSync(
    path.join(pipelines, 'failing.yaml'),
    [
      'name: failing',
      'steps:',
      '  rpc: { server: alpha, tool: throw, args: { message: broken on purpose, code: -32603 }, on_error: continue }',
      '  tool_error: { server: alpha, tool: fail, args: { message: refused }, on_error: continue }',
      '  after: { server: alpha, tool: echo, needs: [rpc, tool_error] }',
      'output:',
      '  rpc: ${{ $.steps.rpc.error }}',
      '  tool_error: ${{ $.steps.tool_error.error }}',
      '',
    ].join('\n'),
  );
  const log = path.join(dir, 'testbed.log');
  const config = writeConfig(
    ['servers:', testbedServer('alpha', [], `    env: { TESTBED_LOG: ${JSON.stringify(log)} }\n`), ''].join(
      '\n',
    ),
    dir,
  );
  const brokenDir = tempDir();
  mkdirSync(path.join(brokenDir, 'pipelines'));
  const broken = writeConfig(
    [
      `pipelines: ${JSON.stringify(pipelines)}`,
      'servers:',
      '  alpha: { command: /nonexistent/mcp-gateway-test-backend }',
      '',
    ].join('\n'),
    brokenDir,
  );
  return { dir, log, config, broken };
}

const started = (log: string) => readTestbedLog(log).filter((e) => e.event === 'started').length;

describe('mcp-gateway run --record / --replay', () => {
  const { dir, log, config, broken } = setup();
  const recording = path.join(dir, 'greet.recording.json');

  it('--record writes every call with its arguments, result and timing', async () => {
    const result = await runCli(
      ['run', 'greet', '--config', config, '-i', 'who=world', '--record', recording],
      {
        cwd: dir,
      },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ greeting: 'hello world', sum: 3 });
    expect(result.stderr).toContain('recorded 2 calls to greet.recording.json');
    const file = JSON.parse(readFileSync(recording, 'utf8')) as RecordingFile;
    expect(file).toMatchObject({ version: 1, pipeline: 'greet', inputs: { who: 'world', times: 2 } });
    expect(Number.isNaN(Date.parse(file.recordedAt))).toBe(false);
    const byTool = Object.fromEntries(file.calls.map((c) => [c.tool, c]));
    expect(Object.keys(byTool).sort()).toEqual(['add', 'echo']);
    expect(byTool.echo).toMatchObject({
      server: 'alpha',
      arguments: { greeting: 'hello world', n: 2 },
      result: { structuredContent: { server: 'alpha', args: { greeting: 'hello world', n: 2 } } },
    });
    expect(byTool.add).toMatchObject({
      arguments: { a: 2, b: 1 },
      result: { structuredContent: { sum: 3 } },
    });
    for (const call of file.calls) {
      expect(call.startedAt).toBeGreaterThanOrEqual(0);
      expect(call.durationMs).toBeGreaterThanOrEqual(0);
    }
  });

  it('--replay gives the same output and starts no backend', async () => {
    const before = started(log);
    expect(before).toBeGreaterThan(0);
    const result = await runCli(['run', 'greet', '--config', config, '--replay', recording], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ greeting: 'hello world', sum: 3 });
    expect(result.stderr).toContain('replaying greet.recording.json (2 calls');
    expect(started(log)).toBe(before);
    // With a backend that cannot even start, the replay does not notice.
    const offline = await runCli(['run', 'greet', '--config', broken, '--replay', recording], { cwd: dir });
    expect(offline.code, offline.stderr).toBe(0);
    expect(JSON.parse(offline.stdout)).toEqual({ greeting: 'hello world', sum: 3 });
  });

  it('a call the recording does not hold fails with REPLAY_MISSING naming it and the closest one', async () => {
    // Only hello's arguments change: sum's call is still in the recording.
    const result = await runCli(
      ['run', 'greet', '--config', broken, '--replay', recording, '-i', 'who=moon'],
      {
        cwd: dir,
      },
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    const message = `REPLAY_MISSING: alpha.echo {"greeting":"hello moon","n":2} is not in greet.recording.json; closest recorded alpha.echo call: {"greeting":"hello world","n":2} (differs in greeting)`;
    expect(result.stderr).toContain(`✗ hello  failed after`);
    expect(result.stderr).toContain(`pipeline 'greet' failed in`);
    expect(result.stderr).toContain(`: step 'hello' failed: ${message}\n`);
    const noTool = await runCli(['run', 'failing', '--config', broken, '--replay', recording, '--json'], {
      cwd: dir,
    });
    // A call of a tool the recording never saw names the calls it holds.
    expect(noTool.code).toBe(1);
    expect(noTool.stderr).toContain(
      "is a recording of pipeline 'greet', not 'failing'; its inputs are not used",
    );
    expect(JSON.parse(noTool.stdout).steps.rpc.error).toBe(
      'REPLAY_MISSING: alpha.throw {"code":-32603,"message":"broken on purpose"} is not in greet.recording.json; it holds no alpha.throw call (recorded: alpha.echo, alpha.add)',
    );
  });

  it('failed calls replay as the same failures', async () => {
    const failing = path.join(dir, 'failing.recording.json');
    const live = await runCli(['run', 'failing', '--config', config, '--record', failing, '--json'], {
      cwd: dir,
    });
    expect(live.code, live.stderr).toBe(0);
    const file = JSON.parse(readFileSync(failing, 'utf8')) as RecordingFile;
    const byTool = Object.fromEntries(file.calls.map((c) => [c.tool, c]));
    expect(byTool.throw?.error).toEqual({
      code: -32603,
      message: 'MCP error -32603: broken on purpose',
    });
    expect(byTool.fail?.result).toMatchObject({
      isError: true,
      content: [{ type: 'text', text: 'refused' }],
    });

    const replayed = await runCli(['run', 'failing', '--config', broken, '--replay', failing, '--json'], {
      cwd: dir,
    });
    expect(replayed.code, replayed.stderr).toBe(0);
    const a = JSON.parse(live.stdout) as { output: unknown; steps: Record<string, { status: string }> };
    const b = JSON.parse(replayed.stdout) as typeof a;
    expect(b.output).toEqual(a.output);
    expect(b.output).toEqual({
      rpc: 'MCP error -32603: broken on purpose',
      tool_error: 'refused',
    });
    expect(b.steps.rpc?.status).toBe('failed');
    expect(b.steps.tool_error?.status).toBe('failed');
  });

  it('refuses a file that is not a recording, at file:line:col, and bad usage', async () => {
    const bad = path.join(dir, 'bad.recording.json');
    writeFileSync(
      bad,
      [
        '{',
        '  "version": 1,',
        '  "pipeline": "greet",',
        '  "calls": [',
        '    { "server": "alpha", "tool": "echo", "arguments": {}, "reslt": {} }',
        '  ]',
        '}',
        '',
      ].join('\n'),
    );
    const result = await runCli(['run', 'greet', '--config', broken, '--replay', bad, '-i', 'who=x'], {
      cwd: dir,
    });
    expect(result.code).toBe(1);
    expect(result.stderr.trimEnd().split('\n')).toEqual([
      'bad.recording.json:5:59: calls[0]: unknown key "reslt" (did you mean "result"?)',
    ]);
    const missing = await runCli(['run', 'greet', '--config', broken, '--replay', 'nope.json'], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('recording not found: nope.json');
    const both = await runCli(['run', 'greet', '--record', 'a.json', '--replay', recording], { cwd: dir });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--record and --replay do not go together');
    expect(existsSync(path.join(dir, 'a.json'))).toBe(false);
  });
});

describe('mcp-gateway test', () => {
  const { dir, config, broken } = setup();
  const pipelines = path.join(dir, 'pipelines');
  const write = (name: string, lines: string[]) =>
    writeFileSync(path.join(pipelines, name), `${lines.join('\n')}\n`);

  it('runs each *.test.yaml on its recording, one line per test, and exits 1 when one fails', async () => {
    const recorded = await runCli(
      [
        'run',
        'greet',
        '--config',
        config,
        '-i',
        'who=world',
        '--record',
        path.join(pipelines, 'greet.recording.json'),
      ],
      { cwd: dir },
    );
    expect(recorded.code, recorded.stderr).toBe(0);
    write('greet.test.yaml', [
      'pipeline: greet',
      'recording: greet.recording.json',
      'expect:',
      '  - { path: $.output, equals: { sum: 3, greeting: hello world } }',
      '  - { path: $.output.greeting, matches: "^hello w" }',
      '  - { path: $.output.greeting, contains: world }',
      '  - { path: "$.steps[*].status", equals: [succeeded, succeeded] }',
      '  - { path: $.output.nothing, exists: false }',
    ]);
    write('greet-wrong.test.yaml', [
      'pipeline: greet',
      'recording: greet.recording.json',
      'expect:',
      '  - { path: $.output.sum, equals: 4 }',
      '  - { path: $.output.greeting, length: 5 }',
      '  - { path: $.output.greeting, contains: moon }',
    ]);
    write('greet-moon.test.yaml', [
      'pipeline: greet',
      'recording: greet.recording.json',
      'inputs: { who: moon }',
      'expect:',
      '  - { path: $.status, equals: failed }',
      '  - { path: $.failedStep, equals: hello }',
      '  - { path: $.error, contains: "REPLAY_MISSING: alpha.echo" }',
    ]);
    write('greet-moon-ok.test.yaml', [
      'pipeline: greet',
      'recording: greet.recording.json',
      'inputs: { who: moon }',
      'expect:',
      '  - { path: $.output.sum, equals: 3 }',
    ]);
    write('bad.test.yaml', [
      'pipeline: greet',
      'recording: greet.recording.json',
      'expect:',
      '  - { path: $.output.sum, equals: 3 }',
      '  - { path: $.output.sum, equal: 3 }',
    ]);
    write('bad2.test.yaml', [
      'pipeline: greet',
      'recording: greet.recording.json',
      'expect:',
      '  - { path: $.output.sum, equals: 3, length: 1 }',
    ]);

    // A backend that cannot start: the tests do not need it.
    const result = await runCli(['test', '--config', broken, pipelines], { cwd: dir });
    expect(result.code, result.stderr).toBe(1);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toEqual([
      '✗ pipelines/bad.test.yaml',
      '    pipelines/bad.test.yaml:5:27: expect[1]: unknown key "equal" (did you mean "equals"?)',
      '✗ pipelines/bad2.test.yaml',
      '    pipelines/bad2.test.yaml:4:5: expect[0]: give exactly one of equals, contains, matches, length, exists (got equals, length)',
      '✗ pipelines/greet-moon-ok.test.yaml  greet',
      expect.stringMatching(/^ {4}\$\.status equals: expected "succeeded", got "failed"$/),
      '    $.output.sum equals: expected 3, got nothing',
      `    the run failed: step 'hello' failed: REPLAY_MISSING: alpha.echo {"greeting":"hello moon","n":2} is not in pipelines/greet.recording.json; closest recorded alpha.echo call: {"greeting":"hello world","n":2} (differs in greeting)`,
      expect.stringMatching(/^✓ pipelines\/greet-moon\.test\.yaml {2}greet: 3 checks passed in \d+ ms$/),
      '✗ pipelines/greet-wrong.test.yaml  greet',
      '    $.output.sum equals: expected 4, got 3',
      '    $.output.greeting length: expected length 5, got 11: "hello world"',
      '    $.output.greeting contains: expected to contain "moon", got "hello world"',
      expect.stringMatching(/^✓ pipelines\/greet\.test\.yaml {2}greet: 6 checks passed in \d+ ms$/),
      '6 pipeline tests: 2 passed, 4 failed',
    ]);

    const json = await runCli(
      ['test', '--config', broken, '--json', path.join(pipelines, 'greet.test.yaml')],
      {
        cwd: dir,
      },
    );
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as {
      ok: boolean;
      tests: Record<string, unknown>[];
      summary: unknown;
    };
    expect(report.ok).toBe(true);
    expect(report.summary).toEqual({ tests: 1, passed: 1, failed: 0 });
    expect(report.tests[0]).toMatchObject({
      file: 'pipelines/greet.test.yaml',
      pipeline: 'greet',
      status: 'succeeded',
    });
    expect((report.tests[0]?.expectations as unknown[] | undefined)?.[1]).toEqual({
      path: '$.output',
      matcher: 'equals',
      expected: { sum: 3, greeting: 'hello world' },
      actual: { greeting: 'hello world', sum: 3 },
      ok: true,
    });
  });

  it('the tests and recordings beside the pipelines are not pipelines', async () => {
    const result = await runCli(['validate', '--offline', '--config', config, pipelines], { cwd: dir });
    expect(result.stdout).toBe('2 pipeline files: 2 valid, 0 invalid\n');
    expect(result.code).toBe(0);
  });

  it('list_pipelines on a served folder lists the pipelines only', async () => {
    const gw = await startStdioGateway(['serve', '--config', config, '--no-watch']);
    try {
      const result = await gw.client.callTool({ name: 'list_pipelines', arguments: {} });
      const rows = structured<{ pipelines: { name: string; valid: boolean }[] }>(result).pipelines;
      expect(rows.map((r) => [r.name, r.valid])).toEqual([
        ['failing', true],
        ['greet', true],
      ]);
    } finally {
      await gw.close();
    }
  });

  it('no test found is a failure', async () => {
    const empty = tempDir();
    const result = await runCli(['test', empty], { cwd: empty });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^no pipeline tests \(\*\.test\.yaml\) in /);
  });

  it('the shipped pipeline tests pass, with no backend', async () => {
    const result = await runCli(['test', '--config', broken, path.join(ROOT, 'pipelines')], { cwd: ROOT });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(
      /^✓ pipelines\/database-report\.test\.yaml {2}database-report: 8 checks passed in \d+ ms\n1 pipeline test: 1 passed, 0 failed\n$/,
    );
  });
});
