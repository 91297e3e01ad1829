/**
 * The console's run journal as the engine feeds it through front/run-watch.ts: each step's span and
 * each call — for_each items, retried attempts — with its own start and end; a child pipeline's runs
 * reach the journal as rows under their parent step, not as runs of their own.
 */
import { describe, expect, it } from 'vitest';
import { RunJournal } from '../../src/console/run-journal.js';
import { watchRun } from '../../src/front/run-watch.js';
import { type CompiledPipeline, runPipeline } from '../../src/pipeline/index.js';
import { compile, FakeInvoker, json, toolError } from './pipeline-fake-invoker.js';

async function run(journal: RunJournal, pipeline: CompiledPipeline, invoker: FakeInvoker, inputs = {}) {
  const pipelines = (name: string) => (name === 'child' ? CHILD : undefined);
  const watched = watchRun(undefined, [journal.watcher], pipeline, inputs);
  const result = await runPipeline(pipeline, inputs, {
    invoker,
    pipelines,
    observer: watched.observer,
    onEvent: watched.onEvent,
  });
  watched.ended(result);
  return result;
}

const CHILD = compile(`
name: child
steps:
  inner: { server: s, tool: ok }
`);

describe('the console run journal', () => {
  it('times each step and each call: for_each items and retried attempts', async () => {
    let failures = 1;
    const invoker = new FakeInvoker({
      's.list': () => json({ items: [1, 2, 3] }),
      's.each': () => json({ ok: true }),
      's.flaky': () => (failures-- > 0 ? Promise.reject(new Error('boom')) : json({ ok: true })),
    });
    const journal = new RunJournal();
    const told: string[] = [];
    journal.onChange((r) => told.push(r.state));
    const pipeline = compile(`
name: timed
steps:
  list: { server: s, tool: list }
  each:
    server: s
    tool: each
    for_each: \${{ $.steps.list.output.items[*] }}
  flaky:
    server: s
    tool: flaky
    retry: { attempts: 2, backoff: 1ms }
`);
    const result = await run(journal, pipeline, invoker);
    expect(result.status).toBe('succeeded');
    const [record] = journal.list();
    expect(record).toMatchObject({ pipeline: 'timed', state: 'succeeded' });
    const step = (id: string) => record!.steps.find((s) => s.id === id)!;
    expect(step('each').calls.map((c) => c.item)).toEqual([0, 1, 2]);
    expect(step('each').items).toBe(3);
    expect(step('flaky').calls.map((c) => [c.attempt, c.error !== undefined])).toEqual([
      [1, true],
      [2, false],
    ]);
    for (const s of record!.steps) {
      expect(s.state).toBe('succeeded');
      for (const c of s.calls) expect(c.end).toBeGreaterThanOrEqual(c.start);
    }
    expect(step('each').start).toBeGreaterThanOrEqual(step('list').end!);
    // The last word is the finished run, sent at once.
    expect(told.at(-1)).toBe('succeeded');
  });

  it("keeps a child pipeline's steps as rows of its parent's run", async () => {
    const invoker = new FakeInvoker({ 's.ok': () => json({ ok: true }) });
    const journal = new RunJournal();
    const parent = compile(`
name: parent
steps:
  call: { pipeline: child }
`);
    await run(journal, parent, invoker);
    expect(journal.list()).toHaveLength(1);
    expect(journal.list()[0]!.steps.map((s) => [s.id, s.state])).toEqual([
      ['call', 'succeeded'],
      ['call > inner', 'succeeded'],
    ]);
  });

  it('records nothing for a run refused for its inputs, and shows a failed run with its error', async () => {
    const invoker = new FakeInvoker({ 's.bad': () => toolError('no such thing') });
    const journal = new RunJournal();
    const pipeline = compile(`
name: failing
inputs:
  n: { type: integer }
steps:
  bad: { server: s, tool: bad }
`);
    await expect(run(journal, pipeline, invoker, { n: 'x' })).rejects.toThrow();
    expect(journal.list()).toEqual([]);
    await run(journal, pipeline, invoker, { n: 1 });
    const [record] = journal.list();
    expect(record).toMatchObject({ state: 'failed', failedStep: 'bad' });
    expect(record!.steps[0]).toMatchObject({ id: 'bad', state: 'failed' });
    expect(record!.steps[0]!.error).toContain('no such thing');
  });
});
