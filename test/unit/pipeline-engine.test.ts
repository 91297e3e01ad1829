// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.js';
import { runPipeline, type StepEvent, validatePipelineText } from '../../src/pipeline/index.js';
import {
  compile,
  delayed,
  FakeInvoker,
  json,
  overlap,
  sleep,
  text,
  toolError,
} from './pipeline-fake-invoker.js';

describe('runPipeline: scheduling', () => {
  it('runs independent steps at the same time and a dependent after all of them', async () => {
    const p = compile(`
name: fan-in
steps:
  a: { server: s, tool: a }
  b: { server: s, tool: b }
  c: { server: s, tool: c }
  d: { server: s, tool: d, needs: [a, b, c] }
`);
    const fake = new FakeInvoker({ '*': delayed(40, json({ ok: true })) });
    const run = await runPipeline(p, {}, { invoker: fake });
    expect(run.status).toBe('succeeded');
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((t) => fake.only(t)) as [
      (typeof fake.calls)[0],
      (typeof fake.calls)[0],
      (typeof fake.calls)[0],
      (typeof fake.calls)[0],
    ];
    expect(overlap(a, b) && overlap(b, c) && overlap(a, c)).toBe(true);
    expect(d.start).toBeGreaterThanOrEqual(Math.max(a.end!, b.end!, c.end!));
    expect(fake.maxInFlight).toBe(3);
  });

  it('starts a dependent as soon as its own dependencies are done, not a whole layer', async () => {
    const p = compile(`
name: eager
steps:
  fast: { server: s, tool: fast }
  slow: { server: s, tool: slow }
  after_fast: { server: s, tool: after_fast, needs: [fast] }
`);
    const fake = new FakeInvoker({
      's.fast': delayed(5, text('x')),
      's.slow': delayed(80, text('y')),
      's.after_fast': delayed(5, text('z')),
    });
    await runPipeline(p, {}, { invoker: fake });
    expect(fake.only('after_fast').end!).toBeLessThan(fake.only('slow').end!);
  });

  it('keeps at most `concurrency` calls in flight', async () => {
    const steps = Array.from({ length: 7 }, (_, i) => `  s${i}: { server: s, tool: t }`).join('\n');
    const p = compile(`name: bounded\nconcurrency: 2\nsteps:\n${steps}\n`);
    const fake = new FakeInvoker({ '*': delayed(10, text('ok')) });
    const run = await runPipeline(p, {}, { invoker: fake });
    expect(run.status).toBe('succeeded');
    expect(fake.calls).toHaveLength(7);
    expect(fake.maxInFlight).toBe(2);
  });

  it('bounds a for_each by its own concurrency inside the pipeline bound', async () => {
    const p = compile(`
name: fan-out
concurrency: 8
steps:
  each:
    server: s
    tool: t
    for_each: \${{ $.inputs.items }}
    concurrency: 3
    args: { n: "\${{ $.item }}" }
inputs:
  items: { type: array }
`);
    const fake = new FakeInvoker({ '*': delayed(10, (c) => json({ n: c.args.n })) });
    const run = await runPipeline(p, { items: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] }, { invoker: fake });
    expect(run.status).toBe('succeeded');
    expect(fake.maxInFlight).toBe(3);
    expect(run.steps.each).toMatchObject({ status: 'succeeded', attempts: 10, items: 10 });
  });

  it('a for_each step gives its outputs in item order even when calls finish out of order', async () => {
    const p = compile(`
name: order
inputs:
  delays: { type: array, items: { type: integer } }
steps:
  each:
    server: s
    tool: sleep
    for_each: \${{ $.inputs.delays }}
    args: { ms: "\${{ $.item }}", index: "\${{ $.index }}" }
output: \${{ $.steps.each.output[*].ms }}
`);
    const fake = new FakeInvoker({
      's.sleep': async (call) => {
        await sleep(call.args.ms as number, call.signal);
        return json({ ms: call.args.ms, index: call.args.index });
      },
    });
    const run = await runPipeline(p, { delays: [60, 5, 30, 15] }, { invoker: fake });
    const finished = [...fake.calls].sort((x, y) => x.end! - y.end!).map((c) => c.args.ms);
    expect(finished).toEqual([5, 15, 30, 60]);
    expect(run.output).toEqual([60, 5, 30, 15]);
    expect(run.steps.each!.output).toEqual([
      { ms: 60, index: 0 },
      { ms: 5, index: 1 },
      { ms: 30, index: 2 },
      { ms: 15, index: 3 },
    ]);
  });

  it('a for_each over an empty list succeeds with [] and makes no call', async () => {
    const p = compile(`
name: empty
steps:
  each: { server: s, tool: t, for_each: [] }
`);
    const fake = new FakeInvoker({ '*': () => text('never') });
    const run = await runPipeline(p, {}, { invoker: fake });
    expect(run.steps.each).toMatchObject({ status: 'succeeded', output: [], attempts: 0 });
    expect(fake.calls).toHaveLength(0);
  });
});

