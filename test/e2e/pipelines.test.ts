// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Progress } from '@modelcontextprotocol/sdk/types.js';
import {
  ProgressNotificationSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectHttp,
  type HttpGatewayProcess,
  NODE,
  type StdioGateway,
  startHttpGateway,
  startStdioGateway,
  structured,
  TESTBED,
  tempDir,
  testbedServer,
  textOf,
  writeConfig,
} from '../helpers/gateway.js';
import { readTestbedLog } from '../helpers/testbed-log.js';
import { waitFor } from '../helpers/wait.js';

interface Step {
  status: string;
  attempts: number;
  durationMs: number;
  startedAt?: number;
  endedAt?: number;
  error?: string;
  reason?: string;
  output?: unknown;
  items?: number;
}
interface Run {
  pipeline: string;
  status: string;
  output: Record<string, unknown> | null;
  error?: string;
  failedStep?: string;
  steps: Record<string, Step>;
}

interface Listed {
  name: string;
  valid: boolean;
  inputsSchema: { properties: Record<string, unknown> };
  steps: { id: string; needs: string[] }[];
  issues: { line: number; column: number; message: string }[];
}

type LogEvent = { event: string; tool?: string; args?: { ms?: number }; requestId?: number; time: number };

function readLog(file: string): LogEvent[] {
  return readTestbedLog<LogEvent>(file);
}

/** The `cancelled` event for the sleep call with this `ms` (each test sleeps a different, unique time). */
function cancellationOf(file: string, ms: number): LogEvent | undefined {
  const events = readLog(file);
  const call = events.find((e) => e.event === 'call' && e.tool === 'sleep' && e.args?.ms === ms);
  return call && events.find((e) => e.event === 'cancelled' && e.requestId === call.requestId);
}

const PIPELINES: Record<string, string> = {
  'parallel.yaml': `
name: parallel
description: Two sleeps at once, then a step that reads both
inputs:
  ms: { type: integer, default: 300 }
steps:
  a: { server: alpha, tool: sleep, args: { ms: "\${{ $.inputs.ms }}" } }
  b: { server: beta, tool: sleep, args: { ms: "\${{ $.inputs.ms }}" } }
  c:
    server: alpha
    tool: echo
    args:
      from_a: \${{ $.steps.a.output }}
      slept_b: \${{ $.steps.b.output.slept }}
      text: "a slept \${{ $.steps.a.output.slept }} ms"
output:
  echoed: \${{ $.steps.c.output.args }}
`,
  'fanout.yaml': `
name: fanout
inputs:
  delays: { type: array, items: { type: integer }, default: [600, 300, 0] }
steps:
  naps:
    server: alpha
    tool: sleep
    for_each: \${{ $.inputs.delays }}
    args: { ms: "\${{ $.item }}" }
  labels:
    server: beta
    tool: echo
    for_each: \${{ $.steps.naps.output[*].slept }}
    args: { index: "\${{ $.index }}", slept: "\${{ $.item }}" }
output:
  slept: \${{ $.steps.naps.output[*].slept }}
  labels: \${{ $.steps.labels.output[*].args }}
`,
  'failfast.yaml': `
name: failfast
steps:
  slow: { server: alpha, tool: sleep, args: { ms: 20002 } }
  nap: { server: beta, tool: sleep, args: { ms: 200 } }
  boom: { server: beta, tool: fail, args: { message: boom }, needs: [nap] }
  after_boom: { server: beta, tool: echo, needs: [boom] }
  after_slow: { server: beta, tool: echo, needs: [slow] }
`,
  'continue.yaml': `
name: continue
steps:
  flaky:
    server: beta
    tool: fail
    args: { message: flaky failed }
    retry: { attempts: 3, backoff: 50ms, factor: 2 }
    on_error: continue
  report:
    server: alpha
    tool: echo
    args: { status: "\${{ $.steps.flaky.status }}", error: "\${{ $.steps.flaky.error }}" }
output:
  report: \${{ $.steps.report.output.args }}
`,
  'timeouts.yaml': `
name: timeouts
steps:
  own:
    server: alpha
    tool: sleep
    args: { ms: 20003 }
    timeout: 200ms
    on_error: continue
  backend:
    server: tight
    tool: sleep
    args: { ms: 20004 }
    on_error: continue
`,
  'when.yaml': `
name: when
inputs:
  go: { type: boolean, default: false }
steps:
  maybe: { server: alpha, tool: echo, when: "\${{ $.inputs.go }}" }
  after: { server: alpha, tool: echo, needs: [maybe] }
  anyway: { server: alpha, tool: echo, needs: [maybe], when: true }
`,
  'computed.yaml': `
name: computed
inputs:
  threshold: { type: number, default: 10 }
  names: { type: array, items: { type: string }, default: [ann, bob] }
steps:
  sum: { server: alpha, tool: add, args: { a: "\${{ inputs.threshold * 2 }}", b: 1.5 } }
  big:
    server: beta
    tool: echo
    when: \${{ steps.sum.output.sum > 30 }}
    args:
      report: '\${{ inputs.names.map(n, "- " + n.upper()).join("\\n") + "\\ntotal " + fixed(steps.sum.output.sum, 2) }}'
  small:
    server: beta
    tool: echo
    when: \${{ steps.sum.output.sum <= 30 && "ann" in inputs.names }}
    args: { note: "small: \${{ steps.sum.output.sum }}" }
  strict:
    server: alpha
    tool: echo
    needs: [small]
    when: \${{ default(steps.small.output.args.note, "") != "" && steps.small.output.args.missing == 1 }}
    on_error: continue
output:
  report: \${{ default(steps.big.output.args.report, "none") }}
  note: \${{ default(steps.small.output.args.note, "none") }}
  ran: \${{ [steps.big.status, steps.small.status] }}
  strict_error: \${{ default(steps.strict.error, "") }}
`,
  'deadline.yaml': `
name: deadline
timeout: 300ms
steps:
  long: { server: alpha, tool: sleep, args: { ms: 20005 } }
`,
  'slow.yaml': `
name: slow
steps:
  nap: { server: alpha, tool: sleep, args: { ms: 20001 } }
`,
  'broken.yaml': `name: broken
steps:
  a: { server: alpha, tool: echo, needs: [nope] }
`,
  'uses-gamma.yaml': `name: uses-gamma
steps:
  hello: { server: gamma, tool: echo, args: { hi: there } }
`,
};

