// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax
import { describe, expect, it } from 'vitest';
import { runToolResult } from '../../src/front/index.js';
import { runPipeline, validatePipelineText } from '../../src/pipeline/index.js';
import { compile, FakeInvoker, json, sleep, text, toolError } from './pipeline-fake-invoker.js';

function problems(yaml: string): string[] {
  const r = validatePipelineText(yaml);
  if (r.ok) throw new Error('validated');
  return r.issues.map((i) => `${i.line}:${i.column}: ${i.message}`);
}

const WRITE_THEN_FAIL = `
name: comp
steps:
  write: { server: fs, tool: write, args: { path: /tmp/x } }
  report: { server: s, tool: report, needs: [write] }
on_failure:
  cleanup:
    server: fs
    tool: delete
    args:
      path: \${{ $.steps.write.output.path }}
      why: \${{ $.failure.error }}
      failed: \${{ $.failure.step }}
      status: \${{ failure.status }}
`;

describe('on_failure: when it runs', () => {
  it('runs after a failed step, with $.failure holding the step and its own error', async () => {
    const fake = new FakeInvoker({
      'fs.write': () => json({ path: '/tmp/x' }),
      's.report': () => toolError('HTTP 500'),
      'fs.delete': () => text('deleted'),
    });
    const run = await runPipeline(compile(WRITE_THEN_FAIL), {}, { invoker: fake });
    expect(run.status).toBe('failed');
    expect(run.failedStep).toBe('report');
    expect(fake.only('delete').args).toEqual({
      path: '/tmp/x',
      why: 'HTTP 500',
      failed: 'report',
      status: 'failed',
    });
    expect(fake.only('delete').start).toBeGreaterThanOrEqual(fake.only('report').end!);
    expect(run.compensation?.status).toBe('succeeded');
    expect(run.compensation?.steps.cleanup?.status).toBe('succeeded');
    expect(Object.keys(run.steps)).toEqual(['write', 'report']);
  });

  it('does not run when the run succeeds', async () => {
    const fake = new FakeInvoker({ '*': () => json({ path: '/tmp/x' }) });
    const run = await runPipeline(compile(WRITE_THEN_FAIL), {}, { invoker: fake });
    expect(run.status).toBe('succeeded');
    expect(fake.callsTo('delete')).toHaveLength(0);
    expect(run.compensation).toBeUndefined();
  });

  it('does not run when on_error: continue absorbed the failure', async () => {
    const p = compile(`
name: absorbed
steps:
  flaky: { server: s, tool: flaky, on_error: continue }
  after: { server: s, tool: after, needs: [flaky] }
on_failure:
  cleanup: { server: s, tool: cleanup }
`);
    const fake = new FakeInvoker({ 's.flaky': () => toolError('nope'), '*': () => text('ok') });
    const run = await runPipeline(p, {}, { invoker: fake });
    expect(run.status).toBe('succeeded');
    expect(run.steps.flaky?.status).toBe('failed');
    expect(fake.callsTo('cleanup')).toHaveLength(0);
    expect(run.compensation).toBeUndefined();
  });

  it('runs after the caller cancelled, though the caller signal stays aborted', async () => {
    const p = compile(`
name: cancelled
steps:
  slow: { server: s, tool: slow }
on_failure:
  cleanup: { server: s, tool: cleanup, args: { status: "\${{ $.failure.status }}", step: "\${{ $.failure.step }}" } }
`);
    const controller = new AbortController();
    const fake = new FakeInvoker({
      's.slow': async (call) => {
        controller.abort();
        await sleep(60_000, call.signal);
        return text('never');
      },
      's.cleanup': () => text('cleaned'),
    });
    const run = await runPipeline(p, {}, { invoker: fake, signal: controller.signal });
    expect(run.status).toBe('cancelled');
    // No step failed: `failure.step` is null.
    expect(fake.only('cleanup').args).toEqual({ status: 'cancelled', step: null });
    expect(fake.only('cleanup').signal.aborted).toBe(false);
    expect(run.compensation?.status).toBe('succeeded');
  });

  it('runs after the pipeline deadline', async () => {
    const p = compile(`
name: deadline
timeout: 50ms
steps:
  slow: { server: s, tool: slow }
on_failure:
  cleanup: { server: s, tool: cleanup, args: { why: "\${{ $.failure.error }}" } }
`);
    const fake = new FakeInvoker({
      's.slow': async (call) => {
        await sleep(60_000, call.signal);
        return text('never');
      },
      's.cleanup': () => text('cleaned'),
    });
    const run = await runPipeline(p, {}, { invoker: fake });
    expect(run.status).toBe('failed');
    expect(fake.only('cleanup').args).toEqual({ why: "pipeline 'deadline' timed out after 50ms" });
  });
});

