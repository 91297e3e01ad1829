// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax
import { describe, expect, it } from 'vitest';
import { analyzeGraph, type DependencyEdge } from '../../src/pipeline/graph.js';
import { toMermaid } from '../../src/pipeline/index.js';
import { compile } from './pipeline-fake-invoker.js';

const edges = (pairs: [string, string][]): DependencyEdge<string>[] =>
  pairs.map(([step, dependsOn]) => ({ step, dependsOn, kind: 'needs', where: `${step}->${dependsOn}` }));

describe('analyzeGraph', () => {
  it('layers a diamond and orders dependencies first', () => {
    const g = analyzeGraph(
      ['top', 'left', 'right', 'bottom', 'alone'],
      edges([
        ['bottom', 'left'],
        ['bottom', 'right'],
        ['left', 'top'],
        ['right', 'top'],
        ['bottom', 'left'],
      ]),
    );
    expect(g.layers).toEqual([['top', 'alone'], ['left', 'right'], ['bottom']]);
    expect(g.order).toEqual(['top', 'alone', 'left', 'right', 'bottom']);
    expect(g.deps.get('bottom')).toEqual(['left', 'right']);
    expect(g.dependents.get('top')).toEqual(['left', 'right']);
    expect(g.cycles).toEqual([]);
  });

  it('puts a step in the layer after its deepest dependency', () => {
    const g = analyzeGraph(
      ['a', 'b', 'c'],
      edges([
        ['b', 'a'],
        ['c', 'a'],
        ['c', 'b'],
      ]),
    );
    expect(g.layers).toEqual([['a'], ['b'], ['c']]);
  });

  it('names every cycle once, starting at its first step in file order, with the edge that starts it', () => {
    const g = analyzeGraph(
      ['a', 'b', 'c', 'd', 'x', 'y', 'free'],
      edges([
        ['a', 'b'],
        ['b', 'c'],
        ['c', 'a'],
        ['c', 'd'],
        ['y', 'x'],
        ['x', 'y'],
        ['free', 'd'],
      ]),
    );
    expect(g.cycles).toEqual([
      { path: ['a', 'b', 'c', 'a'], edge: expect.objectContaining({ where: 'a->b' }) },
      { path: ['x', 'y', 'x'], edge: expect.objectContaining({ where: 'x->y' }) },
    ]);
    expect(g.layers).toEqual([['d'], ['free']]);
  });

  it('gives the shortest cycle through the first step of a tangled component', () => {
    const g = analyzeGraph(
      ['a', 'b', 'c', 'd'],
      edges([
        ['a', 'b'],
        ['b', 'c'],
        ['c', 'd'],
        ['d', 'a'],
        ['b', 'a'],
      ]),
    );
    expect(g.cycles.map((c) => c.path)).toEqual([['a', 'b', 'a']]);
  });

  it('reports unknown steps and self-references apart from cycles', () => {
    const g = analyzeGraph(
      ['a', 'b'],
      edges([
        ['a', 'a'],
        ['b', 'zz'],
      ]),
    );
    expect(g.selfRefs.map((e) => e.where)).toEqual(['a->a']);
    expect(g.unknown.map((e) => e.where)).toEqual(['b->zz']);
    expect(g.cycles).toEqual([]);
    expect(g.layers).toEqual([['a', 'b']]);
  });

  it('plans 1,000 steps in linear time', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => `s${i}`);
    const e: DependencyEdge<string>[] = [];
    for (let i = 1; i < 1000; i++) {
      e.push({ step: `s${i}`, dependsOn: `s${i - 1}`, kind: 'ref', where: '' });
      e.push({ step: `s${i}`, dependsOn: `s${Math.floor(i / 3)}`, kind: 'needs', where: '' });
    }
    const t = performance.now();
    const g = analyzeGraph(ids, e);
    const ms = performance.now() - t;
    expect(g.order).toHaveLength(1000);
    expect(g.layers).toHaveLength(1000);
    console.log(`analyzeGraph, 1,000 steps / ${e.length} edges: ${ms.toFixed(2)} ms`);
  });
});

describe('toMermaid', () => {
  it('draws data references solid, needs-only order dotted, and marks for_each and when', () => {
    const p = compile(`
name: report
steps:
  tables: { server: sqlite, tool: list_tables }
  schemas:
    server: sqlite
    tool: describe_table
    for_each: \${{ $.steps.tables.output.tables[*] }}
    args: { table_name: "\${{ $.item }}" }
  top: { server: sqlite, tool: read_query, needs: [tables], when: true, on_error: continue }
output:
  schemas: \${{ $.steps.schemas.output }}
`);
    expect(toMermaid(p)).toBe(
      [
        'flowchart TD',
        '  s0["tables<br/>sqlite.list_tables"]',
        '  s1[["schemas<br/>sqlite.describe_table<br/><i>for each</i>"]]',
        '  s2{{"top<br/>sqlite.read_query<br/><i>when, continue on error</i>"}}',
        '  s0 --> s1',
        '  s0 -.-> s2',
        '  output(["output"])',
        '  s1 --> output',
        '',
      ].join('\n'),
    );
  });
});
