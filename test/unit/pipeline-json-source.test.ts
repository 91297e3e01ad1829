// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax
import { describe, expect, it } from 'vitest';
import { validatePipelineText } from '../../src/pipeline/index.js';
import { MAX_JSON_DEPTH, parseJsonSource } from '../../src/pipeline/json-source.js';
import { parsePipelineText } from '../../src/pipeline/parse.js';
import type { Segment } from '../../src/pipeline/template.js';

/** The same text read the YAML way: a comment line in front keeps it off the JSON fast path. */
function viaYaml(text: string) {
  const parsed = parsePipelineText(`#\n${text}`);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  const shift = (p: { line: number; column: number }) => ({ line: p.line - 1, column: p.column });
  return {
    data: parsed.source.data,
    locate: (path: Segment[], at?: 'key' | 'value') => shift(parsed.source.locate(path, at)),
    locateIn: (path: Segment[], offset: number, raw: string) =>
      shift(parsed.source.locateIn(path, offset, raw)),
  };
}

const pipeline = {
  name: 'p',
  inputs: { city: { type: 'string', default: 'Paris' } },
  steps: {
    a: { server: 's', tool: 't', args: { q: 'x ${{ $.inputs.city }} y ${{ $.inputs.city }}', n: 1 } },
    'b-2': { server: 's', tool: 't', needs: ['a'], args: { list: [1, { deep: 'é \\ "q"' }, null] } },
    empty: { server: 's', tool: 't', args: {} },
  },
  output: { r: '${{ $.steps.a.output }}' },
};

const paths: Segment[][] = [
  [],
  ['name'],
  ['steps'],
  ['steps', 'a'],
  ['steps', 'a', 'args', 'q'],
  ['steps', 'b-2', 'needs', 0],
  ['steps', 'b-2', 'args', 'list', 1, 'deep'],
  ['steps', 'b-2', 'args', 'list', 2],
  ['steps', 'empty', 'args'],
  ['steps', 'a', 'missing', 'deeper'],
  ['steps', 'nope'],
  ['steps', 'b-2', 'needs', 5],
  ['output', 'r'],
];

describe('the JSON fast path', () => {
  for (const [label, text] of [
    ['pretty', JSON.stringify(pipeline, null, 2)],
    ['compact', JSON.stringify(pipeline)],
    ['odd spacing', JSON.stringify(pipeline, null, '\t').replace(/: /g, ' :  ')],
  ] as const) {
    it(`reads the same data and positions as the YAML path (${label})`, () => {
      const json = parseJsonSource(text);
      expect(json).toBeDefined();
      const yaml = viaYaml(text);
      expect(json!.data).toEqual(yaml.data);
      for (const path of paths) {
        for (const at of ['key', 'value'] as const) {
          expect({ path, at, pos: json!.locate(path, at) }).toEqual({ path, at, pos: yaml.locate(path, at) });
        }
      }
      const q = ['steps', 'a', 'args', 'q'];
      const value = pipeline.steps.a.args.q;
      const second = value.lastIndexOf('${{');
      expect(json!.locateIn(q, second, '${{ $.inputs.city }}')).toEqual(
        yaml.locateIn(q, second, '${{ $.inputs.city }}'),
      );
    });
  }

  it('leaves to the YAML path what JSON.parse would read differently or refuses', () => {
    expect(parseJsonSource('{"name": "a", "name": "b"}')).toBeUndefined(); // duplicate key
    expect(parseJsonSource('{"name": "a",}')).toBeUndefined(); // not JSON
    expect(parseJsonSource('name: a')).toBeUndefined(); // YAML
    expect(parseJsonSource('["a"]')).toBeUndefined(); // not a mapping
    const deep = `{"a": ${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}}`;
    expect(parseJsonSource(deep)).toBeUndefined();
  });

  it('reports a duplicate key in JSON text as the YAML path does', () => {
    const result = validatePipelineText('{\n  "name": "a",\n  "name": "b",\n  "steps": {}\n}');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues[0]).toMatchObject({ line: 3, message: 'duplicate key "name"' });
  });

  it('positions validation errors in JSON text', () => {
    const text = JSON.stringify(
      { name: 'p', steps: { a: { server: 's', tool: 't', args: { x: '${{ $.steps.zz.output }}' } } } },
      null,
      2,
    );
    const result = validatePipelineText(text);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      const line = text.split('\n').findIndex((l) => l.includes('$.steps.zz')) + 1;
      expect(result.issues[0]).toMatchObject({ line, message: expect.stringContaining("unknown step 'zz'") });
    }
  });
});
