// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax
/**
 * Computed (CEL) expressions: compile, the references that become graph edges, errors at
 * line:column, each power and gateway function, the bounds, and the plain-data-only guarantee.
 */
import { describe, expect, it } from 'vitest';
import { CelCompileError, CelEvalError, compileCel } from '../../src/pipeline/cel.js';
import { CEL_BUDGET, CEL_LIMITS } from '../../src/pipeline/cel-env.js';
import { type ExpressionContext, evaluateCondition, render } from '../../src/pipeline/expr.js';
import { runPipeline, validatePipelineText } from '../../src/pipeline/index.js';
import { compileTemplate, expressionRefs } from '../../src/pipeline/template.js';
import { FakeInvoker, json } from './pipeline-fake-invoker.js';

const ctx: ExpressionContext = {
  inputs: { limit: 5, city: 'Lyon', nothing: null, tags: ['a', 'b'] },
  steps: {
    rows: {
      status: 'succeeded',
      output: {
        rows: [
          { name: 'ann', total: 3 },
          { name: 'bob', total: 4.5 },
        ],
        count: 2,
      },
      text: 'hello',
    },
    skipped: { status: 'skipped', attempts: 0, durationMs: 0 },
  },
};

/** Render one whole-string template. */
function value(text: string, context: ExpressionContext = ctx): unknown {
  const t = compileTemplate(text);
  expect(t.problems).toEqual([]);
  return render(t.template, context);
}

function compileProblem(text: string): string {
  const t = compileTemplate(text);
  expect(t.problems.length, `no problem for ${text}`).toBeGreaterThan(0);
  return t.problems[0]!.message;
}

describe('the form', () => {
  it('keeps a $ content a JSONPath and makes anything else CEL', () => {
    expect(compileTemplate('${{ $.inputs.limit }}').expressions[0]!.expr.kind).toBe('path');
    expect(compileTemplate('${{ inputs.limit }}').expressions[0]!.expr.kind).toBe('cel');
    expect(value('${{ $.inputs.limit }}')).toBe(5);
    expect(value('${{ inputs.limit }}')).toBe(5);
  });

  it('keeps the JSON type of a whole-string expression and interpolates text', () => {
    expect(value('${{ inputs.limit * 2 }}')).toBe(10);
    expect(value('${{ inputs.limit > 3 }}')).toBe(true);
    expect(value('${{ [inputs.limit, "x"] }}')).toEqual([5, 'x']);
    expect(value('n=${{ inputs.limit + 1 }}; ok=${{ inputs.limit > 9 }}')).toBe('n=6; ok=false');
  });

  it('closes on the }} outside quotes and braces', () => {
    expect(value('${{ {"a": {"b": 1}} }}')).toEqual({ a: { b: 1 } });
    expect(value('${{ "}}" + inputs.city }}!')).toBe('}}Lyon!');
  });

  it('explains a JSONPath written inside CEL', () => {
    expect(compileProblem('${{ size($.steps.rows.output) }}')).toMatch(/without \$: write steps/);
  });
});

describe('powers', () => {
  it.each([
    ['comparison', '${{ steps.rows.output.count >= 2 && inputs.city != "Paris" }}', true],
    ['boolean logic', '${{ !(inputs.limit < 3) || false }}', true],
    ['arithmetic mixing JSON numbers and int literals', '${{ inputs.limit * 2 + 0.5 }}', 10.5],
    ['int arithmetic stays exact', '${{ 7 / 2 }}', 3],
    ['double division', '${{ inputs.limit / 2 }}', 2.5],
    ['modulo on JSON numbers', '${{ inputs.limit % 2 }}', 1],
    ['string formatting', '${{ inputs.city + ": " + string(inputs.limit) }}', 'Lyon: 5'],
    ['length', '${{ size(steps.rows.output.rows) }}', 2],
    ['membership in a list', '${{ "b" in inputs.tags }}', true],
    ['membership in a map', '${{ "city" in inputs }}', true],
    ['ternary', '${{ inputs.limit > 9 ? "many" : "few" }}', 'few'],
    ['has()', '${{ has(inputs.nope) ? inputs.nope : "Paris" }}', 'Paris'],
    ['optional chaining', '${{ inputs.?nope.orValue("Paris") }}', 'Paris'],
    ['exists', '${{ steps.rows.output.rows.exists(r, r.total > 4) }}', true],
    ['all', '${{ steps.rows.output.rows.all(r, r.total > 4) }}', false],
    ['filter + map', '${{ steps.rows.output.rows.filter(r, r.total > 4).map(r, r.name) }}', ['bob']],
    [
      'mapping a list to text',
      '${{ steps.rows.output.rows.map(r, "- " + r.name + ": " + string(r.total)).join("\\n") }}',
      '- ann: 3\n- bob: 4.5',
    ],
    ['a step status', '${{ steps.skipped.status == "skipped" }}', true],
  ])('%s', (_name, text, expected) => {
    expect(value(text)).toEqual(expected);
  });
});

