// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax
/**
 * Hostile pipeline text: the validator never throws, never hangs, and answers every bad file with
 * issues at real positions; expressions cannot run code or reach prototypes; pollution keys stay data.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.js';
import { evaluate } from '../../src/pipeline/expr.js';
import {
  MAX_PIPELINE_BYTES,
  runPipeline,
  type ValidationResult,
  validatePipelineText,
} from '../../src/pipeline/index.js';
import { compileExpression } from '../../src/pipeline/jsonpath.js';
import {
  expectNoPollution,
  hostileJsonArb,
  keyArb,
  mutate,
  mutationArb,
  POLLUTING_KEYS,
  runs,
  timed,
} from './fuzz-helpers.js';
import { FakeInvoker, json } from './pipeline-fake-invoker.js';

const GOOD = path.resolve(import.meta.dirname, '../fixtures/pipelines/good');
const BASES = ['database-report.yaml', 'weather-analysis.yaml', 'minimal.json'].map((f) =>
  readFileSync(path.join(GOOD, f), 'utf8'),
);
/** Generous: a validation takes well under 10 ms; this catches a hang or a blow-up, not a slowdown. */
const MAX_MS = 1_000;

function expectWellFormed(result: ValidationResult): void {
  expect(typeof result.ok).toBe('boolean');
  const all = result.ok ? result.warnings : [...result.issues, ...result.warnings];
  if (!result.ok) expect(result.issues.length).toBeGreaterThan(0);
  for (const issue of all) {
    expect(Number.isInteger(issue.line) && issue.line >= 1, JSON.stringify(issue)).toBe(true);
    expect(Number.isInteger(issue.column) && issue.column >= 1, JSON.stringify(issue)).toBe(true);
    expect(typeof issue.message).toBe('string');
    expect(issue.message.length).toBeGreaterThan(0);
  }
}

function validateTimed(text: string): ValidationResult {
  const { value, ms } = timed(() => validatePipelineText(text));
  expect(ms, `validation took ${ms.toFixed(0)} ms`).toBeLessThan(MAX_MS);
  expectWellFormed(value);
  return value;
}

/** Runs a valid pipeline against an echo backend: it resolves or refuses its inputs, nothing else. */
async function runEcho(result: ValidationResult, inputs: unknown): Promise<void> {
  if (!result.ok) return;
  const fake = new FakeInvoker({ '*': (call) => json({ args: call.args }) });
  try {
    const run = await runPipeline(result.pipeline, inputs, { invoker: fake, defaultTimeoutMs: 1_000 });
    expect(['succeeded', 'failed', 'cancelled']).toContain(run.status);
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).code).toBe('PARAMS_INVALID');
  }
  for (const call of fake.calls) expect(() => JSON.stringify(call.args)).not.toThrow();
}

describe('fuzz: pipeline validator on arbitrary and mutated text', () => {
  it('never throws on arbitrary text, and every issue has a line and column', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => {
        validateTimed(text);
      }),
      { numRuns: runs(400) },
    );
    expectNoPollution();
  });

  it('never throws on mutations of valid pipelines (YAML and JSON), and valid results run', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...BASES),
        fc.array(mutationArb, { minLength: 1, maxLength: 6 }),
        hostileJsonArb,
        async (base, mutations, inputs) => {
          const result = validateTimed(mutate(base, mutations));
          await runEcho(result, inputs);
        },
      ),
      { numRuns: runs(400) },
    );
    expectNoPollution();
  });

  it('never throws on arbitrary JSON documents with hostile keys, as JSON and as YAML flow', async () => {
    const docArb = fc.record({
      name: fc.oneof(fc.constant('p'), fc.constantFrom(...POLLUTING_KEYS), hostileJsonArb),
      inputs: fc.oneof(hostileJsonArb, fc.dictionary(keyArb, fc.constant({ type: 'string', default: 'd' }))),
      steps: fc.dictionary(
        keyArb,
        fc.record(
          {
            server: fc.oneof(fc.constant('s'), hostileJsonArb),
            tool: fc.oneof(fc.constant('t'), hostileJsonArb),
            args: hostileJsonArb,
            needs: fc.array(keyArb, { maxLength: 2 }),
            for_each: fc.constantFrom('${{ $.inputs.x }}', [1, 2], '${{ $.steps.__proto__.output }}'),
            when: fc.constantFrom(true, '${{ $.inputs.constructor }}'),
          },
          { requiredKeys: ['server', 'tool'] },
        ),
        { maxKeys: 4 },
      ),
      output: hostileJsonArb,
    });
    await fc.assert(
      fc.asyncProperty(docArb, hostileJsonArb, async (doc, inputs) => {
        const text = JSON.stringify(doc);
        const result = validateTimed(text);
        await runEcho(result, inputs);
      }),
      { numRuns: runs(300) },
    );
    expectNoPollution();
  });
});

