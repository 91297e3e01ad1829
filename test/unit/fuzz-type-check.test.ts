// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax
/**
 * The data-flow check reads schemas that backends send: whatever they hold, it answers (problems or
 * none), never throws or hangs, and never writes through a polluting key.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkDataFlow,
  deriveOutputSchema,
  type TypeCheckEnv,
  validatePipelineText,
} from '../../src/pipeline/index.js';
import { expectNoPollution, runs } from './fuzz-helpers.js';

const PIPELINE = validatePipelineText(`name: p
inputs:
  n: { type: integer }
steps:
  a: { server: s, tool: t, args: { x: "\${{ $.inputs.n }}" } }
  b:
    server: s
    tool: t
    for_each: \${{ $.steps.a.output.items }}
    args:
      x: \${{ $.item.name }}
      y: \${{ $.steps.a.output['__proto__'].constructor }}
      z: ["\${{ $.steps.a.output.list[*].v }}", "\${{ steps.a.output.n + 1 }}"]
      w: { deep: "\${{ $.steps.a.output..v }}", t: "n=\${{ $.index }}" }
output:
  all: \${{ $.steps.b.output }}
  one: \${{ $.steps.a.output.constructor.prototype }}
`);

/** JSON Schema-ish values: real keywords with arbitrary (often wrong) values, and plain JSON. */
const schemaLike: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  schema: fc.oneof(
    { depthSize: 'small' },
    fc.jsonValue({ maxDepth: 3 }),
    fc.dictionary(
      fc.constantFrom(
        'type',
        'properties',
        'items',
        'prefixItems',
        'additionalProperties',
        'anyOf',
        'oneOf',
        'enum',
        'const',
        '$ref',
        'nullable',
        '__proto__',
        'constructor',
        'name',
        'v',
        'n',
      ),
      fc.oneof(
        fc.constantFrom(
          'object',
          'array',
          'string',
          'integer',
          'number',
          'null',
          'boolean',
          '#',
          '#/properties/a',
        ),
        fc.array(fc.constantFrom('string', 'null', 'array', 'object')),
        tie('schema'),
        fc.array(tie('schema'), { maxLength: 3 }),
        fc.dictionary(fc.constantFrom('a', 'items', 'name', 'v', 'n', '__proto__'), tie('schema'), {
          maxKeys: 3,
        }),
      ),
      { maxKeys: 5 },
    ),
  ),
})).schema;

describe('checkDataFlow on hostile schemas', () => {
  it('answers for any input and output schema, never throws, pollutes nothing', () => {
    if (!PIPELINE.ok) throw new Error(PIPELINE.issues.map((i) => i.message).join('\n'));
    const pipeline = PIPELINE.pipeline;
    fc.assert(
      fc.property(schemaLike, schemaLike, (inputSchema, outputSchema) => {
        const env: TypeCheckEnv = { tool: () => ({ inputSchema, outputSchema }) };
        const problems = checkDataFlow(pipeline, env);
        for (const p of problems) {
          expect(p.line).toBeGreaterThan(0);
          expect(typeof p.message).toBe('string');
        }
        const schema = deriveOutputSchema(pipeline, env);
        expect(JSON.parse(JSON.stringify(schema))).toBeTypeOf('object');
        expectNoPollution();
      }),
      { numRuns: runs(300) },
    );
  });
});