describe('runPipeline: data flow', () => {
  it('passes earlier results by reference, keeping JSON types in whole-string expressions', async () => {
    const p = compile(`
name: flow
inputs:
  limit: { type: integer, default: 3 }
steps:
  tables: { server: db, tool: list_tables }
  describe:
    server: db
    tool: describe
    for_each: \${{ $.steps.tables.output.tables[*] }}
    args: { table_name: "\${{ $.item }}", position: "\${{ $.index }}" }
  query:
    server: db
    tool: read_query
    args:
      sql: "SELECT * FROM \${{ $.steps.tables.output.tables[0] }} LIMIT \${{ $.inputs.limit }}"
      limit: \${{ $.inputs.limit }}
      first: \${{ $.steps.tables.output.tables[0] }}
      meta: \${{ $.steps.tables.output.meta }}
      missing: \${{ $.steps.tables.output.nope }}
      list: ["\${{ $.steps.tables.output.nope }}", 1]
output:
  count: \${{ $.steps.tables.output.meta.count }}
  schemas: \${{ $.steps.describe.output }}
  note: "\${{ $.steps.tables.output.meta }} / \${{ $.steps.tables.output.nope }}"
`);
    const fake = new FakeInvoker({
      'db.list_tables': () => json({ tables: ['users', 'orders'], meta: { count: 2 } }),
      'db.describe': (c) => json({ table: c.args.table_name, at: c.args.position }),
      'db.read_query': (c) => json({ got: c.args }),
    });
    const run = await runPipeline(p, {}, { invoker: fake });
    expect(run.status).toBe('succeeded');
    expect(fake.callsTo('describe').map((c) => c.args)).toEqual([
      { table_name: 'users', position: 0 },
      { table_name: 'orders', position: 1 },
    ]);
    expect(fake.only('read_query').args).toEqual({
      sql: 'SELECT * FROM users LIMIT 3',
      limit: 3,
      first: 'users',
      meta: { count: 2 },
      list: [null, 1],
    });
    expect(run.output).toEqual({
      count: 2,
      schemas: [
        { table: 'users', at: 0 },
        { table: 'orders', at: 1 },
      ],
      note: '{"count":2} / ',
    });
  });

  it('reads output from structuredContent, else JSON text, else text; parse overrides', async () => {
    const p = compile(`
name: outputs
steps:
  structured: { server: s, tool: structured }
  json_text: { server: s, tool: json_text }
  plain: { server: s, tool: plain }
  as_text: { server: s, tool: json_text, parse: text }
  as_json: { server: s, tool: number_text, parse: json }
`);
    const fake = new FakeInvoker({
      's.structured': () => ({ content: [{ type: 'text', text: 'ignored' }], structuredContent: { a: 1 } }),
      's.json_text': () => text('{"b": [1, 2]}'),
      's.plain': () => text('hello world'),
      's.number_text': () => text(' 42 '),
    });
    const run = await runPipeline(p, {}, { invoker: fake });
    expect(run.output).toEqual({
      structured: { a: 1 },
      json_text: { b: [1, 2] },
      plain: 'hello world',
      as_text: '{"b": [1, 2]}',
      as_json: 42,
    });
  });

  it('fails a parse: json step whose text is not JSON, without retrying', async () => {
    const p = compile(`
name: parse-fail
steps:
  a: { server: s, tool: t, parse: json, retry: { attempts: 3, backoff: 1ms } }
`);
    const fake = new FakeInvoker({ '*': () => text('not json') });
    const run = await runPipeline(p, {}, { invoker: fake });
    expect(run.status).toBe('failed');
    expect(run.steps.a).toMatchObject({ status: 'failed', attempts: 1 });
    expect(run.steps.a!.error).toMatch(/^parse: json: the result is not JSON/);
  });

  it('applies input defaults, and names the bad input before running anything', async () => {
    const p = compile(`
name: inputs
inputs:
  state: { type: string, enum: [CA, NY] }
  limit: { type: integer, default: 10, minimum: 1 }
steps:
  a: { server: s, tool: t, args: { state: "\${{ $.inputs.state }}", limit: "\${{ $.inputs.limit }}" } }
`);
    const fake = new FakeInvoker({ '*': (c) => json(c.args) });
    const run = await runPipeline(p, { state: 'CA' }, { invoker: fake });
    expect(run.output).toEqual({ a: { state: 'CA', limit: 10 } });

    await expect(
      runPipeline(p, { state: 'TX', limit: 0, extra: 1 }, { invoker: fake }),
    ).rejects.toMatchObject({
      code: 'PARAMS_INVALID',
      message: `pipeline 'inputs': unknown input 'extra'; inputs: state, limit; input 'state' must be one of "CA", "NY"; input 'limit' must be >= 1`,
    });
    await expect(runPipeline(p, {}, { invoker: fake })).rejects.toThrow(/missing required input 'state'/);
    const coerced = await runPipeline(p, { state: 'NY', limit: '5' }, { invoker: fake, coerceInputs: true });
    expect(coerced.output).toEqual({ a: { state: 'NY', limit: 5 } });
    expect(fake.calls).toHaveLength(2);
  });

  it('with no output section, the output maps each step to its output', async () => {
    const p = compile(`
name: default-output
steps:
  a: { server: s, tool: t }
  b: { server: s, tool: t, when: false }
`);
    const run = await runPipeline(p, {}, { invoker: new FakeInvoker({ '*': () => json({ v: 1 }) }) });
    expect(run.output).toEqual({ a: { v: 1 } });
  });
});

