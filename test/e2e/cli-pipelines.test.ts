// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli, tempDir, testbedServer, writeConfig } from '../helpers/gateway.js';

const BROKEN = 'test/fixtures/pipelines/broken';

/** The exact report for test/fixtures/pipelines/broken, with servers s, sqlite and weather configured. */
const BROKEN_REPORT = [
  `${BROKEN}/bad-default.yaml:3:36: inputs.limit.default: must be >= 1`,
  `${BROKEN}/bad-default.yaml:4:51: inputs.state.default: must be one of "CA", "NY"`,
  `${BROKEN}/bad-default.yaml:5:3: warning: input 'unused' is not used`,
  `${BROKEN}/bad-expressions.yaml:7:13: $.item is only set in the args of a for_each step`,
  `${BROKEN}/bad-expressions.yaml:8:13: expression must start with $.inputs, $.steps.<id>, $.item or $.index`,
  `${BROKEN}/bad-expressions.yaml:9:14: unknown step result field 'outptu' (did you mean 'output'?); fields: status, output, text, content, isError, error, attempts, durationMs`,
  `${BROKEN}/bad-expressions.yaml:10:14: unterminated expression: missing }}`,
  `${BROKEN}/bad-expressions.yaml:11:14: empty expression`,
  `${BROKEN}/bad-expressions.yaml:12:13: expression must start with $.inputs, $.steps.<id>, $.item or $.index (did you mean $.inputs?)`,
  `${BROKEN}/bad-ids.yaml:3:3: inputs: invalid input name "max count": must be letters, digits, _ and -, starting with a letter or _`,
  `${BROKEN}/bad-ids.yaml:3:3: warning: input 'max count' is not used`,
  `${BROKEN}/bad-ids.yaml:4:3: warning: input 'limit' is not used`,
  `${BROKEN}/bad-ids.yaml:4:18: inputs.limit.type: must be string, number, integer, boolean, object, array or null`,
  `${BROKEN}/bad-ids.yaml:6:3: steps: invalid step id "fetch data": must be letters, digits, _ and -, starting with a letter or _`,
  `${BROKEN}/bad-ids.yaml:7:35: args must be a mapping or one \${{ }} expression that yields one`,
  `${BROKEN}/cycle.yaml:6:17: cycle: a -> c -> b -> a`,
  `${BROKEN}/cycle.yaml:18:13: step 'd' needs itself`,
  `${BROKEN}/duplicate-key.yaml:6:5: duplicate key "tool"`,
  `${BROKEN}/json-unknown-key.json:4:40: steps.a: unknown key "on_eror" (did you mean "on_error"?)`,
  `${BROKEN}/name-mismatch.yaml:2:7: name 'weather' must equal the file name's stem 'name-mismatch'`,
  `${BROKEN}/script-expression.yaml:8:17: script and filter expressions are not allowed`,
  `${BROKEN}/script-expression.yaml:9:17: script and filter expressions are not allowed`,
  `${BROKEN}/script-expression.yaml:10:17: script and filter expressions are not allowed`,
  `${BROKEN}/unknown-input.yaml:9:14: unknown input 'stat' (did you mean 'state'?); inputs: state`,
  `${BROKEN}/unknown-input.yaml:10:44: unknown input 'zone'; inputs: state`,
  `${BROKEN}/unknown-key.yaml:4:3: steps.fetch: missing required key "tool"`,
  `${BROKEN}/unknown-key.yaml:6:5: steps.fetch: unknown key "tol" (did you mean "tool"?)`,
  `${BROKEN}/unknown-key.yaml:7:5: steps.fetch: unknown key "retries"; allowed keys: description, server, tool, pipeline, args, needs, when, for_each, concurrency, timeout, retry, on_error, parse`,
  `${BROKEN}/unknown-needs.yaml:9:21: step 'top' needs unknown step 'tabels' (did you mean 'tables'?)`,
  `${BROKEN}/unknown-step-ref.yaml:9:15: step 'schemas' references unknown step 'table' (did you mean 'tables'?)`,
  `${BROKEN}/unknown-step-ref.yaml:12:8: output references unknown step 'schema' (did you mean 'schemas'?)`,
  `${BROKEN}/unknown-tool.yaml:7:13: unknown server 'wether' (did you mean 'weather'?); servers: s, sqlite, weather`,
  `${BROKEN}/wrong-type.yaml:2:14: concurrency: must be an integer`,
  `${BROKEN}/wrong-type.yaml:7:12: steps.a.needs: must be a list`,
  `${BROKEN}/wrong-type.yaml:8:14: steps.a.timeout: must be a duration like "10s", "500ms", "2m" or a number of milliseconds`,
  `${BROKEN}/wrong-type.yaml:9:24: steps.a.retry.attempts: must be an integer`,
  `${BROKEN}/wrong-type.yaml:10:15: steps.a.on_error: must be one of "fail", "continue"`,
  `${BROKEN}/wrong-type.yaml:11:12: steps.a.parse: must be one of "json", "text"`,
  '14 pipeline files: 0 valid, 14 invalid (35 problems), 3 warnings',
];

