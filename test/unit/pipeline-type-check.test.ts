// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax
import { describe, expect, it } from 'vitest';
import {
  type CompiledPipeline,
  checkDataFlow,
  deriveOutputSchema,
  type ToolShape,
  type TypeCheckEnv,
  validatePipelineText,
} from '../../src/pipeline/index.js';
import { describeType, fits, fromSchema, toSchema } from '../../src/pipeline/type-check/index.js';

/** The schemas the bundled sqlite server and the filesystem server list (trimmed to what matters). */
const TOOLS: Record<string, ToolShape> = {
  'sqlite.read_query': {
    inputSchema: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] },
    outputSchema: {
      type: 'object',
      properties: {
        rows: { type: 'array', items: { type: 'object', additionalProperties: {} } },
        rowCount: { type: 'integer' },
        columns: { type: 'array', items: { type: 'string' } },
        truncated: { type: 'boolean' },
      },
      required: ['rows', 'rowCount', 'columns', 'truncated'],
      additionalProperties: false,
    },
  },
  'sqlite.list_tables': {
    inputSchema: { type: 'object', properties: {} },
    outputSchema: {
      type: 'object',
      properties: { tables: { type: 'array', items: { type: 'string' } } },
      required: ['tables'],
    },
  },
  'sqlite.describe_table': {
    inputSchema: { type: 'object', properties: { table_name: { type: 'string', minLength: 1 } } },
  },
  'fs.write_file': {
    inputSchema: {
      type: 'object',
      properties: { path: { type: 'string' }, content: { type: 'string' } },
      required: ['path', 'content'],
    },
  },
  'fs.set_count': {
    inputSchema: {
      type: 'object',
      properties: { count: { type: 'integer' }, tags: { type: 'array', items: { type: 'string' } } },
    },
  },
  'loose.get': {
    outputSchema: {
      type: 'object',
      properties: { value: { anyOf: [{ type: 'string' }, { type: 'null' }] } },
    },
  },
  'loose.any': { outputSchema: {} },
  'loose.open': { outputSchema: { type: 'object', properties: { a: { type: 'string' } } } },
};

const env: TypeCheckEnv = { tool: (server, tool) => TOOLS[`${server}.${tool}`] };

function compile(text: string): CompiledPipeline {
  const result = validatePipelineText(text, { file: 'p.yaml' });
  if (!result.ok) throw new Error(result.issues.map((i) => i.message).join('\n'));
  return result.pipeline;
}

function check(text: string, e: TypeCheckEnv = env): string[] {
  return checkDataFlow(compile(text), e).map(
    (p) => `${p.line}:${p.column}: ${p.severity} ${p.code}: ${p.message}`,
  );
}

const ROWS_TO_CONTENT = `name: p
steps:
  products:
    server: sqlite
    tool: read_query
    args: { query: SELECT * FROM products }
  save:
    server: fs
    tool: write_file
    args:
      path: out.txt
      content: \${{ $.steps.products.output.rows }}
`;

