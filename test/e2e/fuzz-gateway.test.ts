// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax
/**
 * Hostile tool arguments against the running gateway (stdio, a real testbed backend): inline pipelines
 * for route_pipeline (mutated, bombs, 10k-deep nesting), `params` and `args` strings, names. Every
 * call gets an answer in time, and the gateway keeps serving afterwards.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type StdioGateway,
  startStdioGateway,
  structured,
  testbedServer,
  textOf,
  writeConfig,
} from '../helpers/gateway.js';
import { waitFor } from '../helpers/wait.js';
import { mutate, mutationArb, runs } from '../unit/fuzz-helpers.js';

const PIPELINE = `
name: custom
inputs:
  who: { type: string, default: world }
steps:
  first:
    server: alpha
    tool: echo
    args: { greeting: "hello \${{ $.inputs.who }}", __proto__: { polluted: yes } }
  second:
    server: alpha
    tool: echo
    args: { previous: "\${{ $.steps.first.output }}" }
    needs: [first]
output:
  result: \${{ $.steps.second.output }}
`;

describe('fuzz: hostile arguments against the running gateway', () => {
  let gw: StdioGateway;

  beforeAll(async () => {
    gw = await startStdioGateway(['--config', writeConfig(['servers:', testbedServer('alpha')].join('\n'))]);
    await waitFor(async () => (await gw.client.listTools()).tools.some((t) => t.name === 'alpha__echo'), {
      timeoutMs: 10_000,
    });
  });
  afterAll(async () => {
    await gw?.close();
  });

  async function call(name: string, args: Record<string, unknown>) {
    const start = Date.now();
    const result = await gw.client.callTool({ name, arguments: args }, undefined, { timeout: 20_000 });
    return { result, ms: Date.now() - start };
  }

  async function stillServes(): Promise<void> {
    const { result } = await call('alpha__echo', { ok: true });
    expect(structured(result)).toEqual({ server: 'alpha', args: { ok: true } });
  }

  it('the unmutated inline pipeline runs; its __proto__ key is data (the SDK-based backend drops it)', async () => {
    const { result } = await call('route_pipeline', { scenario: 'custom', pipeline: PIPELINE });
    expect(result.isError, textOf(result)).toBeFalsy();
    expect(JSON.stringify(result.structuredContent)).toContain('"greeting":"hello world"');
    expect(JSON.stringify(result.structuredContent)).not.toContain('polluted');
  });

  it('mutated inline pipelines: always an answer, in time', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(mutationArb, { minLength: 1, maxLength: 5 }), async (mutations) => {
        const { result, ms } = await call('route_pipeline', {
          scenario: 'custom',
          pipeline: mutate(PIPELINE, mutations),
        });
        expect(Array.isArray(result.content)).toBe(true);
        expect(ms).toBeLessThan(5_000);
      }),
      { numRuns: runs(60) },
    );
    await stillServes();
  });

  it.each([
    [
      '10k nested brackets',
      `name: custom\nsteps:\n  a: { server: alpha, tool: echo, args: ${'['.repeat(10_000)}${']'.repeat(10_000)} }`,
    ],
    ['10k nested mappings', `${'{a: '.repeat(10_000)}1${'}'.repeat(10_000)}`],
    [
      'billion laughs',
      [
        'a: &a [x,x,x,x,x,x,x,x,x]',
        ...Array.from(
          { length: 9 },
          (_, i) =>
            `${'bcdefghij'[i]}: &${'bcdefghij'[i]} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`,
        ),
      ].join('\n'),
    ],
    ['2 MiB of text', `name: custom\ndescription: ${'x'.repeat(2 * 1024 * 1024)}`],
    [
      'script injection',
      'name: custom\nsteps:\n  a: { server: alpha, tool: echo, args: { x: "${{ $..[?(@.constructor)] }}" } }',
    ],
  ])('%s, sent twice, is refused with a clear error and the gateway lives on', async (_label, pipeline) => {
    for (let i = 0; i < 2; i++) {
      const { result, ms } = await call('route_pipeline', { scenario: 'custom', pipeline });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toMatch(/nesting is too deep|alias|too large|not allowed/);
      expect(ms).toBeLessThan(3_000);
    }
    await stillServes();
  });

  it('params strings of any shape: the backend result, or PARAMS_INVALID', async () => {
    const paramsArb = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.json({ maxDepth: 3 }),
      fc.constantFrom(
        '{"__proto__":{"polluted":1}}',
        '{"constructor":{"prototype":{"polluted":1}}}',
        `{"deep":${'['.repeat(5_000)}${']'.repeat(5_000)}}`,
        '{"a":1',
      ),
    );
    await fc.assert(
      fc.asyncProperty(paramsArb, async (params) => {
        const { result } = await call('call_backend', { server: 'alpha', tool: 'echo', params });
        if (result.isError) {
          expect(structured<{ code: string }>(result).code).toMatch(/PARAMS_INVALID|BACKEND_UNAVAILABLE/);
        } else {
          expect(structured<{ server: string }>(result).server).toBe('alpha');
        }
      }),
      { numRuns: runs(60) },
    );
    // Handed on as data; the backend's SDK drops a __proto__ key when it parses the arguments.
    const proto = await call('call_backend', {
      server: 'alpha',
      tool: 'echo',
      params: '{"__proto__":{"polluted":1},"x":1}',
    });
    expect(proto.result.isError).toBeFalsy();
    expect(structured<{ args: { x: number } }>(proto.result).args.x).toBe(1);
    await stillServes();
  });

  it('register_server with fuzzed names and args strings: refused or registered, never a crash', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'binary', maxLength: 20 }),
        fc.string({ unit: 'binary', maxLength: 30 }),
        async (name, args) => {
          // A url backend with args: refused before anything starts, whatever the name and args.
          const { result } = await call('register_server', { name, url: 'http://127.0.0.1:9/mcp', args });
          expect(result.isError).toBe(true);
          expect(textOf(result).length).toBeGreaterThan(0);
        },
      ),
      { numRuns: runs(60) },
    );
    const servers = await call('list_servers', {});
    expect(structured<{ servers: { name: string }[] }>(servers.result).servers.map((s) => s.name)).toEqual([
      'alpha',
    ]);
    await stillServes();
  });
});
