// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax
/**
 * Hostile computed (CEL) expressions: compiling never throws (a problem is reported instead),
 * evaluating either gives plain JSON or a CelEvalError naming the expression, always within the
 * budget's time, and nothing reaches prototypes, the process or the globals.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CelEvalError } from '../../src/pipeline/cel.js';
import { CEL_BUDGET } from '../../src/pipeline/cel-env.js';
import { type ExpressionContext, render } from '../../src/pipeline/expr.js';
import { validatePipelineText } from '../../src/pipeline/index.js';
import { compileTemplate } from '../../src/pipeline/template.js';
import { expectNoPollution, hostileJsonArb, runs, timed } from './fuzz-helpers.js';

/** A single evaluation: the budget's clock plus generous slack for a loaded machine. */
const MAX_EVAL_MS = CEL_BUDGET.maxMs + 4_000;
const MAX_COMPILE_MS = 1_000;

const bigList = Array.from({ length: 3_000 }, (_, i) => ({ n: i, s: `row ${i}`, tags: ['a', 'b'] }));
const hostileCtx = (data: unknown): ExpressionContext => ({
  inputs: JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": 1}, "n": 3}') as Record<
    string,
    unknown
  >,
  steps: {
    a: { status: 'succeeded', output: data, text: 'x'.repeat(100_000) },
    big: { status: 'succeeded', output: bigList, text: 'y'.repeat(1_000_000) },
  },
  item: data,
  index: 1,
});

/** Expression fragments, most of them hostile; combined by a small grammar below. */
const atomArb = fc.oneof(
  fc.constantFrom(
    'inputs',
    'inputs.n',
    'inputs.__proto__',
    'inputs.constructor',
    'inputs.constructor.prototype',
    'steps.a',
    'steps.a.output',
    'steps.a.text',
    'steps.big.output',
    'steps.big.text',
    'item',
    'index',
    'process',
    'globalThis',
    'this',
    'require',
    'Function',
    'cel',
    'null',
    'true',
    '[]',
    '{}',
    '""',
    '"}}"',
    '"${{"',
    '"\\u0000"',
    '1e308',
    '-9223372036854775808',
    '18446744073709551615u',
    '0.0',
    'b"\\xff"',
  ),
  fc.integer().map(String),
  fc.string({ maxLength: 12 }).map((s) => JSON.stringify(s)),
);

const exprArb: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
  e: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    atomArb,
    fc
      .tuple(
        tie('e'),
        fc.constantFrom('.', '.?'),
        fc.constantFrom('x', '__proto__', 'constructor', 'output', 'n', 'toString', 'length'),
      )
      .map(([a, op, f]) => `${a}${op}${f}`),
    fc.tuple(tie('e'), tie('e')).map(([a, b]) => `${a}[${b}]`),
    fc
      .tuple(tie('e'), fc.constantFrom('+', '-', '*', '/', '%', '==', '<', '&&', '||', 'in'), tie('e'))
      .map(([a, op, b]) => `(${a} ${op} ${b})`),
    fc.tuple(tie('e'), tie('e'), tie('e')).map(([a, b, c]) => `${a} ? ${b} : ${c}`),
    fc
      .tuple(
        fc.constantFrom(
          'size',
          'string',
          'int',
          'double',
          'default',
          'fixed',
          'has',
          'dyn',
          'type',
          'matches',
          'bytes',
          'timestamp',
          'duration',
          'gateway_probe',
          'eval',
          'constructor',
        ),
        fc.array(tie('e'), { maxLength: 3 }),
      )
      .map(([f, args]) => `${f}(${args.join(', ')})`),
    fc
      .tuple(
        tie('e'),
        fc.constantFrom('map', 'filter', 'exists', 'all', 'exists_one'),
        fc.constantFrom('x', 'steps', 'inputs', '__proto__'),
        tie('e'),
      )
      .map(([l, m, v, body]) => `${l}.${m}(${v}, ${body})`),
    fc
      .tuple(
        tie('e'),
        fc.constantFrom('join', 'lower', 'upper', 'trim', 'split', 'size', 'contains', 'orValue', 'value'),
        fc.array(tie('e'), { maxLength: 2 }),
      )
      .map(([r, f, args]) => `${r}.${f}(${args.join(', ')})`),
    fc.tuple(tie('e'), tie('e')).map(([a, b]) => `cel.bind(v, ${a}, ${b} + v + v)`),
    fc.array(tie('e'), { maxLength: 4 }).map((items) => `[${items.join(', ')}]`),
    fc.tuple(tie('e'), tie('e')).map(([k, v]) => `{${k}: ${v}}`),
  ),
})).e;