/** A config naming the servers the broken fixtures use, never started (validate --offline). */
function offlineConfig(): string {
  return writeConfig(
    [
      'servers:',
      '  s: { command: node }',
      '  sqlite: { command: node }',
      '  weather: { command: node }',
      '',
    ].join('\n'),
  );
}

describe('mcp-gateway validate', () => {
  it('reports every problem in a folder of broken pipelines as file:line:col, and exits 1', async () => {
    const result = await runCli(['validate', BROKEN, '--offline', '--config', offlineConfig()], {
      cwd: ROOT,
    });
    expect(result.code).toBe(1);
    expect(result.stdout.trimEnd().split('\n')).toEqual(BROKEN_REPORT);
  });

  it('passes the shipped pipelines against the default gateway.yaml, and exits 0', async () => {
    const result = await runCli(['validate', '--offline'], { cwd: ROOT });
    expect(result.stdout).toBe('3 pipeline files: 3 valid, 0 invalid\n');
    expect(result.code).toBe(0);
    const files = await runCli(
      [
        'validate',
        '--offline',
        'pipelines/database-report.yaml',
        'test/fixtures/pipelines/good/database-report.yaml',
      ],
      { cwd: ROOT },
    );
    expect(files.stdout).toBe('2 pipeline files: 2 valid, 0 invalid\n');
    expect(files.code).toBe(0);
  });

  it('--format json gives one document with every file, problem and a summary', async () => {
    const result = await runCli(
      ['validate', BROKEN, '--offline', '--config', offlineConfig(), '--format', 'json'],
      {
        cwd: ROOT,
      },
    );
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as {
      valid: boolean;
      files: { file: string; name: string; valid: boolean; issues: Record<string, unknown>[] }[];
      summary: Record<string, number>;
    };
    expect(report.valid).toBe(false);
    expect(report.summary).toEqual({ files: 14, valid: 0, invalid: 14, problems: 35, warnings: 3 });
    const cycle = report.files.find((f) => f.name === 'cycle')!;
    expect(cycle).toMatchObject({ file: `${BROKEN}/cycle.yaml`, valid: false });
    expect(cycle.issues[0]).toEqual({
      file: `${BROKEN}/cycle.yaml`,
      line: 6,
      column: 17,
      message: 'cycle: a -> c -> b -> a',
      step: 'a',
    });
  });

  it('without --offline starts the backends and checks their tools', async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'pipelines'));
    writeFileSync(
      path.join(dir, 'pipelines', 'typo.yaml'),
      ['name: typo', 'steps:', '  a: { server: alpha, tool: ecko }', ''].join('\n'),
    );
    const config = writeConfig(['servers:', testbedServer('alpha'), ''].join('\n'), dir);
    const online = await runCli(['validate', '--config', config], { cwd: dir });
    expect(online.code).toBe(1);
    expect(online.stdout.split('\n')[0]).toMatch(
      /^pipelines\/typo\.yaml:3:29: server 'alpha' has no tool 'ecko' \(did you mean 'echo'\?\); its tools: echo, add, /,
    );
    const offline = await runCli(['validate', '--config', config, '--offline'], { cwd: dir });
    expect(offline.stdout).toBe('1 pipeline file: 1 valid, 0 invalid\n');
    expect(offline.code).toBe(0);
  });

  it('exits 2 on bad usage', async () => {
    expect((await runCli(['validate', '--format', 'xml'], { cwd: ROOT })).code).toBe(2);
    const missing = await runCli(['validate', 'no/such/folder'], { cwd: ROOT });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no such file or folder: no/such/folder');
  });
});

