// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax
import { JSONPath } from 'jsonpath-plus';
import { describe, expect, it } from 'vitest';
import { type ExpressionContext, evaluate, isTruthy, render, toText } from '../../src/pipeline/expr.js';
import { compileExpression } from '../../src/pipeline/jsonpath.js';
import { compileTemplate } from '../../src/pipeline/template.js';

const ctx: ExpressionContext = {
  inputs: { limit: 10, state: 'CA', flag: false, nothing: null },
  steps: {
    tables: {
      status: 'succeeded',
      output: {
        tables: ['users'],
        many: ['a', 'b', 'c'],
        rows: [
          { id: 1, name: 'ann', tags: ['x'] },
          { id: 2, name: 'bob', tags: [] },
        ],
        meta: { count: 2, empty: '' },
        zero: 0,
      },
    },
    'fetch-data': { output: { ok: true } },
  },
  item: { table: 'users' },
  index: 3,
};

const value = (path: string) => evaluate(compileExpression(path), ctx);

describe('compileExpression', () => {
  it('records the step or input a path reads', () => {
    expect(compileExpression(' $.steps.tables.output.tables[*] ')).toMatchObject({
      source: '$.steps.tables.output.tables[*]',
      root: 'steps',
      step: 'tables',
      definite: false,
    });
    expect(compileExpression("$.steps['fetch-data'].output.ok")).toMatchObject({
      step: 'fetch-data',
      definite: true,
    });
    expect(compileExpression('$.steps.fetch-data.output')).toMatchObject({ step: 'fetch-data' });
    expect(compileExpression('$.inputs.limit')).toMatchObject({
      root: 'inputs',
      input: 'limit',
      definite: true,
    });
    expect(compileExpression('$.inputs')).toMatchObject({ root: 'inputs', input: undefined });
    expect(compileExpression('$.item.table')).toMatchObject({ root: 'item' });
  });

  it.each([
    ['$.steps.a.output.items[?(@.price > 10)]', 'script and filter expressions are not allowed'],
    ['$.steps.a.output.items[(@.length-1)]', 'script and filter expressions are not allowed'],
    ['$..[?(@.x)]', 'script and filter expressions are not allowed'],
    ['$.steps.a.output.`x', 'script and filter expressions are not allowed'],
    ['$.steps.a.output.x@string()', 'script and filter expressions are not allowed'],
    ['', 'empty expression'],
    [
      'steps.a.output',
      'expression must be a JSONPath starting with $, like $.inputs.name; got "steps.a.output"',
    ],
    ['$', 'expression must start with $.inputs, $.steps.<id>, $.item or $.index'],
    ['$..name', 'expression must start with $.inputs, $.steps.<id>, $.item or $.index'],
    [
      '$.input.x',
      'expression must start with $.inputs, $.steps.<id>, $.item or $.index (did you mean $.inputs?)',
    ],
    ['$.steps', 'expression must name a step: $.steps.<id>'],
    ['$.steps.*.output', 'expression must name a step: $.steps.<id>'],
    ['$.steps.a.output^.b', 'the root ($) and parent (^) operators are only allowed at the start of a path'],
    [
      '$.steps.a.outptu',
      "unknown step result field 'outptu' (did you mean 'output'?); fields: status, output, text, content, isError, error, attempts, durationMs",
    ],
    ['$.index.x', '$.index is a number; it has no properties'],
  ])('rejects %j', (path, message) => {
    expect(() => compileExpression(path)).toThrow(message);
  });
});