describe('gateway functions', () => {
  it('default(x, fallback): the value, or the fallback for a missing key, index or null', () => {
    expect(value('${{ default(inputs.city, "Paris") }}')).toBe('Lyon');
    expect(value('${{ default(inputs.nope, "Paris") }}')).toBe('Paris');
    expect(value('${{ default(inputs.nothing, "Paris") }}')).toBe('Paris');
    expect(value('${{ default(inputs.tags[5], "none") }}')).toBe('none');
    expect(value('${{ default(steps.skipped.output.rows, []) }}')).toEqual([]);
    // Other errors are not swallowed.
    expect(() => value('${{ default(1 / 0, 2) }}')).toThrow(/division by zero/);
  });

  it('fixed(x, digits) formats a number', () => {
    expect(value('${{ fixed(steps.rows.output.rows[1].total, 2) }}')).toBe('4.50');
    expect(value('${{ fixed(size(inputs.tags), 1) }}')).toBe('2.0');
    expect(() => value('${{ fixed(1.5, 99) }}')).toThrow(/digits must be 0 to 20/);
  });

  it('lower(), upper(), trim() and join()', () => {
    expect(value('${{ inputs.city.upper() + inputs.city.lower() }}')).toBe('LYONlyon');
    expect(value('${{ "  x ".trim() }}')).toBe('x');
    expect(value('${{ inputs.tags.join(", ") }}')).toBe('a, b');
    expect(value('${{ inputs.tags.join() }}')).toBe('ab');
    expect(compileProblem('${{ [1, 2].join(",") }}')).toMatch(/no matching overload/);
    expect(() => value('${{ steps.rows.output.rows.map(r, r.total).join(",") }}')).toThrow(
      /only strings; convert items with string/,
    );
  });
});

describe('references', () => {
  it('lists each steps.<id> and inputs.<name> read, at its place in the string', () => {
    const t = compileTemplate(
      'x ${{ size(steps.a.output) + inputs.n + steps.b.output.c.map(v, v).size() }}',
      ['args', 'q'],
    );
    const refs = t.expressions.flatMap(expressionRefs);
    expect(refs.map((r) => [r.root, r.step ?? r.input, r.raw])).toEqual([
      ['steps', 'a', 'steps.a'],
      ['inputs', 'n', 'inputs.n'],
      ['steps', 'b', 'steps.b'],
    ]);
    expect(refs[0]!.offset).toBe('x ${{ size('.length);
  });

  it('ignores comprehension variables and refuses one named like a root', () => {
    expect(compileCel('steps.a.output.map(x, x.y)').refs.map((r) => r.step)).toEqual(['a']);
    expect(() => compileCel('steps.a.output.map(inputs, 1)')).toThrow(/names an expression variable/);
  });

  it('refuses steps without an id and unknown result fields', () => {
    expect(() => compileCel('size(steps) > 0')).toThrow(/steps must be followed by .<id>/);
    expect(() => compileCel('steps["a"].output')).toThrow(/steps must be followed by .<id>/);
    expect(() => compileCel('steps.a.outptu')).toThrow(
      /unknown step result field 'outptu' \(did you mean 'output'\?\)/,
    );
  });
});