describe('fuzz: expressions cannot evaluate code or reach prototypes', () => {
  const INJECTIONS = [
    '$..[?(@.x)]',
    '$.inputs[?(@.x)]',
    '$.a[(@.length-1)]',
    '$.inputs[(@.length-1)]',
    '$.inputs[`x`]',
    '$.inputs.x`',
    '$..constructor',
    '$.inputs..constructor',
    '$.inputs..__proto__',
    '$.inputs.constructor',
    '$.inputs.constructor.constructor',
    "$.inputs.constructor.constructor('return process')()",
    '$.inputs.__proto__',
    "$.inputs['__proto__'].polluted",
    '$.inputs["constructor"]["prototype"]',
    '$.steps.a.output.__proto__.polluted',
    '$.item.constructor.prototype',
    '$.inputs[?@.x]',
    '$.inputs[@.x]',
    '$.inputs[*].constructor',
    '$.inputs.*~',
    '$.inputs.x.toString',
    '$.inputs.x.length',
    '$.inputs..*',
    '$.inputs[-1:]',
    '$.inputs[0,1]',
    '$.inputs[?(process.exit(1))]',
    '$.inputs[(this.process)]',
    '$.inputs[?(1)]',
    '$.inputs.$..x',
    '$.inputs.^',
  ];
  const context = () => ({
    inputs: JSON.parse('{"x":"s","a":{"b":[1,2]},"__proto__":{"polluted":1},"list":[{"x":1}]}') as Record<
      string,
      unknown
    >,
    steps: { a: { output: { v: 1 } } },
    item: { v: 2 },
    index: 0,
  });

  /** Whatever a compiled expression yields is plain data: no functions, no prototype objects. */
  function expectInert(value: unknown): void {
    const seen = new Set<unknown>();
    const walk = (v: unknown): void => {
      if (v === null || typeof v !== 'object') {
        expect(typeof v).not.toBe('function');
        return;
      }
      if (seen.has(v)) return;
      seen.add(v);
      expect(v).not.toBe(Object.prototype);
      expect(v).not.toBe(Array.prototype);
      expect(v).not.toBe(Function.prototype);
      for (const child of Object.values(v)) walk(child);
    };
    walk(value);
  }

  it.each(INJECTIONS)('%s is refused at compile time or evaluates to plain data', (source) => {
    let compiled: ReturnType<typeof compileExpression> | undefined;
    try {
      compiled = compileExpression(source);
    } catch (err) {
      expect((err as Error).name).toBe('ExpressionError');
      expect((err as Error).message.length).toBeGreaterThan(0);
      return;
    }
    expect(source).not.toMatch(/\?\(|\(|`/);
    expectInert(evaluate(compiled, context()));
    expectNoPollution();
  });

  it('refuses every expression with a script or filter, whatever surrounds it', () => {
    const script = fc.constantFrom('?(', '(', '`');
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), script, fc.string({ maxLength: 12 }), (a, s, b) => {
        expect(() => compileExpression(`$.inputs${a}${s}${b}`)).toThrow();
      }),
      { numRuns: runs(300) },
    );
  });

  it('never throws anything but ExpressionError and always evaluates to plain data', () => {
    const segment = fc.oneof(
      fc.constantFrom(
        '.constructor',
        '.__proto__',
        '.prototype',
        '..',
        '.*',
        '[*]',
        '[0]',
        '[-1]',
        "['__proto__']",
        '["constructor"]',
        '~',
        '^',
        '$',
        '@',
        '.x',
        '.a',
        '.b',
        '[0:1]',
        '[0,1]',
        '.length',
      ),
      fc.string({ maxLength: 4 }),
    );
    const exprArb = fc
      .tuple(fc.constantFrom('$.inputs', '$.steps.a', '$.item', '$.index', '$', '$..'), fc.array(segment))
      .map(([root, segs]) => root + segs.join(''));
    fc.assert(
      fc.property(exprArb, (source) => {
        let compiled: ReturnType<typeof compileExpression>;
        try {
          compiled = compileExpression(source);
        } catch (err) {
          expect((err as Error).name).toBe('ExpressionError');
          return;
        }
        let value: unknown;
        try {
          value = evaluate(compiled, context());
        } catch (err) {
          // jsonpath-plus refuses some odd paths at evaluation; it must not be a crash of ours.
          expect(err).toBeInstanceOf(Error);
          return;
        }
        expectInert(value);
      }),
      { numRuns: runs(500) },
    );
    expectNoPollution();
  });

  it('a pipeline with injection attempts in args is refused with positions for each', () => {
    const yaml = [
      'name: inject',
      'steps:',
      '  a:',
      '    server: s',
      '    tool: t',
      '    args:',
      '      one: "${{ $..[?(@.x)] }}"',
      '      two: "${{ $.inputs[(@.length-1)] }}"',
      '      three: "x ${{ $.inputs[`x`] }} y"',
    ].join('\n');
    const result = validateTimed(yaml);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const lines = result.issues.map((i) => i.line);
    expect(lines).toEqual(expect.arrayContaining([7, 8, 9]));
    for (const issue of result.issues) expect(issue.message).toMatch(/not allowed|must start/);
  });
});