describe('mcp-gateway run and graph', () => {
  const dir = tempDir();
  const pipelines = path.join(dir, 'pipelines');
  mkdirSync(pipelines);
  writeFileSync(
    path.join(pipelines, 'greet.yaml'),
    [
      'name: greet',
      'inputs:',
      '  who: { type: string }',
      '  times: { type: integer, default: 1 }',
      '  tags: { type: array, items: { type: string }, default: [] }',
      'steps:',
      '  hello:',
      '    server: alpha',
      '    tool: echo',
      '    args: { greeting: "hello ${{ $.inputs.who }}", times: "${{ $.inputs.times }}", tags: "${{ $.inputs.tags }}" }',
      '  sum:',
      '    server: alpha',
      '    tool: add',
      '    args: { a: "${{ $.inputs.times }}", b: 1 }',
      'output:',
      '  greeting: ${{ $.steps.hello.output.args.greeting }}',
      '  times: ${{ $.steps.hello.output.args.times }}',
      '  tags: ${{ $.steps.hello.output.args.tags }}',
      '  sum: ${{ $.steps.sum.output.sum }}',
      '',
    ].join('\n'),
  );
  writeFileSync(
    path.join(dir, 'fails.yaml'),
    [
      'name: fails',
      'steps:',
      '  first: { server: alpha, tool: fail, args: { message: nope } }',
      '  second: { server: alpha, tool: echo, needs: [first] }',
      '',
    ].join('\n'),
  );
  const config = writeConfig(['servers:', testbedServer('alpha'), ''].join('\n'), dir);

  it('runs a pipeline by name with --input, each step live on stderr and the output on stdout', async () => {
    const result = await runCli(
      ['run', 'greet', '--config', config, '--input', 'who=world', '-i', 'times=3', '-i', 'tags=a,b'],
      { cwd: dir },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      greeting: 'hello world',
      times: 3,
      tags: ['a', 'b'],
      sum: 4,
    });
    expect(result.stderr).toMatch(/^→ hello {2}started alpha\.echo$/m);
    expect(result.stderr).toMatch(/^✓ hello {2}done in (?:\d+ ms|\d+\.\d+ s)$/m);
    expect(result.stderr).toMatch(/^✓ sum {4}done in (?:\d+ ms|\d+\.\d+ s)$/m);
    expect(result.stderr).toMatch(/^pipeline 'greet' succeeded in (?:\d+ ms|\d+\.\d+ s)$/m);
  });

  it('--json prints the whole run result; --inputs-json gives the inputs as one object', async () => {
    const result = await runCli(
      [
        'run',
        'pipelines/greet.yaml',
        '--config',
        config,
        '--inputs-json',
        '{"who": "json", "times": 2}',
        '--json',
      ],
      { cwd: dir },
    );
    expect(result.code, result.stderr).toBe(0);
    const run = JSON.parse(result.stdout) as {
      status: string;
      output: { sum: number };
      steps: Record<string, unknown>;
    };
    expect(run.status).toBe('succeeded');
    expect(run.output.sum).toBe(3);
    expect(run.steps.hello).toMatchObject({ status: 'succeeded', attempts: 1 });
  });

  it('exits 1 on a failed run, showing the failure and the skipped step', async () => {
    const result = await runCli(['run', 'fails.yaml', '--config', config], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^✗ first {3}failed after (?:\d+ ms|\d+\.\d+ s): nope$/m);
    expect(result.stderr).toMatch(/^- second {2}skipped: step 'first' failed$/m);
    expect(result.stderr).toContain("pipeline 'fails' failed in");
  });

  it('exits 2 on bad inputs or an unknown pipeline, naming what is wrong', async () => {
    const missing = await runCli(['run', 'greet', '--config', config], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("missing required input 'who'");
    const unknown = await runCli(['run', 'gret', '--config', config], { cwd: dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown pipeline 'gret' in pipelines; pipelines: greet");
  });

  it('runs a shipped pipeline against the default gateway.yaml', async () => {
    const data = tempDir('mcp-gateway-data-');
    const result = await runCli(['run', 'database-report', '--input', 'limit=2'], {
      cwd: ROOT,
      env: { MCP_GATEWAY_DATA: data },
    });
    expect(result.code, result.stderr).toBe(0);
    const output = JSON.parse(result.stdout) as { tables: string[]; top_customers: unknown[] };
    expect(output.tables).toEqual(['customers', 'orders', 'products']);
    expect(output.top_customers).toHaveLength(2);
    expect(result.stderr).toMatch(/^→ schemas {8}started sqlite\.describe_table × 3 items$/m);
  });

  it('graph prints the step graph as a Mermaid flowchart', async () => {
    const result = await runCli(['graph', 'pipelines/database-report.yaml'], { cwd: ROOT });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      [
        'flowchart TD',
        '  s0["tables<br/>sqlite.list_tables"]',
        '  s1[["schemas<br/>sqlite.describe_table<br/><i>for each</i>"]]',
        '  s2["top_customers<br/>sqlite.read_query"]',
        '  s0 --> s1',
        '  s0 -.-> s2',
        '  output(["output"])',
        '  s0 --> output',
        '  s1 --> output',
        '  s2 --> output',
        '',
      ].join('\n'),
    );
    const byName = await runCli(['graph', 'greet', '--config', config], { cwd: dir });
    expect(byName.stdout).toContain('s0["hello<br/>alpha.echo"]');
    const broken = await runCli(['graph', `${BROKEN}/cycle.yaml`], { cwd: ROOT });
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain(`${BROKEN}/cycle.yaml:6:17: cycle: a -> c -> b -> a`);
  });
});