describe('validation', () => {
  const file = (when: string, extra = '') => `name: p
inputs:
  limit: {type: integer, default: 3}
steps:
  a:
    server: s
    tool: t
  alerts:
    server: s
    tool: t
    when: ${when}${extra}
`;
  const issues = (text: string) => {
    const r = validatePipelineText(text, { file: 'p.yaml' });
    return r.ok ? [] : r.issues.map((i) => `${i.line}:${i.column} ${i.message}`);
  };

  it('makes a CEL reference a dependency edge, like $.steps', () => {
    const r = validatePipelineText(file("'${{ size(steps.a.output) > inputs.limit }}'"));
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.pipeline.steps.get('alerts')!.dependsOn).toEqual(['a']);
  });

  it('reports unknown steps and inputs with "did you mean", at the reference', () => {
    expect(issues(file("'${{ size(steps.alert.output) > inputs.limt }}'"))).toEqual([
      "11:21 step 'alerts' references unknown step 'alert' (did you mean 'alerts'?)",
      "11:43 unknown input 'limt' (did you mean 'limit'?); inputs: limit",
    ]);
  });

  it('reports syntax and type errors at the character', () => {
    // At the end of `inputs.limit +`, where an operand is missing.
    expect(issues(file("'${{ inputs.limit + }}'"))).toEqual(['11:30 CEL: Unexpected token: EOF']);
    expect(issues(file('${{ "a" - 1 }}'))).toEqual(['11:15 CEL: no such overload: string - int']);
  });

  it('finds the line and column inside a block scalar', () => {
    const text = file(
      `>-
      \${{ steps.a.status == "succeeded"
        && stepz.x }}`,
    );
    expect(issues(text)).toEqual(['13:12 CEL: Unknown variable: stepz']);
  });

  it('refuses a when whose type is not bool at load, and a cycle through CEL', () => {
    expect(issues(file("'${{ size(steps.a.output) + 1 }}'"))).toEqual([
      '11:12 when must be a condition (true or false); this expression yields int',
    ]);
    const cyc = `name: p
steps:
  a: {server: s, tool: t, when: '\${{ steps.b.status == "x" }}'}
  b: {server: s, tool: t, when: '\${{ steps.a.status == "x" }}'}
`;
    expect(issues(cyc).join('\n')).toMatch(/cycle: a -> b -> a/);
  });

  it('refuses matches() (backtracking regex) and over-long or over-deep expressions', () => {
    expect(compileProblem('${{ inputs.city.matches("(a+)+$") }}')).toMatch(/matches\(\) is not available/);
    const long = `\${{ ${'1 + '.repeat(CEL_LIMITS.maxSourceLength / 4)}1 }}`;
    expect(compileProblem(long)).toMatch(/expression is too long/);
    const deep = `\${{ ${'['.repeat(60)}1${']'.repeat(60)} }}`;
    expect(compileProblem(deep)).toMatch(/CEL: .*(depth|nesting)/i);
  });
});

describe('when', () => {
  const cond = (text: string, context = ctx) => evaluateCondition(compileTemplate(text).template, context);

  it('runs on true and skips on false; a non-bool CEL result is an error', () => {
    expect(cond('${{ steps.rows.output.count > 1 }}')).toBe(true);
    expect(cond('${{ steps.rows.output.count > 5 }}')).toBe(false);
    expect(() => cond('${{ default(inputs.nope, "yes") }}')).toThrow(
      /must yield true or false; it yielded a string/,
    );
    // JSONPath and text keep the truthiness rule.
    expect(cond('${{ $.inputs.city }}')).toBe(true);
    expect(cond('${{ $.inputs.nothing }}')).toBe(false);
  });

  it('a missing key fails the step, naming the step and the expression, with no retry', async () => {
    const r = validatePipelineText(`name: p
steps:
  a: {server: s, tool: t}
  b:
    server: s
    tool: t
    retry: {attempts: 3}
    when: \${{ steps.a.output.count > 0 }}
`);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const fake = new FakeInvoker({ '*': () => json({ other: 1 }) });
    const run = await runPipeline(r.pipeline, {}, { invoker: fake });
    expect(run.status).toBe('failed');
    expect(run.error).toBe(
      "step 'b' failed: when: ${{ steps.a.output.count > 0 }}: No such key: count (use has(x.key) or default(x.key, fallback) when it may be absent)",
    );
    expect(fake.calls.length).toBe(1);
  });
});