/** Known expensive shapes, so each run hits the bounds, not only what the grammar happens to find. */
const heavyArb = fc.constantFrom(
  'steps.big.output.map(x, steps.big.output.map(y, x.n * y.n)).size()',
  'steps.big.output.exists(x, steps.big.output.exists(y, y.n == -1))',
  'steps.big.output.map(x, steps.big.text).join("")',
  'steps.big.output.map(x, steps.big.output.filter(y, y.s.contains(x.s))).size()',
  'cel.bind(s, steps.big.text + steps.big.text, cel.bind(t, s + s, t + t + t))',
  'steps.big.output.map(x, x.s + steps.a.text).join(",")',
  'steps.big.output.map(x, string(x.n)).join(steps.big.text)',
  'steps.big.output.all(x, steps.big.output.all(y, x.n >= 0))',
);

function expectPlainJson(value: unknown, depth = 0): void {
  expect(depth).toBeLessThan(300);
  if (value === null || value === undefined) return;
  const t = typeof value;
  if (t === 'string' || t === 'boolean') return;
  if (t === 'number') return;
  expect(t).toBe('object');
  if (Array.isArray(value)) {
    for (const v of value) expectPlainJson(v, depth + 1);
    return;
  }
  expect([Object.prototype, null]).toContain(Object.getPrototypeOf(value));
  for (const v of Object.values(value as object)) expectPlainJson(v, depth + 1);
}

function check(text: string, data: unknown): void {
  const template = `\${{ ${text} }}`;
  const compiled = timed(() => compileTemplate(template, ['args', 'x']));
  expect(compiled.ms, `compile of ${template}`).toBeLessThan(MAX_COMPILE_MS);
  const { problems, template: t } = compiled.value;
  for (const p of problems) {
    expect(typeof p.message).toBe('string');
    expect(p.message.length).toBeGreaterThan(0);
    expect(p.offset).toBeGreaterThanOrEqual(0);
  }
  if (problems.length > 0) return;
  const run = timed(() => {
    try {
      return { ok: true as const, value: render(t, hostileCtx(data)) };
    } catch (err) {
      return { ok: false as const, err };
    }
  });
  expect(run.ms, `evaluation of ${template}`).toBeLessThan(MAX_EVAL_MS);
  if (run.value.ok) expectPlainJson(run.value.value);
  else {
    // Only expression errors, never a TypeError or RangeError escaping from JavaScript.
    expect(run.value.err, String(run.value.err)).toBeInstanceOf(CelEvalError);
    expect((run.value.err as Error).message.startsWith('${{ ')).toBe(true);
  }
  expectNoPollution();
}

describe('fuzz: computed expressions', () => {
  it('grammar-built hostile expressions compile to a problem or evaluate to JSON / a CelEvalError, in bounded time', () => {
    fc.assert(
      fc.property(exprArb, hostileJsonArb, (text, data) => check(text, data)),
      { numRuns: runs(400) },
    );
  });

  it('the expensive shapes stop at the budget', () => {
    fc.assert(
      fc.property(heavyArb, (text) => check(text, null)),
      { numRuns: runs(16) },
    );
  });

  it('arbitrary text inside ${{ }} never throws from the compiler', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200, unit: 'grapheme' }), (text) => {
        const t = `\${{ ${text} }}`;
        expect(() => compileTemplate(t)).not.toThrow();
      }),
      { numRuns: runs(500) },
    );
  });

  it('never reaches the process or the globals', () => {
    for (const name of ['process', 'globalThis', 'this', 'require', 'Function', 'eval', 'module', 'import']) {
      const { problems } = compileTemplate(`\${{ ${name} }}`);
      expect(problems.length, name).toBe(1);
      const call = compileTemplate(`\${{ ${name}("x") }}`).problems;
      expect(call.length, `${name}()`).toBe(1);
    }
    const r = validatePipelineText(
      `name: p\nsteps:\n  a: {server: s, tool: t, args: {x: '\${{ process.env }}'}}\n`,
    );
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues[0]).toMatchObject({ line: 3, message: 'CEL: Unknown variable: process' });
  });
});
