// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax
/**
 * A `pipeline:` step in on_failure, over the real gateway and a testbed backend: the cleanup pipeline
 * runs after the failure with what failed, and its calls reach the backend.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type StdioGateway,
  startStdioGateway,
  structured,
  tempDir,
  testbedServer,
  waitForTools,
  writeConfig,
} from '../helpers/gateway.js';
import { readTestbedLog } from '../helpers/testbed-log.js';

const UNDO = `name: undo-write
inputs:
  tag: { type: string }
  why: { type: string }
steps:
  undo: { server: alpha, tool: echo, args: { undo: "\${{ $.inputs.tag }}", why: "\${{ $.inputs.why }}" } }
output: \${{ $.steps.undo.output }}
`;

const WRITE = `name: write-then-fail
inputs:
  tag: { type: string }
steps:
  write: { server: alpha, tool: echo, args: { wrote: "\${{ $.inputs.tag }}" } }
  boom: { server: alpha, tool: fail, needs: [write], args: { message: disk full } }
on_failure:
  cleanup:
    pipeline: undo-write
    args:
      tag: \${{ $.inputs.tag }}
      why: '\${{ failure.step + ": " + failure.error }}'
`;

describe('pipeline: steps in on_failure', () => {
  const dir = tempDir();
  const log = path.join(dir, 'alpha.log');
  let gw: StdioGateway;

  beforeAll(async () => {
    mkdirSync(path.join(dir, 'pipelines'));
    writeFileSync(path.join(dir, 'pipelines', 'undo-write.yaml'), UNDO);
    writeFileSync(path.join(dir, 'pipelines', 'write-then-fail.yaml'), WRITE);
    const config = writeConfig(
      [
        'pipelines: ./pipelines',
        'servers:',
        testbedServer('alpha', [], `    env: { TESTBED_LOG: ${JSON.stringify(log)} }\n`),
      ].join('\n'),
      dir,
    );
    gw = await startStdioGateway(['serve', '--config', config]);
    await waitForTools(gw.client, ['alpha__echo', 'pipeline__write-then-fail']);
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('runs the cleanup pipeline after the failure, with the failed step and its error', async () => {
    // Through the pipeline's own tool: the SDK Client checks the failed run's report against its outputSchema.
    const result = (await gw.client.callTool({
      name: 'pipeline__write-then-fail',
      arguments: { tag: 'run-7' },
    })) as CallToolResult;
    expect(result.isError).toBe(true);
    const run = structured<{
      status: string;
      failedStep: string;
      compensation: {
        status: string;
        steps: Record<string, { status: string; child?: { pipeline: string } }>;
      };
    }>(result);
    expect(run).toMatchObject({ status: 'failed', failedStep: 'boom' });
    expect(run.compensation.status).toBe('succeeded');
    expect(run.compensation.steps.cleanup).toMatchObject({
      status: 'succeeded',
      child: { pipeline: 'undo-write' },
    });
    const undo = readTestbedLog(log).filter((e) => e.event === 'call' && e.args?.undo === 'run-7');
    expect(undo).toHaveLength(1);
    expect(String(undo[0]!.args!.why)).toMatch(/^boom: .*disk full/);
  });
});