describe('bounds', () => {
  const big = Array.from({ length: 2_000 }, (_, i) => ({ n: i, s: 'x'.repeat(10) }));
  const bigCtx: ExpressionContext = {
    inputs: {},
    steps: { a: { output: big, text: 'y'.repeat(1_000_000) } },
  };

  it('stops an evaluation that does too much work', () => {
    // 2,000 × 2,000 iterations: quadratic in the data, far over the node budget.
    expect(() =>
      value('${{ steps.a.output.map(x, steps.a.output.map(y, x.n + y.n)).size() }}', bigCtx),
    ).toThrow(new RegExp(`more than ${CEL_BUDGET.maxNodes} steps of work`));
    // The budget also ends exists/all, which otherwise absorb per-item errors.
    expect(() =>
      value('${{ steps.a.output.exists(x, steps.a.output.exists(y, x.n + y.n < 0)) }}', bigCtx),
    ).toThrow(/steps of work/);
  });

  it('refuses a produced string or list over the limit, and checks join() before building', () => {
    const many = 'y'.repeat(1_000_000);
    expect(() =>
      value('${{ steps.a.text + steps.a.text + steps.a.text + steps.a.text + steps.a.text }}', bigCtx),
    ).toThrow(/over the limit of/);
    expect(() => value('${{ steps.a.output.map(x, steps.a.text).join("") }}', bigCtx)).toThrow(
      /join\(\) would make a string of 2000000000 characters/,
    );
    expect(many.length).toBeLessThan(CEL_BUDGET.maxStringLength);
    // Passing big data through is not producing it.
    const huge: ExpressionContext = {
      inputs: {},
      steps: { a: { text: 'z'.repeat(CEL_BUDGET.maxStringLength + 1) } },
    };
    expect(value('${{ steps.a.text }}', huge)).toHaveLength(CEL_BUDGET.maxStringLength + 1);
    expect(value('${{ has(steps.a.text) ? steps.a.text : "" }}', huge)).toHaveLength(
      CEL_BUDGET.maxStringLength + 1,
    );
    expect(() => value('${{ steps.a.text + "" }}', huge)).toThrow(/over the limit of/);
    expect(() => value('${{ [steps.a.text].join("") }}', huge)).toThrow(/join\(\) would make a string/);
  });

  it('is plain data only: no prototypes, constructors or globals', () => {
    const hostile: ExpressionContext = {
      inputs: JSON.parse('{"__proto__": {"polluted": 1}, "o": {}}') as Record<string, unknown>,
      steps: {},
    };
    expect(value('${{ inputs.__proto__.polluted }}', hostile)).toBe(1); // an own key of the data
    for (const text of [
      '${{ inputs.o.constructor }}',
      '${{ inputs.o.__proto__ }}',
      '${{ inputs.o.toString }}',
      '${{ inputs.o["constructor"] }}',
    ]) {
      expect(() => value(text, hostile), text).toThrow(CelEvalError);
    }
    expect(compileProblem('${{ "".constructor }}')).toMatch(/Cannot index type 'string'/);
    for (const text of ['${{ process }}', '${{ globalThis }}', '${{ this }}', '${{ require("fs") }}']) {
      expect(compileTemplate(text).problems.length, text).toBe(1);
    }
    const made = value('${{ {"__proto__": {"polluted": 1}, "a": 1} }}', hostile) as Record<string, unknown>;
    expect(Object.getPrototypeOf(made)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('gives JSON back: ints as numbers, timestamps as text, bytes refused', () => {
    expect(value('${{ {"n": 1, "l": [1, 2u, 3.5]} }}')).toEqual({ n: 1, l: [1, 2, 3.5] });
    expect(value('${{ timestamp("2024-01-02T03:04:05Z") }}')).toBe('2024-01-02T03:04:05.000Z');
    expect(() => value('${{ b"x" }}')).toThrow(/bytes are not a JSON value/);
    expect(value('${{ inputs.?nope }}')).toBeUndefined();
  });

  it('compile errors carry the offset into the expression', () => {
    try {
      compileCel('  1 + ');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(CelCompileError);
      expect((err as CelCompileError).at).toBe(5); // just after `1 +`
    }
  });
});