describe('runPipeline: failures', () => {
  it('fail-fast: the first failure aborts running siblings and skips its dependents', async () => {
    const p = compile(`
name: fail-fast
steps:
  bad: { server: s, tool: bad }
  sibling: { server: s, tool: slow }
  after_bad: { server: s, tool: never, needs: [bad] }
  after_sibling: { server: s, tool: never, needs: [sibling] }
  after_both: { server: s, tool: never, needs: [after_bad, sibling] }
`);
    const events: StepEvent[] = [];
    const fake = new FakeInvoker({
      's.bad': delayed(10, toolError('no such table: x')),
      's.slow': delayed(10_000, text('late')),
      's.never': () => text('never'),
    });
    const run = await runPipeline(p, {}, { invoker: fake, onEvent: (e) => events.push(e) });
    expect(run.status).toBe('failed');
    expect(run.failedStep).toBe('bad');
    expect(run.error).toBe("step 'bad' failed: no such table: x");
    expect(run.output).toBeNull();
    const sibling = fake.only('slow');
    expect(sibling.signal.aborted).toBe(true);
    expect(sibling.outcome).toBe('rejected');
    expect(fake.callsTo('never')).toHaveLength(0);
    expect(run.steps).toMatchObject({
      bad: { status: 'failed', attempts: 1, error: 'no such table: x' },
      sibling: { status: 'cancelled', attempts: 1, error: "cancelled: step 'bad' failed" },
      after_bad: { status: 'skipped', attempts: 0, reason: "step 'bad' failed" },
      after_sibling: { status: 'cancelled', attempts: 0, error: "not started: cancelled: step 'bad' failed" },
      after_both: { status: 'skipped', reason: "step 'bad' failed" },
    });
    expect(events.filter((e) => e.type === 'failed')).toMatchObject([
      { step: 'bad', error: 'no such table: x', continued: false },
    ]);
  });

  it('a thrown backend error fails the step like isError does', async () => {
    const p = compile(`
name: thrown
steps:
  a: { server: s, tool: t }
`);
    const fake = new FakeInvoker({
      '*': () => {
        throw new GatewayError('BACKEND_EXITED', "backend 's' exited with code 1");
      },
    });
    const run = await runPipeline(p, {}, { invoker: fake });
    expect(run).toMatchObject({ status: 'failed', error: "step 'a' failed: backend 's' exited with code 1" });
  });

  it('a failing for_each item aborts the other items of the step', async () => {
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
    const run = await runPipeline(p, {}, { invoker: fake });
    expect(run.steps.each).toMatchObject({ status: 'failed', error: 'item 1: bad item' });
    expect(fake.calls.filter((c) => c.args.n !== 2).every((c) => c.signal.aborted)).toBe(true);
  });

  it('on_error: continue lets dependents run and read the error', async () => {
    const p = compile(`
name: continue
steps:
  flaky: { server: s, tool: flaky, on_error: continue }
  report:
    server: s
    tool: report
    args: { error: "\${{ $.steps.flaky.error }}", status: "\${{ $.steps.flaky.status }}" }
  each:
    server: s
    tool: item
    for_each: [1, 2, 3]
    args: { n: "\${{ $.item }}" }
    on_error: continue
output:
  report: \${{ $.steps.report.output }}
  each: \${{ $.steps.each.output }}
`);
    const fake = new FakeInvoker({
      's.flaky': () => toolError('rate limited'),
      's.report': (c) => json(c.args),
      's.item': (c) => (c.args.n === 2 ? toolError('two is bad') : json({ n: c.args.n })),
    });
    const run = await runPipeline(p, {}, { invoker: fake });
    expect(run.status).toBe('succeeded');
    expect(run.steps.flaky).toMatchObject({ status: 'failed', error: 'rate limited' });
    expect(run.output).toEqual({
      report: { error: 'rate limited', status: 'failed' },
      each: [{ n: 1 }, null, { n: 3 }],
    });
    expect(run.steps.each).toMatchObject({ status: 'failed', error: 'item 1: two is bad', attempts: 3 });
  });

  it('retries with exponential backoff, then succeeds', async () => {
    const p = compile(`
name: retry
steps:
  a: { server: s, tool: t, retry: { attempts: 4, backoff: 20ms, factor: 2, max_backoff: 30ms } }
`);
    let n = 0;
    const fake = new FakeInvoker({ '*': () => (++n < 4 ? toolError(`try ${n} failed`) : json({ n })) });
    const events: StepEvent[] = [];
    const run = await runPipeline(p, {}, { invoker: fake, onEvent: (e) => events.push(e) });
    expect(run.status).toBe('succeeded');
    expect(run.steps.a).toMatchObject({ status: 'succeeded', attempts: 4, output: { n: 4 } });
    const retries = events.filter((e) => e.type === 'retrying');
    expect(retries.map((e) => [e.attempt, e.delayMs, e.error])).toEqual([
      [2, 20, 'try 1 failed'],
      [3, 30, 'try 2 failed'],
      [4, 30, 'try 3 failed'],
    ]);
    const starts = fake.calls.map((c) => c.start);
    // Timers fire no earlier than asked (allow 1 ms of clock rounding).
    expect(starts[1]! - fake.calls[0]!.end!).toBeGreaterThanOrEqual(19);
    expect(starts[2]! - fake.calls[1]!.end!).toBeGreaterThanOrEqual(29);
  });

  it('does not retry an unknown tool, and gives up after the last attempt', async () => {
    const p = compile(`
name: no-retry
steps:
  unknown: { server: s, tool: gone, retry: { attempts: 3, backoff: 1ms }, on_error: continue }
  flaky: { server: s, tool: flaky, retry: { attempts: 3, backoff: 1ms }, on_error: continue }
`);
    const fake = new FakeInvoker({
      's.gone': () => {
        throw new GatewayError('TOOL_UNKNOWN', "server 's' has no tool 'gone'");
      },
      's.flaky': () => toolError('still down'),
    });
    const run = await runPipeline(p, {}, { invoker: fake });
    expect(run.steps.unknown).toMatchObject({ status: 'failed', attempts: 1 });
    expect(run.steps.flaky).toMatchObject({ status: 'failed', attempts: 3, error: 'still down' });
  });

  it('passes the step timeout, else the backend timeout, else the default, to the invoker', async () => {
    const p = compile(`
name: timeouts
steps:
  own: { server: fast, tool: t, timeout: 5s }
  backend: { server: slow, tool: t }
  fallback: { server: fast, tool: t }
`);
    const fake = new FakeInvoker({ '*': () => text('ok') });
    const timeoutFor = (server: string) => (server === 'slow' ? 60_000 : undefined);
    await runPipeline(p, {}, { invoker: fake, timeoutFor, defaultTimeoutMs: 1_234 });
    expect(fake.calls.map((c) => [c.server, c.options.timeoutMs])).toEqual([
      ['fast', 5_000],
      ['slow', 60_000],
      ['fast', 1_234],
    ]);
    const plain = new FakeInvoker({ '*': () => text('ok') });
    await runPipeline(p, {}, { invoker: plain });
    expect(plain.calls.map((c) => c.options.timeoutMs)).toEqual([5_000, 10_000, 10_000]);
  });

  it('times a call out itself when the backend does not, aborting its signal', async () => {
    const p = compile(`
name: hang
steps:
  a: { server: s, tool: hang, timeout: 30ms, retry: { attempts: 2, backoff: 1ms } }
`);
    const fake = new FakeInvoker({ '*': () => new Promise(() => {}) });
    const run = await runPipeline(p, {}, { invoker: fake });
    expect(run.steps.a).toMatchObject({ status: 'failed', attempts: 2, error: 'timed out after 30ms' });
    expect(fake.calls.every((c) => c.signal.aborted)).toBe(true);
  });

  it('fails at the run deadline, cancelling what runs and naming the deadline', async () => {
    const p = compile(`
name: deadline
timeout: 50ms
steps:
  quick: { server: s, tool: quick }
  slow: { server: s, tool: slow }
  later: { server: s, tool: quick, needs: [slow] }
`);
    const fake = new FakeInvoker({ 's.quick': () => text('done'), 's.slow': delayed(10_000, text('late')) });
    const run = await runPipeline(p, {}, { invoker: fake });
    expect(run).toMatchObject({ status: 'failed', error: "pipeline 'deadline' timed out after 50ms" });
    expect(run.durationMs).toBeGreaterThanOrEqual(49);
    expect(run.steps).toMatchObject({
      quick: { status: 'succeeded' },
      slow: { status: 'cancelled', error: "cancelled: pipeline 'deadline' timed out after 50ms" },
      later: { status: 'cancelled', attempts: 0 },
    });
    expect(fake.only('slow').signal.aborted).toBe(true);
  });

  it('ends cancelled when the caller aborts', async () => {
    const p = compile(`
name: cancel
steps:
  a: { server: s, tool: slow }
  b: { server: s, tool: slow, needs: [a] }
`);
    const fake = new FakeInvoker({ '*': delayed(10_000, text('late')) });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    const run = await runPipeline(p, {}, { invoker: fake, signal: controller.signal });
    expect(run.status).toBe('cancelled');
    expect(run.error).toBe('run cancelled by the caller');
    expect(run.steps).toMatchObject({ a: { status: 'cancelled' }, b: { status: 'cancelled' } });
    expect(fake.only('slow').signal.aborted).toBe(true);

    const already = await runPipeline(p, {}, { invoker: fake, signal: AbortSignal.abort() });
    expect(already.status).toBe('cancelled');
    expect(fake.calls).toHaveLength(1);
  });
});

