// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax
import { readFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DURATION_PATTERN } from '../../src/config/duration.js';
import {
  formatIssue,
  type KnownTools,
  MAX_PIPELINE_BYTES,
  pipelineSchema,
  validatePipelineText,
} from '../../src/pipeline/index.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/pipelines');

const known: KnownTools = new Map<string, readonly string[] | null>([
  ['sqlite', ['list_tables', 'read_query', 'describe_table']],
  ['weather', ['get_alerts', 'get_forecast']],
  ['s', null],
]);

function problems(file: string, options: { knownTools?: KnownTools } = {}): string[] {
  const path = join(FIXTURES, 'broken', file);
  const result = validatePipelineText(readFileSync(path, 'utf8'), {
    file: path,
    expectedName: basename(file, extname(file)),
    ...options,
  });
  if (result.ok) throw new Error(`${file} validated`);
  for (const issue of result.issues) expect(issue.file).toBe(path);
  return result.issues.map((i) => `${i.line}:${i.column}: ${i.message}`);
}

describe('validatePipelineText: broken files', () => {
  it('bad YAML', () => {
    expect(problems('bad-yaml.yaml.txt')).toEqual([
      '6:22: YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
      '6:23: YAML: Flow map in block collection must be sufficiently indented and end with a }',
    ]);
  });

  it('duplicate key', () => {
    expect(problems('duplicate-key.yaml')).toEqual(['6:5: duplicate key "tool"']);
  });

  it('unknown keys, at the key, with a suggestion or the allowed keys', () => {
    expect(problems('unknown-key.yaml')).toEqual([
      '4:3: steps.fetch: missing required key "tool"',
      '6:5: steps.fetch: unknown key "tol" (did you mean "tool"?)',
      '7:5: steps.fetch: unknown key "retries"; allowed keys: description, server, tool, pipeline, args, needs, when, for_each, concurrency, timeout, retry, on_error, parse',
    ]);
  });

  it('unknown key in a JSON file', () => {
    expect(problems('json-unknown-key.json')).toEqual([
      '4:40: steps.a: unknown key "on_eror" (did you mean "on_error"?)',
    ]);
  });

  it('wrong types and values, at the value', () => {
    expect(problems('wrong-type.yaml')).toEqual([
      '2:14: concurrency: must be an integer',
      '7:12: steps.a.needs: must be a list',
      '8:14: steps.a.timeout: must be a duration like "10s", "500ms", "2m" or a number of milliseconds',
      '9:24: steps.a.retry.attempts: must be an integer',
      '10:15: steps.a.on_error: must be one of "fail", "continue"',
      '11:12: steps.a.parse: must be one of "json", "text"',
    ]);
  });

  it('bad step ids, input names, input types and args', () => {
    expect(problems('bad-ids.yaml')).toEqual([
      '3:3: inputs: invalid input name "max count": must be letters, digits, _ and -, starting with a letter or _',
      '4:18: inputs.limit.type: must be string, number, integer, boolean, object, array or null',
      '6:3: steps: invalid step id "fetch data": must be letters, digits, _ and -, starting with a letter or _',
      '7:35: args must be a mapping or one ${{ }} expression that yields one',
    ]);
  });

  it('defaults that break their own input schema', () => {
    expect(problems('bad-default.yaml')).toEqual([
      '3:36: inputs.limit.default: must be >= 1',
      '4:51: inputs.state.default: must be one of "CA", "NY"',
    ]);
  });

  it('unknown step in needs, at the entry', () => {
    expect(problems('unknown-needs.yaml')).toEqual([
      "9:21: step 'top' needs unknown step 'tabels' (did you mean 'tables'?)",
    ]);
  });

  it('reference to an unknown step, at the expression', () => {
    expect(problems('unknown-step-ref.yaml')).toEqual([
      "9:15: step 'schemas' references unknown step 'table' (did you mean 'tables'?)",
      "12:8: output references unknown step 'schema' (did you mean 'schemas'?)",
    ]);
  });

  it('reference to an unknown input, at the expression, also inside a longer string', () => {
    expect(problems('unknown-input.yaml')).toEqual([
      "9:14: unknown input 'stat' (did you mean 'state'?); inputs: state",
      "10:44: unknown input 'zone'; inputs: state",
    ]);
  });

  it('cycles, named, and a step that needs itself', () => {
    expect(problems('cycle.yaml')).toEqual(['6:17: cycle: a -> c -> b -> a', "18:13: step 'd' needs itself"]);
  });

  it('name different from the file name', () => {
    expect(problems('name-mismatch.yaml')).toEqual([
      "2:7: name 'weather' must equal the file name's stem 'name-mismatch'",
    ]);
  });

  it('script, filter and backtick expressions', () => {
    expect(problems('script-expression.yaml')).toEqual([
      '8:17: script and filter expressions are not allowed',
      '9:17: script and filter expressions are not allowed',
      '10:17: script and filter expressions are not allowed',
    ]);
  });

  it('malformed expressions', () => {
    expect(problems('bad-expressions.yaml')).toEqual([
      '7:13: $.item is only set in the args of a for_each step',
      '8:13: expression must start with $.inputs, $.steps.<id>, $.item or $.index',
      "9:14: unknown step result field 'outptu' (did you mean 'output'?); fields: status, output, text, content, isError, error, attempts, durationMs",
      '10:14: unterminated expression: missing }}',
      '11:14: empty expression',
      '12:13: expression must start with $.inputs, $.steps.<id>, $.item or $.index (did you mean $.inputs?)',
    ]);
  });

  it('unknown servers and tools, when the tools are known', () => {
    expect(problems('unknown-tool.yaml', { knownTools: known })).toEqual([
      "5:11: server 'sqlite' has no tool 'read_querry' (did you mean 'read_query'?); its tools: list_tables, read_query, describe_table",
      "7:13: unknown server 'wether' (did you mean 'weather'?); servers: sqlite, weather, s",
    ]);
    const lookup = (server: string) => (server === 'sqlite' ? null : undefined);
    expect(problems('unknown-tool.yaml', { knownTools: lookup, knownServers: ['sqlite'] } as never)).toEqual([
      "7:13: unknown server 'wether'; servers: sqlite",
    ]);
  });

  it('says which step an issue is in, and formats as file:line:col: message', () => {
    const result = validatePipelineText('name: x\nsteps:\n  a: { server: s, tool: t, needs: [b] }\n', {
      file: 'pipelines/x.yaml',
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues).toEqual([
      {
        file: 'pipelines/x.yaml',
        line: 3,
        column: 36,
        message: "step 'a' needs unknown step 'b'",
        step: 'a',
      },
    ]);
    expect(formatIssue(result.issues[0]!)).toBe("pipelines/x.yaml:3:36: step 'a' needs unknown step 'b'");
  });
});

describe('validatePipelineText: limits and odd documents', () => {
  const issues = (text: string) => {
    const r = validatePipelineText(text);
    return r.ok ? [] : r.issues.map((i) => `${i.line}:${i.column}: ${i.message}`);
  };

  it('refuses a file over the size limit', () => {
    expect(issues(`name: big\n# ${'x'.repeat(MAX_PIPELINE_BYTES)}\n`)).toEqual([
      `1:1: file is too large (${MAX_PIPELINE_BYTES + 13} bytes; at most ${MAX_PIPELINE_BYTES})`,
    ]);
  });

  it('refuses alias bombs', () => {
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]',
    ].join('\n');
    expect(issues(bomb)[0]).toMatch(/^1:1: too many alias expansions \(at most 100\)/);
  });

  it('refuses several documents, an empty file and a non-mapping', () => {
    expect(issues('name: a\n---\nname: b\n')).toEqual(['2:1: a pipeline file holds one YAML document']);
    expect(issues('')).toEqual(['1:1: must be a mapping']);
    expect(issues('- a\n- b\n')).toEqual(['1:1: must be a mapping']);
  });

  it('reports a missing steps section where the document starts', () => {
    expect(issues('# yaml-language-server: $schema=x\nname: x\n')).toEqual([
      '2:1: missing required key "steps"',
    ]);
  });

  it('does not take Object.prototype members for steps', () => {
    expect(
      issues(
        'name: x\nsteps:\n  a: { server: s, tool: t, needs: [toString], args: { x: "${{ $.steps.constructor.output }}" } }\noutput: ${{ $.steps.toString.output }}\n',
      ),
    ).toEqual([
      "3:36: step 'a' needs unknown step 'toString'",
      "3:59: step 'a' references unknown step 'constructor'",
      "4:9: output references unknown step 'toString'",
    ]);
  });

  it('reserves the name custom for inline pipelines', () => {
    const r = validatePipelineText('name: custom\nsteps:\n  a: { server: s, tool: t }\n', {
      expectedName: 'custom',
    });
    expect(r.ok ? [] : r.issues.map((i) => i.message)).toEqual([
      "the name 'custom' is reserved for pipelines sent inline to route_pipeline",
    ]);
  });

  it('refuses zero timeouts', () => {
    expect(issues('name: x\ntimeout: 0\nsteps:\n  a: { server: s, tool: t, timeout: 0s }\n')).toEqual([
      '2:10: timeout: must be more than 0',
      '4:37: steps.a.timeout: must be more than 0',
    ]);
  });

  it('refuses for_each that is not a list or one expression', () => {
    expect(issues('name: x\nsteps:\n  a: { server: s, tool: t, for_each: "a ${{ $.inputs }}" }\n')).toEqual([
      '3:38: for_each must be a list or one ${{ }} expression that yields one',
    ]);
  });
});

