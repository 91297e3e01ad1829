// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} and ${VAR} are the syntaxes under test
/**
 * Shared pieces of the property-based hostile-input suites (fuzz-*.test.ts): text mutators built from
 * the characters YAML and our expressions give meaning to, and the prototype-pollution checks.
 */
import fc from 'fast-check';
import { expect } from 'vitest';

/** Keys that pollute Object.prototype when code assigns through them. */
export const POLLUTING_KEYS = ['__proto__', 'constructor', 'prototype'] as const;

/** Fragments that steer a YAML/JSON parser or our `${{ }}` expressions somewhere unusual. */
export const HOSTILE_FRAGMENTS = [
  ':',
  ': ',
  '- ',
  '-',
  '?',
  '? ',
  '[',
  ']',
  '{',
  '}',
  ',',
  '&a ',
  '*a',
  '<<: *a',
  '!!str ',
  '!!binary ',
  '!foo ',
  '\n',
  '\r\n',
  '  ',
  '\t',
  '"',
  "'",
  '#',
  '|',
  '>-',
  '---',
  '\n---\n',
  '...',
  '%YAML 1.2\n',
  '\u0000',
  '\uFEFF',
  '\u202E',
  '\u200B',
  'ä',
  '🙂',
  '\\',
  '${{',
  '}}',
  '${{ $.inputs.x }}',
  '${{ $.steps.a.output }}',
  '${{ $..[?(@.x)] }}',
  '${{ $.a[(@.length-1)] }}',
  '${{ $.inputs[`x`] }}',
  '${{ $.inputs.constructor.constructor }}',
  '${{ $.inputs.__proto__ }}',
  '$.',
  '?(',
  '`',
  '__proto__',
  'constructor',
  'prototype',
  'polluted',
  'steps',
  'needs',
  'for_each',
  'null',
  '~',
  '1e999',
  '0x1F',
  '.inf',
  '-.nan',
  'true',
] as const;

export interface Mutation {
  at: number;
  kind: 'insert' | 'delete' | 'replace' | 'duplicate-line' | 'indent';
  fragment: string;
  length: number;
}

export const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat(),
  kind: fc.constantFrom('insert', 'delete', 'replace', 'duplicate-line', 'indent'),
  fragment: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_FRAGMENTS) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
  ),
  length: fc.integer({ min: 1, max: 12 }),
});

/** Applies each mutation at a position taken modulo the current length, so every mutation lands. */
export function mutate(text: string, mutations: readonly Mutation[]): string {
  let out = text;
  for (const m of mutations) {
    const at = out.length === 0 ? 0 : m.at % (out.length + 1);
    switch (m.kind) {
      case 'insert':
        out = out.slice(0, at) + m.fragment + out.slice(at);
        break;
      case 'delete':
        out = out.slice(0, at) + out.slice(at + m.length);
        break;
      case 'replace':
        out = out.slice(0, at) + m.fragment + out.slice(at + m.length);
        break;
      case 'duplicate-line': {
        const start = out.lastIndexOf('\n', at - 1) + 1;
        const endAt = out.indexOf('\n', at);
        const end = endAt === -1 ? out.length : endAt;
        out = `${out.slice(0, end)}\n${out.slice(start, end)}${out.slice(end)}`;
        break;
      }
      case 'indent': {
        const start = out.lastIndexOf('\n', at - 1) + 1;
        out = `${out.slice(0, start)}${' '.repeat(m.length % 5)}${out.slice(start)}`;
        break;
      }
    }
  }
  return out;
}

/** Arbitrary object keys, hostile ones often. */
export const keyArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...POLLUTING_KEYS) },
  { weight: 2, arbitrary: fc.constantFrom('name', 'steps', 'server', 'tool', 'args', 'inputs', 'x', 'a') },
  { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
);

/** JSON-like values whose objects use {@link keyArb} keys (built with defineProperty, as JSON.parse does). */
export const hostileJsonArb: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(null, true, false, 0, -1, 1e308, '', '${{ $.inputs.x }}', '__proto__'),
    fc.string({ maxLength: 20 }),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.array(tie('value'), { maxLength: 4 }),
    tie('object'),
  ),
  object: fc
    .array(fc.tuple(keyArb, tie('value')), { maxLength: 5 })
    .map(
      (entries) =>
        JSON.parse(
          `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v) ?? 'null'}`).join(',')}}`,
        ) as unknown,
    ),
})).value;

/** Fails when anything has been written onto Object.prototype (or Array's, or Function's). */
export function expectNoPollution(): void {
  const probe = {} as Record<string, unknown>;
  expect(probe.polluted).toBeUndefined();
  expect(Object.keys(Object.prototype)).toEqual([]);
  expect(Object.getOwnPropertyNames(Object.prototype).filter((k) => !BUILTIN_OBJECT_PROTO.has(k))).toEqual(
    [],
  );
  expect(([] as unknown as Record<string, unknown>).polluted).toBeUndefined();
  expect(typeof Object.prototype.toString).toBe('function');
}

const BUILTIN_OBJECT_PROTO = new Set(Object.getOwnPropertyNames(Object.prototype));

/** Runs `fn` and returns how long it took, in milliseconds. */
export function timed<T>(fn: () => T): { value: T; ms: number } {
  const start = performance.now();
  const value = fn();
  return { value, ms: performance.now() - start };
}

/** `numRuns` scaled by FUZZ_SCALE (default 1): `FUZZ_SCALE=20 npx vitest run test/unit/fuzz-` searches harder. */
export function runs(n: number): number {
  const scale = Number(process.env.FUZZ_SCALE ?? 1);
  return Math.max(1, Math.round(n * (Number.isFinite(scale) && scale > 0 ? scale : 1)));
}
