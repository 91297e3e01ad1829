// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  runCli,
  type StdioGateway,
  startStdioGateway,
  structured,
  tempDir,
  testbedServer,
  textOf,
  writeConfig,
} from '../helpers/gateway.js';
import { readTestbedLog } from '../helpers/testbed-log.js';
import { waitFor } from '../helpers/wait.js';

const PIPELINE = `name: cleanup
inputs:
  fail: { type: boolean }
  tag: { type: string }
steps:
  write: { server: alpha, tool: echo, args: { wrote: "\${{ $.inputs.tag }}" } }
  boom:
    server: alpha
    tool: fail
    when: \${{ $.inputs.fail }}
    needs: [write]
    args: { message: disk full }
on_failure:
  undo:
    server: alpha
    tool: echo
    args:
      undo: \${{ $.inputs.tag }}
      why: \${{ $.failure.error }}
      step: \${{ $.failure.step }}
`;

interface Run {
  status: string;
  failedStep?: string;
  compensation?: { status: string; steps: Record<string, { status: string }> };
}

describe('on_failure over the real gateway and a testbed backend', () => {
  const dir = tempDir();
  const log = path.join(dir, 'alpha.log');
  let gw: StdioGateway;
  let config: string;

  const undoCalls = (tag: string) =>
    readTestbedLog(log).filter((e) => e.event === 'call' && e.tool === 'echo' && e.args?.undo === tag);

  beforeAll(async () => {
    mkdirSync(path.join(dir, 'pipelines'));
    writeFileSync(path.join(dir, 'pipelines', 'cleanup.yaml'), PIPELINE);
    config = writeConfig(
      [
        'timeout: 10s',
        'pipelines: ./pipelines',
        'servers:',
        testbedServer('alpha', [], `    env: { TESTBED_LOG: ${JSON.stringify(log)} }\n`),
      ].join('\n'),
      dir,
    );
    gw = await startStdioGateway(['serve', '--config', config]);
    await waitFor(async () => (await gw.client.listTools()).tools.some((t) => t.name === 'alpha__echo'), {
      timeoutMs: 20_000,
    });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('calls the on_failure step with the failed step and its error after a failed run', async () => {
    const result = await gw.client.callTool({
      name: 'route_pipeline',
      arguments: { scenario: 'cleanup', inputs: { fail: true, tag: 'run-1' } },
    });
    const run = structured<Run>(result);
    expect(run.status).toBe('failed');
    expect(run.failedStep).toBe('boom');
    expect(run.compensation?.status).toBe('succeeded');
    expect(run.compensation?.steps.undo?.status).toBe('succeeded');
    expect(textOf(result)).toContain('on_failure succeeded in');
    const calls = undoCalls('run-1');
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args).toMatchObject({ undo: 'run-1', why: 'disk full', step: 'boom' });
  });

  it('does not call it when the run succeeds', async () => {
    const result = await gw.client.callTool({
      name: 'route_pipeline',
      arguments: { scenario: 'cleanup', inputs: { fail: false, tag: 'run-2' } },
    });
    const run = structured<Run>(result);
    expect(run.status).toBe('succeeded');
    expect(run.compensation).toBeUndefined();
    // The main step's call is logged; the compensation would have been logged right after it.
    expect(readTestbedLog(log).some((e) => e.event === 'call' && e.args?.wrote === 'run-2')).toBe(true);
    expect(undoCalls('run-2')).toHaveLength(0);
  });

  it('mcp-gateway run prints the compensation line and runs it', async () => {
    const result = await runCli(
      ['run', 'cleanup', '--config', config, '--input', 'fail=true', '--input', 'tag=run-3'],
      { timeoutMs: 60_000 },
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^✓ undo +done in /m);
    expect(result.stderr).toMatch(/^on_failure succeeded in /m);
    expect(undoCalls('run-3')).toHaveLength(1);
  });
});