describe('checkDataFlow', () => {
  it('reports rows (an array) fed to content (a string) as an error at the value', () => {
    expect(check(ROWS_TO_CONTENT)).toEqual([
      "12:16: error TYPE_MISMATCH: fs.write_file's 'content' takes a string; ${{ $.steps.products.output.rows }} is an array of objects (per sqlite.read_query's outputSchema)",
    ]);
  });

  it('is silent when the backend is not known, or declares no output schema', () => {
    expect(check(ROWS_TO_CONTENT, { tool: () => undefined })).toEqual([]);
    const noOutput = ROWS_TO_CONTENT.replace('tool: read_query', 'tool: describe_table');
    expect(check(noOutput)).toEqual([]);
  });

  it('passes values that fit: a string, a text, an item of a string list, an integer as a number', () => {
    const text = `name: p
inputs:
  n: { type: integer }
steps:
  tables: { server: sqlite, tool: list_tables }
  each:
    server: sqlite
    tool: describe_table
    for_each: \${{ $.steps.tables.output.tables }}
    args: { table_name: "\${{ $.item }}" }
  q:
    server: sqlite
    tool: read_query
    args: { query: "SELECT \${{ $.inputs.n }}" }
  save:
    server: fs
    tool: write_file
    args:
      path: \${{ $.steps.tables.output.tables[0] }}
      content: \${{ $.steps.q.output.columns[0] }}
  count:
    server: fs
    tool: set_count
    args: { count: "\${{ $.steps.q.output.rowCount }}", tags: "\${{ $.steps.q.output.columns }}" }
`;
    expect(check(text)).toEqual([]);
  });

  it('types the pipeline inputs, $.item of a for_each and a path with a wildcard', () => {
    const text = `name: p
inputs:
  name: { type: string }
steps:
  q:
    server: sqlite
    tool: read_query
    args: { query: SELECT 1 }
  a:
    server: fs
    tool: set_count
    args: { count: "\${{ $.inputs.name }}" }
  b:
    server: fs
    tool: set_count
    for_each: \${{ $.steps.q.output.columns }}
    args: { count: "\${{ $.item }}", tags: "\${{ $.steps.q.output.rows[*].name }}" }
`;
    expect(check(text)).toEqual([
      "12:21: error TYPE_MISMATCH: fs.set_count's 'count' takes an integer; ${{ $.inputs.name }} is a string (per the pipeline's inputs)",
      "17:21: error TYPE_MISMATCH: fs.set_count's 'count' takes an integer; ${{ $.item }} is a string (per sqlite.read_query's outputSchema)",
    ]);
  });

  it('types CEL: comparisons are bools, concatenation with text a string, arithmetic a number', () => {
    const text = `name: p
steps:
  q: { server: sqlite, tool: read_query, args: { query: SELECT 1 } }
  a:
    server: fs
    tool: write_file
    args:
      path: \${{ steps.q.output.rowCount > 0 }}
      content: '\${{ "rows: " + string(steps.q.output.rowCount) }}'
  b:
    server: fs
    tool: set_count
    args: { count: "\${{ steps.q.output.rowCount * 2 }}", tags: "\${{ 'a' + steps.q.output.x }}" }
  c:
    server: fs
    tool: set_count
    args: { count: "\${{ steps.q.output.rowCount }}" }
`;
    expect(check(text)).toEqual([
      "8:13: error TYPE_MISMATCH: fs.write_file's 'path' takes a string; ${{ steps.q.output.rowCount > 0 }} is a boolean (per the expression)",
      "13:65: error TYPE_MISMATCH: fs.set_count's 'tags' takes an array of strings; ${{ 'a' + steps.q.output.x }} is a string (per the expression)",
    ]);
  });

  it('a text with an expression inside is a string', () => {
    const text = `name: p
steps:
  q: { server: sqlite, tool: read_query, args: { query: SELECT 1 } }
  a:
    server: fs
    tool: set_count
    args: { count: "n=\${{ $.steps.q.output.rowCount }}" }
`;
    expect(check(text)).toEqual([
      "7:20: error TYPE_MISMATCH: fs.set_count's 'count' takes an integer; the text is a string",
    ]);
  });

  it('warns when the schema is loose: a union, a part it does not describe, a part that cannot be there', () => {
    const text = `name: p
steps:
  g: { server: loose, tool: get }
  o: { server: loose, tool: open }
  q: { server: sqlite, tool: read_query, args: { query: SELECT 1 } }
  a:
    server: fs
    tool: write_file
    args:
      path: \${{ $.steps.g.output.value }}
      content: \${{ $.steps.o.output.b }}
  b:
    server: fs
    tool: set_count
    args: { count: "\${{ $.steps.q.output.rowcount }}" }
  c:
    server: fs
    tool: write_file
    args: { path: x, content: "\${{ $.steps.g.output }}" }
`;
    expect(check(text)).toEqual([
      "10:13: warning TYPE_MISMATCH: fs.write_file's 'path' takes a string; ${{ $.steps.g.output.value }} is a string or null (per loose.get's outputSchema), which may not fit",
      "11:16: warning TYPE_UNCHECKED: cannot check 'content' (fs.write_file takes a string): loose.open's outputSchema does not describe 'b'",
      "15:21: warning TYPE_NO_SUCH_FIELD: 'count': the value is always missing: sqlite.read_query's outputSchema has no 'rowcount' (it has 'rows', 'rowCount', 'columns', 'truncated')",
      "19:32: error TYPE_MISMATCH: fs.write_file's 'content' takes a string; ${{ $.steps.g.output }} is an object (per loose.get's outputSchema)",
    ]);
  });

  it('an output schema of {} says nothing: no problem', () => {
    const text = `name: p
steps:
  g: { server: loose, tool: any }
  a: { server: fs, tool: write_file, args: { path: x, content: "\${{ $.steps.g.output.rows }}" } }
`;
    expect(check(text)).toEqual([]);
  });

  it('for_each over a value that is not a list', () => {
    const text = `name: p
steps:
  q: { server: sqlite, tool: read_query, args: { query: SELECT 1 } }
  each:
    server: sqlite
    tool: describe_table
    for_each: \${{ $.steps.q.output.rowCount }}
    args: { table_name: "\${{ $.item }}" }
`;
    expect(check(text)).toEqual([
      "7:15: error TYPE_MISMATCH: for_each must yield a list; ${{ $.steps.q.output.rowCount }} is an integer (per sqlite.read_query's outputSchema)",
    ]);
  });

  it('checks on_failure steps and a pipeline step fed by a child pipeline', () => {
    const child = compile(`name: child
inputs:
  n: { type: integer }
steps:
  q: { server: sqlite, tool: read_query, args: { query: "SELECT \${{ $.inputs.n }}" } }
output:
  rows: \${{ $.steps.q.output.rows }}
`);
    const text = `name: p
steps:
  c:
    pipeline: child
    args: { n: "\${{ $.steps.q.output.columns }}" }
  q: { server: sqlite, tool: read_query, args: { query: SELECT 1 } }
  save:
    server: fs
    tool: write_file
    args: { path: x, content: "\${{ $.steps.c.output.rows }}" }
on_failure:
  undo:
    server: fs
    tool: write_file
    args: { path: x, content: "\${{ $.steps.q.output.truncated }}" }
`;
    const withChild: TypeCheckEnv = { ...env, pipeline: (name) => (name === 'child' ? child : undefined) };
    expect(check(text, withChild)).toEqual([
      "5:17: error TYPE_MISMATCH: pipeline 'child''s 'n' takes an integer; ${{ $.steps.q.output.columns }} is an array of strings (per sqlite.read_query's outputSchema)",
      "10:32: error TYPE_MISMATCH: fs.write_file's 'content' takes a string; ${{ $.steps.c.output.rows }} is an array of objects (per pipeline 'child''s output)",
      "15:32: error TYPE_MISMATCH: fs.write_file's 'content' takes a string; ${{ $.steps.q.output.truncated }} is a boolean (per sqlite.read_query's outputSchema)",
    ]);
  });
});