describe('on_failure: its own graph and its report', () => {
  it('orders on_failure steps by needs and references, reading main results without waiting on them', async () => {
    const p = compile(`
name: ordered
steps:
  make: { server: s, tool: make }
  boom: { server: s, tool: boom, needs: [make] }
on_failure:
  last: { server: s, tool: last, args: { n: "\${{ steps.first.output.n + 1 }}" } }
  first: { server: s, tool: first, args: { made: "\${{ $.steps.make.output.id }}" } }
  other: { server: s, tool: other, needs: [last] }
`);
    const fake = new FakeInvoker({
      's.make': () => json({ id: 7 }),
      's.boom': () => toolError('boom'),
      's.first': () => json({ n: 1 }),
      '*': () => text('ok'),
    });
    const run = await runPipeline(p, {}, { invoker: fake });
    expect(fake.calls.map((c) => c.tool)).toEqual(['make', 'boom', 'first', 'last', 'other']);
    expect(fake.only('first').args).toEqual({ made: 7 });
    expect(fake.only('last').args).toEqual({ n: 2 });
    expect(Object.keys(run.compensation!.steps)).toEqual(['last', 'first', 'other']);
  });

  it('reports a failing compensation step; the run keeps its own status and error', async () => {
    const p = compile(`
name: reported
steps:
  boom: { server: s, tool: boom }
on_failure:
  undo: { server: s, tool: undo }
  also: { server: s, tool: also }
`);
    const fake = new FakeInvoker({
      's.boom': () => toolError('boom'),
      's.undo': () => toolError('cannot undo: token=abc'),
      '*': async (call) => {
        await sleep(60_000, call.signal);
        return text('never');
      },
    });
    const run = await runPipeline(p, {}, { invoker: fake });
    expect(run.status).toBe('failed');
    expect(run.error).toBe("step 'boom' failed: boom");
    expect(run.compensation).toMatchObject({
      status: 'failed',
      failedStep: 'undo',
      steps: { undo: { status: 'failed', error: 'cannot undo: token=abc' }, also: { status: 'cancelled' } },
    });
    const shown = runToolResult(run);
    const textOut = (shown.content[0] as { text: string }).text;
    expect(textOut).toContain('on_failure failed after');
    expect(textOut).toMatch(/undo\s+failed\s+1\s+\S+ ms\s+cannot undo/);
    expect((shown.structuredContent as { compensation?: unknown }).compensation).toMatchObject({
      status: 'failed',
    });
  });

  it('ends the compensation at the grace deadline', async () => {
    const p = compile(`
name: grace
steps:
  boom: { server: s, tool: boom }
on_failure:
  hang: { server: s, tool: hang, timeout: 10m }
`);
    // The grace is 30 s; a fake clock is not available to the engine's timers, so this checks the
    // deadline is set on the section, not the wait itself.
    expect(p.onFailure?.timeoutMs).toBe(30_000);
    expect(p.onFailure?.steps.get('hang')?.timeoutMs).toBe(600_000);
  });
});

describe('on_failure: validation', () => {
  it('refuses a step id used in both sections, at the on_failure key', () => {
    expect(
      problems(`name: clash
steps:
  a: { server: s, tool: t }
on_failure:
  a: { server: s, tool: u }
`),
    ).toEqual(["5:3: step id 'a' is already used in steps; ids must be unique across steps and on_failure"]);
  });

  it('refuses the failure root outside on_failure, in JSONPath and CEL', () => {
    expect(
      problems(`name: outside
steps:
  a: { server: s, tool: t, args: { e: "\${{ $.failure.error }}" } }
  b: { server: s, tool: t, when: "\${{ failure.status == 'failed' }}" }
output: \${{ $.failure }}
`),
    ).toEqual([
      '3:40: $.failure is only set in on_failure steps',
      '4:39: failure is only set in on_failure steps',
      '5:9: $.failure is only set in on_failure steps',
    ]);
  });

  it('checks on_failure references, needs and cycles within its own section', () => {
    expect(
      problems(`name: refs
steps:
  a: { server: s, tool: t, args: { x: "\${{ $.steps.undo.output }}" } }
on_failure:
  undo: { server: s, tool: t, args: { x: "\${{ $.steps.nope.output }}" } }
  redo: { server: s, tool: t, needs: [a] }
`),
    ).toEqual([
      "3:40: step 'a' references unknown step 'undo'",
      "5:43: step 'undo' references unknown step 'nope'",
      "6:39: step 'redo' needs unknown step 'a'",
    ]);
  });
});
