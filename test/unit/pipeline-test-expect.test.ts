import { describe, expect, it } from 'vitest';
import { checkExpectation, contains, parsePipelineTest, select } from '../../src/pipeline/index.js';

const run = {
  status: 'succeeded',
  output: {
    tables: ['a', 'b'],
    rows: [
      { name: 'x', n: 1 },
      { name: 'y', n: 2 },
    ],
    title: 'Report 2024',
    empty: null,
  },
  steps: { one: { status: 'succeeded' }, two: { status: 'skipped' } },
};

describe('select', () => {
  it('gives a plain path its value and a wildcard, .., slice or union a list', () => {
    expect(select(run, '$.output.tables')).toEqual(['a', 'b']);
    expect(select(run, '$.output.rows[1].name')).toBe('y');
    expect(select(run, '$.output.missing')).toBeUndefined();
    expect(select(run, '$.output.empty')).toBeNull();
    expect(select(run, '$.output.rows[*].n')).toEqual([1, 2]);
    expect(select(run, '$..status')).toEqual(['succeeded', 'succeeded', 'skipped']);
    expect(select(run, '$.output.tables[0:1]')).toEqual(['a']);
    expect(select(run, '$.output.rows[0,1].name')).toEqual(['x', 'y']);
    expect(select(run, '$.output.rows[*].missing')).toEqual([]);
  });
});

describe('checkExpectation', () => {
  const check = (e: Record<string, unknown>) => checkExpectation({ path: '$', ...e } as never, run);

  it('equals: deep, key order aside; nothing never equals', () => {
    expect(check({ path: '$.output.rows[0]', equals: { n: 1, name: 'x' } }).ok).toBe(true);
    expect(check({ path: '$.output.rows[0]', equals: { name: 'x' } })).toMatchObject({
      ok: false,
      message: 'expected {"name":"x"}, got {"name":"x","n":1}',
    });
    expect(check({ path: '$.output.empty', equals: null }).ok).toBe(true);
    expect(check({ path: '$.output.missing', equals: null })).toMatchObject({
      ok: false,
      message: 'expected null, got nothing',
    });
  });

  it('contains: text in text, an item in a list, keys in an object', () => {
    expect(check({ path: '$.output.title', contains: '2024' }).ok).toBe(true);
    expect(check({ path: '$.output.tables', contains: 'b' }).ok).toBe(true);
    expect(check({ path: '$.output.rows', contains: { name: 'y' } }).ok).toBe(true);
    expect(
      check({
        path: '$.output',
        contains: {
          rows: [
            { name: 'x', n: 1 },
            { name: 'y', n: 2 },
          ],
        },
      }).ok,
    ).toBe(true);
    expect(check({ path: '$.output.tables', contains: 'c' })).toMatchObject({
      ok: false,
      message: 'expected to contain "c", got ["a","b"]',
    });
    expect(contains(5, 5)).toBe(false);
    expect(contains({ a: { b: 1, c: 2 } }, { a: { b: 1 } })).toBe(true);
    expect(contains([[1, 2]], [1])).toBe(false); // lists inside are compared whole
  });

  it('matches, length, exists', () => {
    expect(check({ path: '$.output.title', matches: '^Report \\d{4}$' }).ok).toBe(true);
    expect(check({ path: '$.output.rows', matches: 'x' })).toMatchObject({
      ok: false,
      message: 'expected a string matching /x/, got [{"name":"x","n":1},{"name":"y","n":2}]',
    });
    expect(check({ path: '$.output.rows', length: 2 }).ok).toBe(true);
    expect(check({ path: '$.output.title', length: 11 }).ok).toBe(true);
    expect(check({ path: '$.output.tables', length: 3 })).toMatchObject({
      ok: false,
      message: 'expected length 3, got 2: ["a","b"]',
    });
    expect(check({ path: '$.output.empty', exists: true }).ok).toBe(true);
    expect(check({ path: '$.output.missing', exists: false }).ok).toBe(true);
    expect(check({ path: '$.output.title', exists: false })).toMatchObject({
      ok: false,
      message: 'expected nothing, got "Report 2024"',
    });
  });
});

describe('parsePipelineTest', () => {
  it('reports every problem at file:line:col', () => {
    const result = parsePipelineTest(
      [
        'pipeline: p',
        'recording: r.json',
        'expect:',
        '  - { path: $.output, equals: 1, contains: 1 }',
        '  - { path: "$.a[?(@.b)]", exists: true }',
        '  - { path: $.a, matches: "(" }',
        '',
      ].join('\n'),
      't.test.yaml',
    );
    expect(result.ok ? [] : result.issues.map((i) => `${i.line}:${i.column}: ${i.message}`)).toEqual([
      '4:5: expect[0]: give exactly one of equals, contains, matches, length, exists (got equals, contains)',
      '5:13: expect[1].path: script and filter expressions are not allowed',
      expect.stringMatching(/^6:27: expect\[2\]\.matches: Invalid regular expression/),
    ]);
    const schema = parsePipelineTest(
      'pipeline: p\nexpect:\n  - { path: output, equals: 1 }\n',
      't.test.yaml',
    );
    expect(schema.ok ? [] : schema.issues.map((i) => `${i.line}:${i.column}: ${i.message}`)).toEqual([
      '1:1: missing required key "recording"',
      '3:13: expect[0].path: must be a JSONPath starting with $, like $.output.total',
    ]);
  });
});
