// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax
/**
 * The RunObserver's view of a run (what tracing, metrics and the console's run journal hear): each
 * call is timed with the clock of the step events, so it lies within its step — also when a failed
 * item, the deadline or the caller ends the step while the call is still open. The run's clock here
 * ticks on every read, so a time read at a different moment than it should be shows up as a
 * difference, not as a coincidence of milliseconds.
 */
import { describe, expect, it } from 'vitest';
import { type RunObserver, runPipeline, type StepEvent } from '../../src/pipeline/index.js';
import { compile, delayed, FakeInvoker, sleep, text, toolError } from './pipeline-fake-invoker.js';

interface HeardCall {
  step: string;
  item: number | undefined;
  attempt: number;
  start: number;
  end?: number;
  error?: string;
}

function listen(): { observer: RunObserver; events: StepEvent[]; calls: HeardCall[] } {
  const events: StepEvent[] = [];
  const calls: HeardCall[] = [];
  const observer: RunObserver = {
    runStarted: () => ({
      event: (e) => events.push(e),
      call(step, item, attempt, at) {
        const call: HeardCall = { step, item, attempt, start: at };
        calls.push(call);
        return {
          trace: undefined,
          end(error, endedAt) {
            call.end = endedAt;
            if (error !== undefined) call.error = error;
          },
        };
      },
      ended() {},
    }),
  };
  return { observer, events, calls };
}

/** A clock that moves on by 1 ms each time it is read. */
function tickingClock(): () => number {
  let t = 1000;
  return () => t++;
}

/** Every call began at or after its step started and ended at or before its step ended. */
function expectCallsWithinSteps(events: StepEvent[], calls: HeardCall[]): void {
  expect(calls.length).toBeGreaterThan(0);
  for (const call of calls) {
    const started = events.find((e) => e.step === call.step && e.type === 'started');
    const ended = events.find(
      (e) =>
        e.step === call.step && (e.type === 'succeeded' || e.type === 'failed' || e.type === 'cancelled'),
    );
    expect(started, `step ${call.step} started`).toBeDefined();
    expect(ended, `step ${call.step} ended`).toBeDefined();
    expect(call.end, `call of ${call.step} ended`).toBeDefined();
    expect(call.start).toBeGreaterThanOrEqual(started!.at);
    expect(call.end!).toBeGreaterThanOrEqual(call.start);
    expect(call.end!).toBeLessThanOrEqual(ended!.at);
  }
}

describe('runPipeline: calls as the observer hears them', () => {
  it('times each call, item and retry with the step events’ clock, inside its step', async () => {
    const p = compile(`
name: timed
steps:
  each:
    server: s
    tool: t
    for_each: [1, 2, 3]
    args: { n: "\${{ $.item }}" }
    retry: { attempts: 2, backoff: 1ms }
  after: { server: s, tool: t, needs: [each] }
`);
    let failedOnce = false;
    const fake = new FakeInvoker({
      '*': async (c) => {
        await sleep(2, c.signal);
        if (c.args.n === 2 && !failedOnce) {
          failedOnce = true;
          throw new Error('flaky');
        }
        return text('ok');
      },
    });
    const { observer, events, calls } = listen();
    const run = await runPipeline(p, {}, { invoker: fake, observer, now: tickingClock() });
    expect(run.status).toBe('succeeded');
    expect(calls.map((c) => [c.step, c.item, c.attempt, c.error])).toEqual(
      expect.arrayContaining([
        ['each', 1, 1, 'flaky'],
        ['each', 1, 2, undefined],
        ['after', undefined, 1, undefined],
      ]),
    );
    expect(calls).toHaveLength(5);
    expectCallsWithinSteps(events, calls);
  });

  it('a call cut short by a failing sibling item ends when its step failed', async () => {
    const p = compile(`
name: item-fails
steps:
  each:
    server: s
    tool: t
    for_each: [1, 2, 3]
    args: { n: "\${{ $.item }}" }
`);
    const fake = new FakeInvoker({
      '*': async (c) => {
        if (c.args.n === 2) return toolError('bad item');
        await sleep(10_000, c.signal);
        return text('late');
      },
    });
    const { observer, events, calls } = listen();
    const run = await runPipeline(p, {}, { invoker: fake, observer, now: tickingClock() });
    expect(run.steps.each).toMatchObject({ status: 'failed' });
    expect(calls.filter((c) => c.error?.startsWith('cancelled'))).toHaveLength(2);
    expectCallsWithinSteps(events, calls);
  });

  it('a call cut short by the deadline or the caller ends when its step was cancelled', async () => {
    const p = compile(`
name: deadline
timeout: 30ms
steps:
  slow: { server: s, tool: slow }
`);
    const fake = new FakeInvoker({ '*': delayed(10_000, text('late')) });
    const byDeadline = listen();
    const run = await runPipeline(
      p,
      {},
      { invoker: fake, observer: byDeadline.observer, now: tickingClock() },
    );
    expect(run.steps.slow).toMatchObject({ status: 'cancelled' });
    expectCallsWithinSteps(byDeadline.events, byDeadline.calls);

    const caller = new AbortController();
    setTimeout(() => caller.abort(), 20);
    const byCaller = listen();
    const cancelled = await runPipeline(
      compile('name: c\nsteps:\n  slow: { server: s, tool: slow }\n'),
      {},
      {
        invoker: fake,
        observer: byCaller.observer,
        now: tickingClock(),
        signal: caller.signal,
      },
    );
    expect(cancelled.status).toBe('cancelled');
    expectCallsWithinSteps(byCaller.events, byCaller.calls);
  });
});
