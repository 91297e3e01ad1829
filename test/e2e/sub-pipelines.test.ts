// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type Progress, ProgressNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  runCli,
  type StdioGateway,
  startStdioGateway,
  structured,
  tempDir,
  testbedServer,
  writeConfig,
} from '../helpers/gateway.js';
import { readTestbedLog } from '../helpers/testbed-log.js';
import { waitFor } from '../helpers/wait.js';

interface Step {
  status: string;
  error?: string;
  output?: unknown;
  child?: { pipeline: string; status: string; failedStep?: string; steps: Record<string, Step> };
}
interface Run {
  status: string;
  output: unknown;
  error?: string;
  failedStep?: string;
  steps: Record<string, Step>;
}
type LogEvent = { event: string; tool?: string; args?: Record<string, unknown> };

const PIPELINES: Record<string, string> = {
  'sum.yaml': `
name: sum
inputs:
  a: { type: integer }
  b: { type: integer }
steps:
  add: { server: alpha, tool: add, args: { a: "\${{ $.inputs.a }}", b: "\${{ $.inputs.b }}" } }
output: \${{ $.steps.add.output.sum }}
`,
  'report.yaml': `
name: report
steps:
  total: { pipeline: sum, args: { a: 2, b: 40 } }
  show: { server: alpha, tool: echo, args: { total: "\${{ $.steps.total.output }}" } }
output: \${{ $.steps.show.output.args.total }}
`,
  'broken-child.yaml': `
name: broken-child
steps:
  boom: { server: alpha, tool: fail, args: { message: child exploded } }
`,
  'calls-broken.yaml': `
name: calls-broken
steps:
  first: { pipeline: broken-child }
  never: { server: alpha, tool: echo, needs: [first], args: { never: true } }
`,
};

describe('pipelines that call pipelines, through the gateway', () => {
  const dir = tempDir();
  const alphaLog = path.join(dir, 'alpha.log');
  let gw: StdioGateway;
  let client: Client;

  beforeAll(async () => {
    mkdirSync(path.join(dir, 'pipelines'));
    for (const [file, text] of Object.entries(PIPELINES)) {
      writeFileSync(path.join(dir, 'pipelines', file), text);
    }
    const config = writeConfig(
      [
        'pipelines: ./pipelines',
        'servers:',
        testbedServer('alpha', [], `    env: { TESTBED_LOG: ${JSON.stringify(alphaLog)} }\n`),
      ].join('\n'),
      dir,
    );
    gw = await startStdioGateway(['serve', '--config', config]);
    client = gw.client;
    await waitFor(async () => (await client.listTools()).tools.some((t) => t.name === 'pipeline__report'), {
      timeoutMs: 20_000,
    });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it("runs the child as a step: its output is the step's, its steps are nested, its progress too", async () => {
    const progress: Progress[] = [];
    client.setNotificationHandler(ProgressNotificationSchema, (n) => {
      if (n.params.progressToken === 'nested') progress.push(n.params);
    });
    const result = await client.callTool({
      name: 'route_pipeline',
      arguments: { scenario: 'report' },
      _meta: { progressToken: 'nested' },
    });
    const run = structured<Run>(result);
    expect(run.status).toBe('succeeded');
    expect(run.output).toBe(42);
    expect(run.steps.total!.child).toMatchObject({ pipeline: 'sum', status: 'succeeded' });
    expect(run.steps.total!.child!.steps.add).toMatchObject({ status: 'succeeded' });
    await waitFor(() => progress.length >= 6, { message: 'progress for the parent and child steps' });
    const messages = progress.map((p) => p.message?.replace(/\d+ ms/, 'N ms'));
    expect(messages.slice(0, 4)).toEqual([
      "step 'total' started: pipeline sum",
      "step 'total > add' started: alpha.add",
      "step 'total > add' succeeded in N ms",
      "step 'total' succeeded in N ms",
    ]);
    const values = progress.map((p) => p.progress);
    expect(values.every((v, i) => i === 0 || v > values[i - 1]!)).toBe(true);
    expect(readTestbedLog<LogEvent>(alphaLog).some((e) => e.event === 'call' && e.tool === 'add')).toBe(true);
  });

  it("a failing child fails the parent's step and the parent, naming the child's step", async () => {
    const result = await client.callTool({ name: 'route_pipeline', arguments: { scenario: 'calls-broken' } });
    expect(result.isError).toBe(true);
    const run = structured<Run>(result);
    expect(run.status).toBe('failed');
    expect(run.failedStep).toBe('first');
    expect(run.error).toBe(
      "step 'first' failed: pipeline 'broken-child' failed: step 'boom' failed: child exploded",
    );
    expect(run.steps.first!.child).toMatchObject({ status: 'failed', failedStep: 'boom' });
    expect(run.steps.never!.status).toBe('skipped');
  });

  it('lets a custom pipeline call a pipeline of the folder, and checks its inputs first', async () => {
    const ok = await client.callTool({
      name: 'route_pipeline',
      arguments: {
        scenario: 'custom',
        pipeline:
          'name: mine\nsteps:\n  s: { pipeline: sum, args: { a: 1, b: 2 } }\noutput: "${{ $.steps.s.output }}"\n',
      },
    });
    expect(structured<Run>(ok).output).toBe(3);
    const bad = await client.callTool({
      name: 'route_pipeline',
      arguments: {
        scenario: 'custom',
        pipeline: 'name: mine\nsteps:\n  s: { pipeline: sum, args: { a: 1, c: 2 } }\n',
      },
    });
    expect(bad.isError).toBe(true);
    const text = (bad.content as { text: string }[])[0]!.text;
    expect(text).toContain("pipeline:3:23: steps.s: pipeline 'sum' needs input 'b' in args");
    expect(text).toContain("pipeline:3:37: steps.s: pipeline 'sum' has no input 'c'");
  });
});

describe('mcp-gateway validate: calls between pipelines', () => {
  it('reports a cycle across two files at the pipeline: key of each', async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'pipelines'));
    writeFileSync(
      path.join(dir, 'pipelines', 'ping.yaml'),
      [
        'name: ping',
        'steps:',
        '  hello: { server: alpha, tool: echo }',
        '  back:',
        '    pipeline: pong',
        '',
      ].join('\n'),
    );
    writeFileSync(
      path.join(dir, 'pipelines', 'pong.yaml'),
      ['name: pong', 'steps:', '  again: { pipeline: ping }', ''].join('\n'),
    );
    const config = writeConfig(
      ['pipelines: ./pipelines', 'servers:', testbedServer('alpha'), ''].join('\n'),
      dir,
    );
    const result = await runCli(['validate', '--config', config, '--offline'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      'pipelines/ping.yaml:5:5: steps.back: pipeline call cycle: ping -> pong -> ping',
    );
    expect(result.stdout).toContain(
      'pipelines/pong.yaml:3:12: steps.again: pipeline call cycle: pong -> ping -> pong',
    );
  });
});