describe('pipelines through the gateway over stdio, with testbed backends', () => {
  const dir = tempDir();
  const pipelinesDir = path.join(dir, 'pipelines');
  const alphaLog = path.join(dir, 'alpha.log');
  const betaLog = path.join(dir, 'beta.log');
  const tightLog = path.join(dir, 'tight.log');
  let gw: StdioGateway;
  let client: Client;
  let listChanged = 0;

  const route = async (args: Record<string, unknown>) =>
    client.callTool({ name: 'route_pipeline', arguments: args });
  const run = async (scenario: string, inputs?: Record<string, unknown>) => {
    const result = await route({ scenario, ...(inputs ? { inputs } : {}) });
    return { result, run: structured<Run>(result) };
  };

  beforeAll(async () => {
    mkdirSync(pipelinesDir);
    for (const [file, text] of Object.entries(PIPELINES)) writeFileSync(path.join(pipelinesDir, file), text);
    const config = writeConfig(
      [
        'timeout: 5s',
        'pipelines: ./pipelines',
        'servers:',
        testbedServer('alpha', [], `    env: { TESTBED_LOG: ${JSON.stringify(alphaLog)} }\n`),
        testbedServer('beta', [], `    env: { TESTBED_LOG: ${JSON.stringify(betaLog)} }\n`),
        testbedServer(
          'tight',
          [],
          `    env: { TESTBED_LOG: ${JSON.stringify(tightLog)} }\n    timeout: 1500ms\n`,
        ),
      ].join('\n'),
      dir,
    );
    gw = await startStdioGateway(['serve', '--config', config]);
    client = gw.client;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      listChanged++;
    });
    await waitFor(
      async () => {
        const names = (await client.listTools()).tools.map((t) => t.name);
        return ['alpha__echo', 'beta__echo', 'tight__sleep'].every((n) => names.includes(n));
      },
      { timeoutMs: 20_000 },
    );
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('serves each valid pipeline as pipeline__<name> with its inputs as the input schema', async () => {
    const tools = (await client.listTools()).tools;
    const names = tools.map((t) => t.name);
    for (const name of ['route_pipeline', 'list_pipelines', 'pipeline__parallel', 'pipeline__fanout']) {
      expect(names).toContain(name);
    }
    expect(names).not.toContain('pipeline__broken');
    const fanout = tools.find((t) => t.name === 'pipeline__fanout')!;
    expect(fanout.inputSchema.properties).toHaveProperty('delays');
    expect(tools.find((t) => t.name === 'pipeline__parallel')?.description).toContain('Two sleeps at once');
    expect(tools.find((t) => t.name === 'route_pipeline')?.description).toContain('parallel');

    const result = await client.callTool({ name: 'pipeline__when', arguments: { go: true } });
    expect(result.isError).toBeFalsy();
    expect(structured<Run>(result).status).toBe('succeeded');
    const bad = await client.callTool({ name: 'pipeline__fanout', arguments: { delays: 'soon' } });
    expect(bad.isError).toBe(true);
    expect(textOf(bad)).toContain("input 'delays' must be array");
  });

  it('runs independent steps at the same time and passes results on by reference', async () => {
    const { result, run: r } = await run('parallel');
    expect(result.isError).toBeFalsy();
    expect(r.status).toBe('succeeded');
    const { a, b, c } = r.steps as Record<'a' | 'b' | 'c', Step>;
    // a and b overlap; c starts only after both ended.
    expect(a.startedAt!).toBeLessThan(b.endedAt!);
    expect(b.startedAt!).toBeLessThan(a.endedAt!);
    expect(c.startedAt!).toBeGreaterThanOrEqual(Math.max(a.endedAt!, b.endedAt!));
    // A whole-string expression keeps the JSON type; an embedded one is text.
    expect(r.output).toEqual({ echoed: { from_a: { slept: 300 }, slept_b: 300, text: 'a slept 300 ms' } });
    const text = textOf(result);
    expect(text).toContain("Pipeline 'parallel' succeeded");
    expect(text).toMatch(/^step\s+status\s+calls\s+time/m);
    expect(text).toMatch(/^a\s+succeeded\s+1\s+\d+ ms/m);
  });

  it('for_each calls in parallel and keeps the results in input order', async () => {
    const { run: r } = await run('fanout');
    expect(r.status).toBe('succeeded');
    // The first item sleeps longest and finishes last, yet comes first.
    expect(r.output?.slept).toEqual([600, 300, 0]);
    expect(r.output?.labels).toEqual([
      { index: 0, slept: 600 },
      { index: 1, slept: 300 },
      { index: 2, slept: 0 },
    ]);
    expect(r.steps.naps).toMatchObject({ status: 'succeeded', items: 3, attempts: 3 });
    // In parallel, as the backend saw it: all three sleeps had arrived before the first one ended.
    const log = readTestbedLog(alphaLog).filter((e) => e.tool === 'sleep');
    const naps = log.filter((e) => e.event === 'call').slice(-3);
    const ours = (e: (typeof log)[number]) =>
      naps.some((n) => n.pid === e.pid && n.requestId === e.requestId);
    const events = log.filter(ours);
    expect(events.map((e) => e.event)).toEqual(['call', 'call', 'call', 'done', 'done', 'done']);
  });

  it('fails fast: a failed step cancels a running sibling on its backend and skips its dependents', async () => {
    const { result, run: r } = await run('failfast');
    expect(result.isError).toBe(true);
    expect(r.status).toBe('failed');
    expect(r.failedStep).toBe('boom');
    expect(r.error).toBe("step 'boom' failed: boom");
    expect(r.output).toBeNull();
    expect(r.steps.boom).toMatchObject({ status: 'failed', error: 'boom' });
    expect(r.steps.slow).toMatchObject({ status: 'cancelled', error: "cancelled: step 'boom' failed" });
    expect(r.steps.after_boom).toMatchObject({ status: 'skipped', reason: "step 'boom' failed" });
    expect(r.steps.after_slow?.status).toBe('cancelled');
    // A failed run shows what the steps that finished produced.
    expect(r.steps.nap?.output).toEqual({ slept: 200 });
    const cancelled = await waitFor(() => cancellationOf(alphaLog, 20002), { message: 'alpha cancelled' });
    expect(cancelled.tool).toBe('sleep');
    expect(textOf(result)).toContain("Pipeline 'failfast' failed");
  });

  it('on_error: continue retries with backoff, then lets dependents run and read the error', async () => {
    const before = readLog(betaLog).filter((e) => e.event === 'call' && e.tool === 'fail').length;
    const { result, run: r } = await run('continue');
    expect(result.isError).toBeFalsy();
    expect(r.status).toBe('succeeded');
    expect(r.steps.flaky).toMatchObject({ status: 'failed', attempts: 3, error: 'flaky failed' });
    expect(r.output?.report).toEqual({ status: 'failed', error: 'flaky failed' });
    const calls = readLog(betaLog)
      .filter((e) => e.event === 'call' && e.tool === 'fail')
      .slice(before);
    expect(calls).toHaveLength(3);
    // Backoff 50 ms, then 100 ms (factor 2), as recorded by the backend.
    expect(calls[1]!.time - calls[0]!.time).toBeGreaterThanOrEqual(45);
    expect(calls[2]!.time - calls[1]!.time).toBeGreaterThanOrEqual(95);
  });

  it("times a step out after its own timeout, else after its backend's, and cancels the call", async () => {
    const { run: r } = await run('timeouts');
    expect(r.status).toBe('succeeded');
    expect(r.steps.own?.status).toBe('failed');
    expect(r.steps.own?.error).toMatch(/timed out after 200 ?ms/);
    expect(r.steps.backend?.status).toBe('failed');
    expect(r.steps.backend?.error).toMatch(/timed out after (1\.5 ?s|1500 ?ms)/);
    await waitFor(() => cancellationOf(alphaLog, 20003), { message: 'alpha cancelled after the timeout' });
    await waitFor(() => cancellationOf(tightLog, 20004), { message: 'tight cancelled after the timeout' });
  });

  it('when: false skips the step and the dependents that have no when of their own', async () => {
    const { run: r } = await run('when', { go: false });
    expect(r.status).toBe('succeeded');
    expect(r.steps.maybe).toMatchObject({ status: 'skipped', reason: 'when is false' });
    expect(r.steps.after).toMatchObject({ status: 'skipped', reason: "dependency 'maybe' was skipped" });
    expect(r.steps.anyway?.status).toBe('succeeded');
    const { run: go } = await run('when', { go: true });
    expect(Object.values(go.steps).map((s) => s.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
  });

  it('computed expressions: a when comparison runs or skips a step, args and output are formatted', async () => {
    const { run: low } = await run('computed', { threshold: 10 });
    expect(low.status).toBe('succeeded');
    // 10 * 2 + 1.5 = 21.5, added by the backend: the comparison skips `big` and runs `small`.
    expect(low.steps.big).toMatchObject({ status: 'skipped', reason: 'when is false' });
    expect(low.output).toMatchObject({ report: 'none', note: 'small: 21.5', ran: ['skipped', 'succeeded'] });
    // A key that is not there fails the step at run time, naming it and the expression, without a call.
    expect(low.steps.strict).toMatchObject({ status: 'failed', attempts: 0 });
    expect(low.output!.strict_error).toBe(
      'when: ${{ default(steps.small.output.args.note, "") != "" && steps.small.output.args.missing == 1 }}: No such key: missing (use has(x.key) or default(x.key, fallback) when it may be absent)',
    );

    const { run: high } = await run('computed', { threshold: 20, names: ['cy', 'dee'] });
    expect(high.steps.big?.status).toBe('succeeded');
    expect(high.steps.small).toMatchObject({ status: 'skipped', reason: 'when is false' });
    expect(high.output).toMatchObject({ report: '- CY\n- DEE\ntotal 41.50', note: 'none' });
  });

  it('rejects a computed expression that does not compile, at its line and column', async () => {
    const yaml = [
      'name: bad-cel',
      'inputs:',
      '  count: { type: number }',
      'steps:',
      '  a:',
      '    server: alpha',
      '    tool: echo',
      '    when: ${{ inputs.cuont > 1 }}',
      '    args: { x: "${{ size(steps.b.output) }}", y: "${{ inputs.count + }}" }',
    ].join('\n');
    const result = await route({ scenario: 'custom', pipeline: yaml, inputs: { count: 1 } });
    expect(result.isError).toBe(true);
    expect(textOf(result).split('\n')).toEqual([
      'the custom pipeline is invalid (3 problems):',
      "pipeline:8:15: unknown input 'cuont' (did you mean 'count'?); inputs: count",
      "pipeline:9:26: step 'a' references unknown step 'b'",
      // Just after `inputs.count +`, where the operand is missing.
      'pipeline:9:69: CEL: Unexpected token: EOF',
    ]);
  });

  it("ends the run at the pipeline's deadline and cancels what is running", async () => {
    const { result, run: r } = await run('deadline');
    expect(result.isError).toBe(true);
    expect(r.status).toBe('failed');
    expect(r.error).toBe("pipeline 'deadline' timed out after 300ms");
    expect(r.steps.long?.status).toBe('cancelled');
    await waitFor(() => cancellationOf(alphaLog, 20005), { message: 'alpha cancelled at the deadline' });
  });

  it('runs a custom pipeline sent inline as YAML or JSON', async () => {
    const yaml = [
      'name: inline',
      'inputs:',
      '  who: { type: string }',
      'steps:',
      '  hello:',
      '    server: alpha',
      '    tool: echo',
      '    args: { greeting: "hello ${{ $.inputs.who }}" }',
    ].join('\n');
    const { run: r } = {
      run: structured<Run>(await route({ scenario: 'custom', pipeline: yaml, inputs: { who: 'you' } })),
    };
    expect(r.status).toBe('succeeded');
    expect(r.output).toEqual({ hello: { server: 'alpha', args: { greeting: 'hello you' } } });

    const json = JSON.stringify({
      name: 'sum',
      steps: { add: { server: 'beta', tool: 'add', args: { a: 2, b: '${{ $.inputs.b }}' } } },
      inputs: { b: { type: 'number' } },
      output: { sum: '${{ $.steps.add.output.sum }}' },
    });
    const summed = await route({ scenario: 'custom', pipeline: json, inputs: '{"b": 40}' });
    expect(structured<Run>(summed).output).toEqual({ sum: 42 });
  });

  it('rejects an invalid custom pipeline with every problem at pipeline:line:col, and runs nothing', async () => {
    const yaml = [
      'name: bad',
      'steps:',
      '  a:',
      '    server: alpha',
      '    tool: ecko',
      '    needs: [b]',
    ].join('\n');
    const result = await route({ scenario: 'custom', pipeline: yaml });
    expect(result.isError).toBe(true);
    const lines = textOf(result).split('\n');
    expect(lines[0]).toBe('the custom pipeline is invalid (2 problems):');
    expect(lines[1]).toMatch(
      /^pipeline:5:11: server 'alpha' has no tool 'ecko' \(did you mean 'echo'\?\); its tools: echo, /,
    );
    expect(lines[2]).toBe("pipeline:6:13: step 'a' needs unknown step 'b'");
    expect(structured(result)).toMatchObject({ code: 'PIPELINE_INVALID' });
  });

  it('says which pipelines exist when the scenario is unknown, and why a listed one is invalid', async () => {
    const unknown = await route({ scenario: 'paralel' });
    expect(unknown.isError).toBe(true);
    expect(textOf(unknown)).toMatch(
      /^unknown pipeline 'paralel'; pipelines: broken, computed, continue, .*parallel.*, or 'custom'/,
    );
    expect(structured(unknown)).toMatchObject({ code: 'PIPELINE_UNKNOWN' });
    const broken = await route({ scenario: 'broken' });
    expect(broken.isError).toBe(true);
    expect(textOf(broken)).toContain("broken.yaml:3:43: step 'a' needs unknown step 'nope'");
  });

  it('list_pipelines shows every pipeline, an invalid file with its error at file:line:col', async () => {
    const result = await client.callTool({ name: 'list_pipelines', arguments: {} });
    const { pipelines } = structured<{ pipelines: Listed[] }>(result);
    const parallel = pipelines.find((p) => p.name === 'parallel')!;
    expect(parallel).toMatchObject({
      valid: true,
      tool: 'pipeline__parallel',
      description: 'Two sleeps at once, then a step that reads both',
    });
    expect(parallel.inputsSchema.properties).toHaveProperty('ms');
    expect(parallel.steps.find((s) => s.id === 'c')?.needs).toEqual(['a', 'b']);
    const broken = pipelines.find((p) => p.name === 'broken')!;
    expect(broken.valid).toBe(false);
    expect(broken.issues[0]).toMatchObject({
      line: 3,
      column: 43,
      message: "step 'a' needs unknown step 'nope'",
    });
    const gamma = pipelines.find((p) => p.name === 'uses-gamma')!;
    expect(gamma.issues[0]?.message).toMatch(/^unknown server 'gamma'; servers: alpha, beta, tight/);
    expect(textOf(result)).toMatch(
      /broken — INVALID[^\n]*\n {2}\S*broken\.yaml:3:43: step 'a' needs unknown step 'nope'/,
    );
  });

  it('sends a progress notification as each step starts and ends', async () => {
    // Our own handler, not callTool's onprogress: the SDK client handles notifications a microtask
    // late and drops those for a request whose response came in the same read.
    const progress: Progress[] = [];
    client.setNotificationHandler(ProgressNotificationSchema, (n) => {
      if (n.params.progressToken === 'pipeline-progress') progress.push(n.params);
    });
    const result = await client.callTool({
      name: 'pipeline__parallel',
      arguments: { ms: 50 },
      _meta: { progressToken: 'pipeline-progress' },
    });
    expect(structured<Run>(result).status).toBe('succeeded');
    await waitFor(() => progress.length >= 6, { message: 'six progress notifications' });
    const messages = progress.map((p) => p.message?.replace(/\d+ ms/, 'N ms'));
    // a and b start together and may end in either order; c comes after both.
    expect(messages.slice(0, 2).sort()).toEqual([
      "step 'a' started: alpha.sleep",
      "step 'b' started: beta.sleep",
    ]);
    expect(messages.slice(2, 4).sort()).toEqual(["step 'a' succeeded in N ms", "step 'b' succeeded in N ms"]);
    expect(messages.slice(4)).toEqual(["step 'c' started: alpha.echo", "step 'c' succeeded in N ms"]);
    expect(progress.map((p) => p.progress)).toEqual([0.5, 1, 1.5, 2, 2.5, 3]);
    expect(progress.every((p) => p.total === 3)).toBe(true);
  });

  it("cancels the run, and the backend's call, when the client cancels the request", async () => {
    const controller = new AbortController();
    const call = client.callTool({ name: 'route_pipeline', arguments: { scenario: 'slow' } }, undefined, {
      signal: controller.signal,
    });
    await waitFor(() => readLog(alphaLog).some((e) => e.event === 'call' && e.args?.ms === 20001));
    controller.abort('user cancelled');
    await expect(call).rejects.toThrow();
    await waitFor(() => cancellationOf(alphaLog, 20001), { message: 'alpha cancelled by the client' });
  });

  it('checks pipelines again when the backends change: a registered server makes its pipeline valid', async () => {
    const before = listChanged;
    const registered = await client.callTool({
      name: 'register_server',
      arguments: { name: 'gamma', command: NODE, args: [TESTBED, '--name', 'gamma'] },
    });
    expect(registered.isError).toBeFalsy();
    await waitFor(async () =>
      (await client.listTools()).tools.some((t) => t.name === 'pipeline__uses-gamma'),
    );
    expect(listChanged).toBeGreaterThan(before);
    const result = await client.callTool({ name: 'pipeline__uses-gamma', arguments: {} });
    expect(structured<Run>(result).output).toEqual({ hello: { server: 'gamma', args: { hi: 'there' } } });
  });
});

describe('pipelines over Streamable HTTP, with --pipelines and the pipeline tools group off', () => {
  const dir = tempDir();
  const pipelinesDir = path.join(dir, 'elsewhere');
  let gw: HttpGatewayProcess;
  let client: Client;

  beforeAll(async () => {
    mkdirSync(pipelinesDir);
    writeFileSync(path.join(pipelinesDir, 'parallel.yaml'), PIPELINES['parallel.yaml']!);
    const config = writeConfig(
      ['tools: { pipelines: false }', 'servers:', testbedServer('alpha'), testbedServer('beta')].join('\n'),
      dir,
    );
    gw = await startHttpGateway(['--config', config, '--pipelines', pipelinesDir]);
    client = await connectHttp(gw.url);
    await waitFor(async () => (await client.listTools()).tools.some((t) => t.name === 'beta__sleep'), {
      timeoutMs: 20_000,
    });
  });
  afterAll(async () => {
    await client?.close();
    await gw?.close();
  });

  it('serves route_pipeline and list_pipelines but no pipeline__<name> tools', async () => {
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toContain('route_pipeline');
    expect(names).toContain('list_pipelines');
    expect(names.filter((n) => n.startsWith('pipeline__'))).toEqual([]);
  });

  it('runs a pipeline from the --pipelines folder through route_pipeline', async () => {
    const result = await client.callTool({
      name: 'route_pipeline',
      arguments: { scenario: 'parallel', inputs: { ms: 100 } },
    });
    expect(result.isError).toBeFalsy();
    const r = structured<Run>(result);
    expect(r.status).toBe('succeeded');
    expect(r.output?.echoed).toEqual({ from_a: { slept: 100 }, slept_b: 100, text: 'a slept 100 ms' });
    expect(r.steps.a!.startedAt!).toBeLessThan(r.steps.b!.endedAt!);
    expect(r.steps.b!.startedAt!).toBeLessThan(r.steps.a!.endedAt!);
  });
});