describe('fuzz: YAML bombs, deep nesting and huge files are refused fast', () => {
  function laughs(levels: number): string {
    const lines = ['l0: &l0 [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < levels; i++)
      lines.push(`l${i}: &l${i} [${Array.from({ length: 9 }, () => `*l${i - 1}`).join(', ')}]`);
    return lines.join('\n');
  }

  const cases: [string, string, RegExp][] = [
    ['billion laughs', laughs(10), /alias/],
    [
      'billion laughs inside a step',
      `name: p\nsteps:\n  a: { server: s, tool: t, args: { v: *l9 } }\n${laughs(10)}`,
      /alias|YAML/,
    ],
    ['10k nested flow sequences', `${'['.repeat(10_000)}${']'.repeat(10_000)}`, /nesting is too deep/],
    ['10k nested flow mappings', `${'{a: '.repeat(10_000)}1${'}'.repeat(10_000)}`, /nesting is too deep/],
    ['10k nested JSON objects', `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`, /nesting is too deep/],
    ['10k compact block sequences', `${'- '.repeat(10_000)}x`, /nesting is too deep/],
    [
      '1,400 indented block mappings',
      Array.from({ length: 1_400 }, (_, i) => `${' '.repeat(i)}a:`).join('\n'),
      /nesting is too deep/,
    ],
    [
      'deep args under a valid step',
      `name: p\nsteps:\n  a:\n    server: s\n    tool: t\n    args: ${'['.repeat(5_000)}1${']'.repeat(5_000)}`,
      /nesting is too deep/,
    ],
    ['a megabyte of open brackets', '['.repeat(MAX_PIPELINE_BYTES - 1), /nesting is too deep/],
    ['a file over the size limit', `name: p\ndescription: ${'x'.repeat(MAX_PIPELINE_BYTES)}`, /too large/],
  ];

  it.each(cases)('%s', (_label, text, message) => {
    // Twice: a stack overflow inside the YAML library once left V8 unable to compile a regex the next
    // time, and that kills the process rather than throwing.
    for (let i = 0; i < 2; i++) {
      const result = validateTimed(text);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.issues.map((x) => x.message).join('\n')).toMatch(message);
    }
  });

  it('nesting well within the bound is still accepted', () => {
    const args = `${'{a: '.repeat(40)}"\${{ $.inputs.x }}"${'}'.repeat(40)}`;
    const result = validateTimed(
      `name: p\ninputs:\n  x: { type: string }\nsteps:\n  a:\n    server: s\n    tool: t\n    args: ${args}\n`,
    );
    expect(result.ok).toBe(true);
  });
});

describe('fuzz: prototype-pollution keys in pipelines and inputs stay plain data', () => {
  const yaml = `
name: pollute
inputs:
  x: { type: string, default: d }
steps:
  constructor:
    server: s
    tool: t
    args:
      __proto__: { polluted: yes }
      constructor: { prototype: { polluted: yes } }
      prototype: { polluted: yes }
      x: \${{ $.inputs.x }}
  prototype:
    server: s
    tool: t
    args: \${{ $.steps.constructor.output }}
output:
  __proto__: { polluted: yes }
  got: \${{ $.steps.prototype.output }}
`;

  it('validates, runs, hands the keys to the backend as data and pollutes nothing', async () => {
    const result = validateTimed(yaml);
    expect(result.ok, JSON.stringify(!result.ok && result.issues)).toBe(true);
    if (!result.ok) return;
    expect([...result.pipeline.steps.keys()]).toEqual(['constructor', 'prototype']);
    const fake = new FakeInvoker({ '*': (call) => json({ ...call.args }) });
    const run = await runPipeline(result.pipeline, { x: 'value' }, { invoker: fake });
    expect(run.status).toBe('succeeded');
    const expected = JSON.parse(
      '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"prototype":{"polluted":"yes"},"x":"value"}',
    );
    for (const call of fake.calls) {
      expect(Object.hasOwn(call.args, '__proto__')).toBe(true);
      expect(Object.getPrototypeOf(call.args)).toBe(Object.prototype);
      expect(JSON.parse(JSON.stringify(call.args))).toEqual(expected);
    }
    expect(JSON.parse(JSON.stringify(run.output))).toEqual(
      JSON.parse(`{"__proto__":{"polluted":"yes"},"got":${JSON.stringify(expected)}}`),
    );
    expectNoPollution();
  });

  it('refuses __proto__ as a step id with a clear message', () => {
    const result = validateTimed('name: p\nsteps:\n  __proto__: { server: s, tool: t }\n');
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.issues[0]).toMatchObject({
        line: 3,
        column: 3,
        message: expect.stringMatching(/invalid step id/),
      });
  });

  it('refuses __proto__ and constructor as unknown inputs, from JSON text', async () => {
    const result = validateTimed(yaml);
    if (!result.ok) throw new Error('expected a valid pipeline');
    for (const raw of ['{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"polluted":1}}}']) {
      const fake = new FakeInvoker({ '*': () => json({}) });
      await expect(runPipeline(result.pipeline, JSON.parse(raw), { invoker: fake })).rejects.toThrow(
        /unknown input/,
      );
      expect(fake.calls).toHaveLength(0);
    }
    expectNoPollution();
  });
});