describe('deriveOutputSchema', () => {
  it('maps the output section to a schema: known parts typed, unknown parts {}', () => {
    const p = compile(`name: p
steps:
  q: { server: sqlite, tool: read_query, args: { query: SELECT 1 } }
  d: { server: sqlite, tool: describe_table, args: { table_name: x } }
  t: { server: sqlite, tool: list_tables, for_each: [1, 2] }
output:
  rows: \${{ $.steps.q.output.rows }}
  count: \${{ $.steps.q.output.rowCount }}
  summary: "\${{ $.steps.q.output.rowCount }} rows"
  big: \${{ steps.q.output.rowCount > 10 }}
  described: \${{ $.steps.d.output }}
  tables: \${{ $.steps.t.output[*].tables }}
  both: ["\${{ $.steps.q.output.truncated }}", 1]
`);
    expect(deriveOutputSchema(p, env)).toEqual({
      type: 'object',
      properties: {
        rows: { type: 'array', items: { type: 'object', properties: {} } },
        count: { type: 'integer' },
        summary: { type: 'string' },
        big: { type: 'boolean' },
        described: {},
        tables: { type: 'array', items: { type: 'array', items: { type: 'string' } } },
        both: {
          type: 'array',
          items: { anyOf: [{ type: 'boolean' }, { type: 'integer' }, { type: 'null' }] },
        },
      },
      additionalProperties: false,
    });
  });

  it('without an output section: step id to output', () => {
    const p = compile(`name: p
steps:
  t: { server: sqlite, tool: list_tables }
  e: { server: sqlite, tool: list_tables, for_each: [1], on_error: continue }
`);
    expect(deriveOutputSchema(p, env)).toEqual({
      type: 'object',
      properties: {
        t: { type: 'object', properties: { tables: { type: 'array', items: { type: 'string' } } } },
        e: {
          type: 'array',
          items: {
            anyOf: [
              { type: 'object', properties: { tables: { type: 'array', items: { type: 'string' } } } },
              { type: 'null' },
            ],
          },
        },
      },
      additionalProperties: false,
    });
  });
});