describe('validatePipelineText: good files', () => {
  it('compiles the database report with defaults filled in', () => {
    const text = readFileSync(join(FIXTURES, 'good/database-report.yaml'), 'utf8');
    const result = validatePipelineText(text, { expectedName: 'database-report', knownTools: known });
    if (!result.ok) throw new Error(result.issues.map(formatIssue).join('\n'));
    expect(result.warnings).toEqual([]);
    const p = result.pipeline;
    expect(p).toMatchObject({
      name: 'database-report',
      concurrency: 8,
      layers: [['tables'], ['schemas', 'top']],
    });
    expect(p.timeoutMs).toBeUndefined();
    expect(p.inputsSchema).toEqual({
      type: 'object',
      properties: { limit: { type: 'integer', default: 10, minimum: 1, description: 'How many customers' } },
      required: [],
      additionalProperties: false,
    });
    expect(p.steps.get('top')).toMatchObject({
      needs: ['tables'],
      refs: [],
      dependsOn: ['tables'],
      dependents: [],
      timeoutMs: 5000,
      retry: { attempts: 3, backoffMs: 200, factor: 2, maxBackoffMs: 30_000 },
      onError: 'continue',
      line: 16,
      column: 3,
    });
    expect(p.steps.get('schemas')).toMatchObject({ refs: ['tables'], concurrency: 4, onError: 'fail' });
    expect(p.steps.get('tables')).toMatchObject({
      dependents: ['schemas', 'top'],
      retry: { attempts: 1 },
    });
  });

  it('reads JSON pipelines', () => {
    const r = validatePipelineText(readFileSync(join(FIXTURES, 'good/minimal.json'), 'utf8'), {
      expectedName: 'minimal',
    });
    expect(r.ok).toBe(true);
  });

  it('marks inputs without a default as required unless they say otherwise', () => {
    const r = validatePipelineText(`name: x
inputs:
  a: { type: string }
  b: { type: string, default: x }
  c: { type: string, required: false }
  d: { type: string, default: y, required: true }
steps:
  s: { server: s, tool: t, args: "\${{ $.inputs }}" }
`);
    if (!r.ok) throw new Error(r.issues[0]!.message);
    expect(r.pipeline.inputsSchema.required).toEqual(['a', 'd']);
    expect(r.pipeline.inputs.c).toEqual({ type: 'string' });
  });

  it('warns about concurrency without for_each and about unused inputs', () => {
    const r = validatePipelineText(
      'name: x\ninputs:\n  unused: { type: string }\nsteps:\n  a: { server: s, tool: t, concurrency: 2 }\n',
    );
    if (!r.ok) throw new Error(r.issues[0]!.message);
    expect(r.warnings.map((w) => `${w.line}:${w.column}: ${w.message}`)).toEqual([
      "3:3: input 'unused' is not used",
      '5:28: concurrency only applies to a for_each step',
    ]);
  });
});

describe('schemas/pipeline.schema.json', () => {
  it('uses the same duration language as parseDuration', () => {
    expect(pipelineSchema().definitions.duration.pattern).toBe(DURATION_PATTERN);
  });
});