describe('runPipeline: when', () => {
  it('skips a step whose when is falsy, and its dependents unless they have their own when', async () => {
    const p = compile(`
name: when
inputs:
  notify: { type: boolean, default: false }
steps:
  check: { server: s, tool: check }
  notify: { server: s, tool: notify, when: "\${{ $.inputs.notify }}" }
  after_notify: { server: s, tool: log, needs: [notify] }
  fallback:
    server: s
    tool: fallback
    when: "\${{ $.steps.check.output.alerts }}"
    args: { notified: "\${{ $.steps.notify.status }}" }
  nothing: { server: s, tool: log, when: "\${{ $.steps.check.output.none[*] }}" }
`);
    const fake = new FakeInvoker({
      's.check': () => json({ alerts: ['storm'], none: [] }),
      '*': (c) => json({ args: c.args }),
    });
    const events: StepEvent[] = [];
    const run = await runPipeline(p, {}, { invoker: fake, onEvent: (e) => events.push(e) });
    expect(run.status).toBe('succeeded');
    expect(run.steps).toMatchObject({
      check: { status: 'succeeded' },
      notify: { status: 'skipped', reason: 'when is false' },
      after_notify: { status: 'skipped', reason: "dependency 'notify' was skipped" },
      fallback: { status: 'succeeded', output: { args: { notified: 'skipped' } } },
      nothing: { status: 'skipped', reason: 'when is false' },
    });
    expect(events.filter((e) => e.type === 'skipped').map((e) => e.step)).toEqual([
      'notify',
      'after_notify',
      'nothing',
    ]);
    const withNotify = await runPipeline(p, { notify: true }, { invoker: fake });
    expect(withNotify.steps.after_notify!.status).toBe('succeeded');
  });
});

