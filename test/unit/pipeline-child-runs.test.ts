// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type CompiledPipeline,
  formatIssue,
  loadCatalog,
  MAX_PIPELINE_DEPTH,
  runPipeline,
  type StepEvent,
  validatePipelineText,
} from '../../src/pipeline/index.js';
import { compile, delayed, FakeInvoker, json, sleep, text, toolError } from './pipeline-fake-invoker.js';

const temps: string[] = [];
async function tempDir(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pipelines-'));
  temps.push(dir);
  for (const [name, body] of Object.entries(files)) await writeFile(join(dir, name), body);
  return dir;
}
afterEach(async () => {
  await Promise.all(temps.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

const CHILD = `
name: child
inputs:
  n: { type: integer }
steps:
  double: { server: s, tool: double, args: { n: '\${{ $.inputs.n }}' } }
output: '\${{ $.steps.double.output.value }}'
`;

function resolver(...pipelines: CompiledPipeline[]) {
  const byName = new Map(pipelines.map((p) => [p.name, p]));
  return (name: string) => byName.get(name);
}

const doubler = new FakeInvoker({
  's.double': (call) => json({ value: (call.args.n as number) * 2 }),
});

describe('pipeline steps: child runs', () => {
  it("runs the child with args as its inputs; the child's output is the step's output", async () => {
    const parent = compile(`
name: parent
steps:
  sum: { pipeline: child, args: { n: 21 } }
  each: { pipeline: child, for_each: [1, 2], args: { n: '\${{ $.item }}' } }
output: { one: '\${{ $.steps.sum.output }}', many: '\${{ $.steps.each.output }}' }
`);
    const events: StepEvent[] = [];
    const run = await runPipeline(
      parent,
      {},
      { invoker: doubler, pipelines: resolver(compile(CHILD)), onEvent: (e) => events.push(e) },
    );
    expect(run.status).toBe('succeeded');
    expect(run.output).toEqual({ one: 42, many: [2, 4] });
    expect(run.steps.sum!.child).toMatchObject({ pipeline: 'child', status: 'succeeded' });
    expect(run.steps.sum!.child!.steps.double).toMatchObject({ status: 'succeeded', output: { value: 42 } });
    expect(run.steps.each!.children!.map((c) => c?.status)).toEqual(['succeeded', 'succeeded']);
    // Progress nested: the child's step events come through the parent's, prefixed.
    const steps = events.map((e) => `${e.type} ${e.step}`);
    expect(steps).toContain('started sum > double');
    expect(steps).toContain('succeeded sum > double');
    expect(steps).toContain('succeeded each[1] > double');
    expect(events.find((e) => e.step === 'sum')).toMatchObject({ type: 'started', pipeline: 'child' });
  });

  it("a failed child run is a failed step naming the child's failed step, subject to on_error", async () => {
    const child = compile(`
name: child
steps:
  boom: { server: s, tool: boom }
`);
    const invoker = new FakeInvoker({ 's.boom': () => toolError('disk full'), 's.after': () => text('ok') });
    const failing = compile(`
name: parent
steps:
  c: { pipeline: child }
  after: { server: s, tool: after, needs: [c] }
`);
    const run = await runPipeline(failing, {}, { invoker, pipelines: resolver(child) });
    expect(run.status).toBe('failed');
    expect(run.failedStep).toBe('c');
    expect(run.error).toBe("step 'c' failed: pipeline 'child' failed: step 'boom' failed: disk full");
    expect(run.steps.c!.child).toMatchObject({ status: 'failed', failedStep: 'boom' });
    expect(run.steps.after!.status).toBe('skipped');

    const continuing = compile(`
name: parent
steps:
  c: { pipeline: child, on_error: continue }
  after: { server: s, tool: after, args: { why: '\${{ $.steps.c.error }}' } }
`);
    const ok = await runPipeline(continuing, {}, { invoker, pipelines: resolver(child) });
    expect(ok.status).toBe('succeeded');
    expect(invoker.callsTo('after').at(-1)!.args.why).toContain("step 'boom' failed: disk full");
  });

  it('retries a failed child run when retry allows', async () => {
    let calls = 0;
    const invoker = new FakeInvoker({
      's.flaky': () => (++calls < 2 ? toolError('busy') : text('"fine"')),
    });
    const child = compile(
      'name: child\nsteps:\n  f: { server: s, tool: flaky }\noutput: "${{ $.steps.f.output }}"\n',
    );
    const parent = compile(`
name: parent
steps:
  c: { pipeline: child, retry: { attempts: 3, backoff: 1ms } }
`);
    const run = await runPipeline(parent, {}, { invoker, pipelines: resolver(child) });
    expect(run.status).toBe('succeeded');
    expect(run.steps.c).toMatchObject({ attempts: 2, output: 'fine' });
  });

  it("checks the child's inputs at run time when args is one expression", async () => {
    const parent = compile(`
name: parent
inputs:
  args: { type: object }
steps:
  c: { pipeline: child, args: '\${{ $.inputs.args }}' }
`);
    const run = await runPipeline(
      parent,
      { args: { n: 'x' } },
      { invoker: doubler, pipelines: resolver(compile(CHILD)) },
    );
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/pipeline 'child': .*n/);
  });

  it('cancels the child when the parent is cancelled or its step times out', async () => {
    const invoker = new FakeInvoker({ 's.slow': delayed(60_000, text('late')) });
    const child = compile('name: child\nsteps:\n  slow: { server: s, tool: slow, timeout: 1m }\n');
    const parent = compile('name: parent\nsteps:\n  c: { pipeline: child }\n');
    const controller = new AbortController();
    const pending = runPipeline(
      parent,
      {},
      { invoker, pipelines: resolver(child), signal: controller.signal },
    );
    while (invoker.calls.length === 0) await sleep(5);
    controller.abort();
    const run = await pending;
    expect(run.status).toBe('cancelled');
    expect(invoker.only('slow').signal.aborted).toBe(true);

    const timed = compile('name: parent\nsteps:\n  c: { pipeline: child, timeout: 50ms }\n');
    const late = new FakeInvoker({ 's.slow': delayed(60_000, text('late')) });
    const run2 = await runPipeline(timed, {}, { invoker: late, pipelines: resolver(child) });
    expect(run2.status).toBe('failed');
    expect(run2.error).toContain('timed out after 50ms');
    expect(late.only('slow').signal.aborted).toBe(true);
  });

  it('bounds the nesting depth, naming the chain', async () => {
    // p0 -> p1 -> … -> p9: no cycle, but deeper than the bound.
    const chain = Array.from({ length: 10 }, (_, i) =>
      compile(
        i < 9
          ? `name: p${i}\nsteps:\n  next: { pipeline: p${i + 1} }\n`
          : `name: p${i}\nsteps:\n  leaf: { server: s, tool: leaf }\n`,
      ),
    );
    const invoker = new FakeInvoker({ 's.leaf': () => text('ok') });
    const run = await runPipeline(chain[0]!, {}, { invoker, pipelines: resolver(...chain) });
    expect(run.status).toBe('failed');
    const names = Array.from({ length: MAX_PIPELINE_DEPTH + 1 }, (_, i) => `p${i}`).join(' > ');
    expect(JSON.stringify(run)).toContain(`pipeline calls nest deeper than ${MAX_PIPELINE_DEPTH}: ${names}`);
    expect(invoker.calls).toHaveLength(0);
    // Within the bound it runs.
    const ok = await runPipeline(chain[2]!, {}, { invoker, pipelines: resolver(...chain) });
    expect(ok.status).toBe('succeeded');
  });

  it('refuses a cycle at run time too (a last good version can close one)', async () => {
    const a = compile('name: a\nsteps:\n  x: { pipeline: b }\n');
    const b = compile('name: b\nsteps:\n  y: { pipeline: a }\n');
    const run = await runPipeline(a, {}, { invoker: doubler, pipelines: resolver(a, b) });
    expect(run.status).toBe('failed');
    expect(JSON.stringify(run)).toContain('pipeline call cycle: a -> b -> a');
  });

  it('fails an unknown pipeline without calling anything', async () => {
    const parent = compile('name: parent\nsteps:\n  c: { pipeline: nope }\n');
    const run = await runPipeline(parent, {}, { invoker: doubler, pipelines: resolver() });
    expect(run.error).toBe("step 'c' failed: unknown pipeline 'nope'");
  });
});

describe('pipeline steps: load-time checks', () => {
  it('refuses a step with both a tool and a pipeline, or with neither, at line:col', () => {
    const result = validatePipelineText(
      'name: p\nsteps:\n  a:\n    pipeline: child\n    server: s\n    parse: json\n  b:\n    args: {}\n',
    );
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.issues.map(formatIssue)).toEqual([
      "5:5: steps.a: a step calls a tool (server and tool) or a pipeline, not both; remove 'server' or 'pipeline'",
      "6:5: steps.a: parse only applies to a tool step; a pipeline step's output is the pipeline's output",
      '7:3: steps.b: missing required key "server"',
      '7:3: steps.b: missing required key "tool"',
    ]);
  });

  it('reports unknown pipelines, unknown and missing inputs, at the keys, in the calling file', async () => {
    const dir = await tempDir({
      'child.yaml': CHILD,
      'parent.yaml': [
        'name: parent',
        'steps:',
        '  a:',
        '    pipeline: chlid',
        '  b:',
        '    pipeline: child',
        '    args:',
        '      m: 1',
        '  c:',
        '    pipeline: child',
        '',
      ].join('\n'),
    });
    const catalog = await loadCatalog(dir);
    expect(catalog.get('child')!.valid).toBe(true);
    const parent = catalog.get('parent')!;
    expect(parent.valid).toBe(false);
    expect(parent.issues.map((i) => formatIssue({ ...i, file: 'parent.yaml' }))).toEqual([
      "parent.yaml:4:5: steps.a: unknown pipeline 'chlid' (did you mean 'child'?); pipelines: child",
      "parent.yaml:7:5: steps.b: pipeline 'child' needs input 'n' in args",
      "parent.yaml:8:7: steps.b: pipeline 'child' has no input 'm'; its inputs: n",
      "parent.yaml:10:5: steps.c: pipeline 'child' needs input 'n' in args",
    ]);
  });

  it('reports a cycle across files at the pipeline: key in each file involved', async () => {
    const dir = await tempDir({
      'a.yaml': 'name: a\nsteps:\n  first: { server: s, tool: t }\n  call_b:\n    pipeline: b\n',
      'b.yaml': 'name: b\nsteps:\n  call_a:\n    pipeline: a\n',
      'c.yaml': 'name: c\nsteps:\n  call_a: { pipeline: a }\n',
    });
    const catalog = await loadCatalog(dir);
    const lines = (name: string) =>
      catalog.get(name)!.issues.map((i) => `${i.line}:${i.column}: ${i.message}`);
    expect(lines('a')).toEqual(['5:5: steps.call_b: pipeline call cycle: a -> b -> a']);
    expect(lines('b')).toEqual(['4:5: steps.call_a: pipeline call cycle: b -> a -> b']);
    // c calls into the cycle but is not on it: valid (its run fails at run time, a being invalid).
    expect(catalog.get('c')!.valid).toBe(true);
  });

  it('reports a pipeline calling itself', async () => {
    const dir = await tempDir({ 'self.yaml': 'name: self\nsteps:\n  again: { pipeline: self }\n' });
    const catalog = await loadCatalog(dir);
    expect(catalog.get('self')!.issues.map((i) => i.message)).toEqual([
      'steps.again: pipeline call cycle: self -> self',
    ]);
  });

  it('checks pipeline steps in on_failure too: unknown pipelines, inputs, cycles through compensation', async () => {
    const dir = await tempDir({
      'child.yaml': CHILD,
      'parent.yaml': [
        'name: parent',
        'steps:',
        '  a: { server: s, tool: t }',
        'on_failure:',
        '  undo:',
        '    pipeline: child',
        '    args: { m: 1 }',
        '  loop:',
        '    pipeline: back',
        '',
      ].join('\n'),
      'back.yaml': 'name: back\nsteps:\n  again: { pipeline: parent }\n',
    });
    const catalog = await loadCatalog(dir);
    expect(catalog.get('parent')!.issues.map((i) => `${i.line}:${i.column}: ${i.message}`)).toEqual([
      "7:5: on_failure.undo: pipeline 'child' needs input 'n' in args",
      "7:13: on_failure.undo: pipeline 'child' has no input 'm'; its inputs: n",
      '9:5: on_failure.loop: pipeline call cycle: parent -> back -> parent',
    ]);
  });
});

describe('pipeline steps in on_failure', () => {
  it('run the child pipeline after a failure, with $.failure in its args', async () => {
    const cleanup = compile(`
name: cleanup
inputs:
  reason: { type: string }
steps:
  note: { server: s, tool: note, args: { text: '\${{ $.inputs.reason }}' } }
output: '\${{ $.steps.note.output }}'
`);
    const parent = compile(`
name: parent
steps:
  write: { server: s, tool: write }
  boom: { server: s, tool: boom, needs: [write] }
on_failure:
  undo:
    pipeline: cleanup
    args: { reason: '\${{ failure.step + ": " + failure.error }}' }
`);
    const invoker = new FakeInvoker({
      's.write': () => text('written'),
      's.boom': () => toolError('disk full'),
      's.note': (call) => json({ noted: call.args.text }),
    });
    const events: StepEvent[] = [];
    const run = await runPipeline(
      parent,
      {},
      { invoker, pipelines: resolver(cleanup), onEvent: (e) => events.push(e) },
    );
    expect(run.status).toBe('failed');
    expect(run.compensation).toMatchObject({ status: 'succeeded' });
    expect(run.compensation!.steps.undo).toMatchObject({
      status: 'succeeded',
      child: { pipeline: 'cleanup', status: 'succeeded' },
    });
    expect(invoker.calls.map((c) => `${c.tool} ${JSON.stringify(c.args)}`)).toContain(
      'note {"text":"boom: disk full"}',
    );
    expect(events.map((e) => `${e.type} ${e.step}`)).toContain('succeeded undo > note');
  });
});