describe('evaluate', () => {
  it('keeps JSON types for a definite path', () => {
    expect(value('$.inputs.limit')).toBe(10);
    expect(value('$.inputs.flag')).toBe(false);
    expect(value('$.inputs.nothing')).toBeNull();
    expect(value('$.steps.tables.output.meta')).toEqual({ count: 2, empty: '' });
    expect(value('$.steps.tables.output.tables')).toEqual(['users']);
    expect(value('$.steps.tables.output.rows[1].name')).toBe('bob');
    expect(value("$.steps.tables.output['meta']['count']")).toBe(2);
    expect(value('$.item.table')).toBe('users');
    expect(value('$.index')).toBe(3);
  });

  it('gives undefined when a definite path selects nothing', () => {
    expect(value('$.inputs.missing')).toBeUndefined();
    expect(value('$.steps.nope.output')).toBeUndefined();
    expect(value('$.steps.tables.output.rows[5].name')).toBeUndefined();
    expect(value('$.steps.tables.output.zero.x')).toBeUndefined();
  });

  it('always gives an array for wildcards, descent, slices and unions, even of one or none', () => {
    expect(value('$.steps.tables.output.tables[*]')).toEqual(['users']);
    expect(value('$.steps.tables.output.many[*]')).toEqual(['a', 'b', 'c']);
    expect(value('$.steps.tables.output.rows[*].name')).toEqual(['ann', 'bob']);
    expect(value('$.steps.tables.output.rows[*].tags[*]')).toEqual(['x']);
    expect(value('$.steps.tables.output.rows[*].missing')).toEqual([]);
    expect(value('$.steps.tables.output..id')).toEqual([1, 2]);
    expect(value('$.steps.tables.output.many[0:2]')).toEqual(['a', 'b']);
    expect(value('$.steps.tables.output.many[-1:]')).toEqual(['c']);
    expect(value('$.steps.tables.output.many[0,2]')).toEqual(['a', 'c']);
    expect(value('$.steps.tables.output.meta.*~')).toEqual(['count', 'empty']);
  });

  it('walks plain paths exactly as jsonpath-plus does', () => {
    const paths = [
      '$.steps.tables.output.rows[0].tags[0]',
      '$.steps.tables.output.many.length',
      '$.steps.tables.output.meta.empty.length',
      '$.steps.tables.output.zero',
      '$.steps.tables.output.rows.-1',
      '$.inputs.state.0',
      '$.inputs.nothing.x',
    ];
    for (const path of paths) {
      const expected = JSONPath({ path, json: ctx as object, eval: false, wrap: true })[0];
      expect(value(path), path).toEqual(expected);
    }
  });
});

describe('templates', () => {
  const run = (v: unknown) => {
    const compiled = compileTemplate(v);
    expect(compiled.problems).toEqual([]);
    return render(compiled.template, ctx);
  };

  it('keeps the type of a whole-string expression and interpolates embedded ones as text', () => {
    expect(run('${{ $.inputs.limit }}')).toBe(10);
    expect(run('${{$.steps.tables.output.meta}}')).toEqual({ count: 2, empty: '' });
    expect(run('LIMIT ${{ $.inputs.limit }}')).toBe('LIMIT 10');
    expect(run('${{ $.inputs.state }}-${{ $.inputs.limit }}')).toBe('CA-10');
    expect(run('meta=${{ $.steps.tables.output.meta }}')).toBe('meta={"count":2,"empty":""}');
    expect(run('[${{ $.inputs.missing }}|${{ $.inputs.nothing }}|${{ $.inputs.flag }}]')).toBe('[||false]');
    expect(run('no expressions')).toBe('no expressions');
  });

  it('drops object keys that select nothing and makes them null in arrays', () => {
    expect(
      run({
        a: '${{ $.inputs.limit }}',
        gone: '${{ $.inputs.missing }}',
        list: ['${{ $.inputs.missing }}', '${{ $.index }}'],
        nested: { n: 1, s: '${{ $.item.table }}' },
        __proto__x: 1,
      }),
    ).toEqual({ a: 10, list: [null, 3], nested: { n: 1, s: 'users' }, __proto__x: 1 });
  });

  it('leaves values without expressions untouched and shares nothing between renders', () => {
    const literal = { a: [1, { b: 'c' }] };
    expect(compileTemplate(literal).template).toEqual({ kind: 'literal', value: literal });
    const t = compileTemplate({ a: '${{ $.index }}' }).template;
    expect(render(t, ctx)).not.toBe(render(t, ctx));
  });

  it('reports each bad expression with its key path and offset', () => {
    const { problems, expressions } = compileTemplate(
      { q: 'x ${{ $.steps.a.output[?(@.x)] }} y ${{ $.inputs.ok }} ${{ $.inputs.z' },
      ['steps', 's', 'args'],
    );
    expect(problems).toEqual([
      {
        path: ['steps', 's', 'args', 'q'],
        offset: 2,
        raw: '${{ $.steps.a.output[?(@.x)] }}',
        message: 'script and filter expressions are not allowed',
      },
      {
        path: ['steps', 's', 'args', 'q'],
        offset: 55,
        raw: '${{ $.inputs.z',
        message: 'unterminated expression: missing }}',
      },
    ]);
    expect(expressions.map((e) => [e.offset, e.expr.kind === 'path' ? e.expr.input : undefined])).toEqual([
      [36, 'ok'],
    ]);
  });
});

describe('helpers', () => {
  it('isTruthy', () => {
    for (const v of [false, null, undefined, 0, Number.NaN, '', 'false', []])
      expect(isTruthy(v), String(v)).toBe(false);
    for (const v of [true, 1, -1, 'x', 'true', '0 ', [0], {}])
      expect(isTruthy(v), JSON.stringify(v)).toBe(true);
  });

  it('toText', () => {
    expect([
      toText('s'),
      toText(1.5),
      toText(true),
      toText(null),
      toText(undefined),
      toText([1, 'a']),
    ]).toEqual(['s', '1.5', 'true', '', '', '[1,"a"]']);
  });
});