describe('flow types', () => {
  it('reads JSON Schema: type lists, enum, const, anyOf, nullable, local $ref', () => {
    expect(describeType(fromSchema({ type: ['string', 'null'] }))).toBe('a string or null');
    expect(describeType(fromSchema({ enum: ['a', 1] }))).toBe('a string or an integer');
    expect(describeType(fromSchema({ const: true }))).toBe('a boolean');
    expect(describeType(fromSchema({ type: 'number', nullable: true }))).toBe('a number or null');
    const ref = { $defs: { s: { type: 'string' } }, type: 'array', items: { $ref: '#/$defs/s' } };
    expect(describeType(fromSchema(ref))).toBe('an array of strings');
    expect(fromSchema({ $ref: '#/nowhere' })).toEqual({ kind: 'any' });
    expect(fromSchema({ $ref: 'http://example.com/s.json' })).toEqual({ kind: 'any' });
  });

  it('fits: same kinds, numbers with integers, unions all or some, arrays by item', () => {
    const t = (s: object) => fromSchema(s);
    expect(fits(t({ type: 'integer' }), t({ type: 'number' }))).toBe('yes');
    expect(fits(t({ type: 'number' }), t({ type: 'integer' }))).toBe('yes');
    expect(fits(t({ type: 'string' }), t({ type: 'array' }))).toBe('no');
    expect(fits(t({ type: ['string', 'null'] }), t({ type: 'string' }))).toBe('maybe');
    expect(fits(t({ type: ['string', 'null'] }), t({ type: ['string', 'null'] }))).toBe('yes');
    expect(fits(t({ type: 'string' }), t({ anyOf: [{ type: 'integer' }, { type: 'string' }] }))).toBe('yes');
    expect(
      fits(t({ type: 'array', items: { type: 'string' } }), t({ type: 'array', items: { type: 'integer' } })),
    ).toBe('no');
    expect(fits(t({}), t({ type: 'string' }))).toBe('yes');
    expect(fits(t({ type: 'string' }), t({}))).toBe('yes');
  });

  it('round-trips to JSON Schema', () => {
    const s = {
      type: 'object',
      properties: { a: { type: 'array', items: { type: 'string' } } },
      additionalProperties: false,
    };
    expect(toSchema(fromSchema(s))).toEqual(s);
  });

  it("a backend's hostile schema cannot make the check hang or overflow: $ref loops, deep nesting", () => {
    const loop = { anyOf: [{ $ref: '#' }, { type: 'array', items: { $ref: '#' } }, { $ref: '#' }] };
    let deep: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < 50_000; i++) deep = { type: 'array', items: deep };
    let constValue: unknown = 1;
    for (let i = 0; i < 50_000; i++) constValue = [constValue];
    const started = performance.now();
    for (const schema of [loop, deep, { const: constValue }]) {
      const t = fromSchema(schema);
      expect(typeof describeType(t)).toBe('string');
      expect(toSchema(t)).toBeTypeOf('object');
      expect(['yes', 'no', 'maybe']).toContain(fits(t, t));
    }
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});