describe('runPipeline: events and records', () => {
  it('reports each step starting and ending, with times relative to the run', async () => {
    const p = compile(`
name: events
steps:
  a: { server: s, tool: t }
  b: { server: s, tool: t, needs: [a] }
`);
    const events: StepEvent[] = [];
    const run = await runPipeline(
      p,
      {},
      {
        invoker: new FakeInvoker({ '*': delayed(5, text('ok')) }),
        onEvent: (e) => events.push(e),
      },
    );
    expect(events.map((e) => `${e.type}:${e.step}`)).toEqual([
      'started:a',
      'succeeded:a',
      'started:b',
      'succeeded:b',
    ]);
    const a = run.steps.a!;
    const b = run.steps.b!;
    expect(a.startedAt).toBeGreaterThanOrEqual(0);
    expect(b.startedAt!).toBeGreaterThanOrEqual(a.endedAt!);
    expect(a.durationMs).toBe(a.endedAt! - a.startedAt!);
    expect(run.durationMs).toBeGreaterThanOrEqual(b.endedAt!);
  });

  it('a listener that throws does not break the run', async () => {
    const p = compile('name: x\nsteps:\n  a: { server: s, tool: t }\n');
    const run = await runPipeline(
      p,
      {},
      {
        invoker: new FakeInvoker({ '*': () => text('ok') }),
        onEvent: () => {
          throw new Error('listener bug');
        },
      },
    );
    expect(run.status).toBe('succeeded');
  });
});

describe('runPipeline: scale', () => {
  it('plans and runs 1,000 steps with little overhead per step', async () => {
    const lines = ['name: wide', 'concurrency: 64', 'steps:'];
    for (let i = 0; i < 1000; i++) {
      const deps = i < 10 ? [] : [`s${i - 10}`, `s${Math.floor(i / 2)}`];
      const ref = i > 0 ? `, args: { prev: "\${{ $.steps.s${i - 1}.output.n }}" }` : '';
      lines.push(`  s${i}: { server: s, tool: t, needs: [${[...new Set(deps)].join(', ')}]${ref} }`);
    }
    const yaml = `${lines.join('\n')}\n`;
    let t = performance.now();
    const validated = validatePipelineText(yaml);
    const validateMs = performance.now() - t;
    if (!validated.ok) throw new Error(validated.issues[0]!.message);
    const fake = new FakeInvoker({ '*': (c) => json({ n: (c.args.prev as number | undefined) ?? 0 }) });
    t = performance.now();
    const run = await runPipeline(validated.pipeline, {}, { invoker: fake });
    const runMs = performance.now() - t;
    expect(run.status).toBe('succeeded');
    expect(fake.calls).toHaveLength(1000);
    console.log(
      `1,000 steps: parse+validate+plan ${validateMs.toFixed(1)} ms; run with an instant backend ${runMs.toFixed(1)} ms ` +
        `(${((runMs / 1000) * 1000).toFixed(0)} µs per step, fake backend included)`,
    );
  });
});
