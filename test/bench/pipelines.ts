// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax
/**
 * Pipelines through the real gateway's route_pipeline (scenario custom, inline text): a wide pipeline's
 * makespan against its critical path, and a for_each fan-out against the same calls made directly.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { drive, median, progress, type Row } from './harness.js';
import {
  callTool,
  type Endpoint,
  gatewayConfig,
  startDirect,
  startGateway,
  waitForTools,
} from './processes.js';
import type { Sizes } from './run.js';

const SLEEP_MS = 100;
const LAYERS = 3;
const WIDTH = 8;
const CRITICAL_PATH_MS = LAYERS * SLEEP_MS;
const FOR_EACH_CONCURRENCY = 32;

/** `LAYERS` layers of `width` sleep steps; each step needs the whole previous layer (fan-in, fan-out). */
export function layeredSleepPipeline(name: string, width: number): string {
  const lines = [`name: ${name}`, `concurrency: ${Math.max(width, 1)}`, 'steps:'];
  for (let layer = 0; layer < LAYERS; layer++) {
    for (let i = 0; i < width; i++) {
      lines.push(`  l${layer}_${i}:`, '    server: tb', '    tool: sleep');
      if (layer === 0) lines.push(`    args: { ms: ${SLEEP_MS} }`);
      else {
        const prev = Array.from({ length: width }, (_, j) => `l${layer - 1}_${j}`);
        lines.push(`    args: { ms: "\${{ $.steps.l${layer - 1}_${i}.output.slept }}" }`);
        lines.push(`    needs: [${prev.join(', ')}]`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

export function forEachPipeline(): string {
  return [
    'name: fanout',
    `concurrency: ${FOR_EACH_CONCURRENCY}`,
    'inputs:',
    '  items: { type: array }',
    'steps:',
    '  each:',
    '    server: tb',
    '    tool: echo',
    '    for_each: ${{ $.inputs.items }}',
    `    concurrency: ${FOR_EACH_CONCURRENCY}`,
    '    args: { i: "${{ $.item }}", at: "item ${{ $.index }}" }',
    'output:',
    '  last: ${{ $.steps.each.output[-1:].args.i }}',
    '',
  ].join('\n');
}

/** Makespan and for_each rows through the gateway's route_pipeline. */
export async function gatewayPipelineRows(sizes: Sizes): Promise<Row[]> {
  const endpoints: Endpoint[] = [];
  try {
    progress('pipelines: starting gateway and direct backend');
    const gateway = await startGateway('stdio', gatewayConfig(1));
    endpoints.push(gateway);
    await waitForTools(gateway.client, ['tb__sleep']);
    const { tools } = await gateway.client.listTools();
    if (!tools.some((t) => t.name === 'route_pipeline')) {
      const why = 'route_pipeline is not served by this build';
      return [
        { id: 'pipeline.wide.makespan', name: wideName, unit: 'ms', figure: null, note: why },
        { id: 'pipeline.chain.makespan', name: chainName, unit: 'ms', figure: null, note: why },
        { id: 'pipeline.foreach.makespan', name: forEachName, unit: 'ms', figure: null, note: why },
      ];
    }
    const route = async (text: string, inputs: Record<string, unknown> = {}) => {
      const t0 = performance.now();
      const result = await callTool(gateway.client, 'route_pipeline', {
        scenario: 'custom',
        pipeline: text,
        inputs,
      });
      const wall = performance.now() - t0;
      const data = result.structuredContent as { status?: string; durationMs?: number } | undefined;
      if (data?.status !== 'succeeded') throw new Error(`route_pipeline did not succeed: ${textOf(result)}`);
      return { wall, engine: data.durationMs ?? Number.NaN };
    };

    const wide = layeredSleepPipeline('wide', WIDTH);
    const chain = layeredSleepPipeline('chain', 1);
    await route(chain); // warm-up: the first run compiles the pipeline code paths
    const wideRuns: number[] = [];
    const wideEngine: number[] = [];
    const chainRuns: number[] = [];
    for (let i = 0; i < sizes.pipelineRuns; i++) {
      progress(`pipelines: makespan run ${i + 1}/${sizes.pipelineRuns}`);
      const w = await route(wide);
      wideRuns.push(w.wall);
      wideEngine.push(w.engine);
      chainRuns.push((await route(chain)).wall);
    }

    const direct = await startDirect();
    endpoints.push(direct);
    const items = Array.from({ length: sizes.forEachItems }, (_, i) => i);
    const fanout = forEachPipeline();
    const echo = () => callTool(direct.client, 'echo', { i: 1, at: 'item 1' });
    await drive(echo, 200, FOR_EACH_CONCURRENCY);
    await route(fanout, { items: items.slice(0, 100) });
    const fanoutRuns: number[] = [];
    const directRuns: number[] = [];
    for (let i = 0; i < sizes.pipelineRuns; i++) {
      progress(`pipelines: for_each run ${i + 1}/${sizes.pipelineRuns}`);
      fanoutRuns.push((await route(fanout, { items })).wall);
      directRuns.push((await drive(echo, items.length, FOR_EACH_CONCURRENCY)).wallMs);
    }

    return [
      {
        id: 'pipeline.wide.makespan',
        name: wideName,
        unit: 'ms',
        figure: median(wideRuns),
        reference: { label: 'critical path', value: CRITICAL_PATH_MS },
        target: { kind: 'overRef', bound: 15 },
        note: `client-side wall time of route_pipeline, median of ${sizes.pipelineRuns}; the engine's own durationMs: ${median(wideEngine).toFixed(0)} ms`,
      },
      {
        id: 'pipeline.chain.makespan',
        name: chainName,
        unit: 'ms',
        figure: median(chainRuns),
        reference: { label: 'critical path', value: CRITICAL_PATH_MS },
      },
      {
        id: 'pipeline.foreach.makespan',
        name: forEachName,
        unit: 'ms',
        figure: median(fanoutRuns),
        reference: {
          label: `direct, ${items.length} calls ${FOR_EACH_CONCURRENCY} in flight`,
          value: median(directRuns),
        },
      },
    ];
  } finally {
    await Promise.allSettled(endpoints.map((e) => e.close()));
  }
}

const wideName = `pipeline ${LAYERS} layers × ${WIDTH} wide, sleep ${SLEEP_MS} ms: makespan`;
const chainName = `pipeline ${LAYERS}-step chain, sleep ${SLEEP_MS} ms: makespan`;
const forEachName = `for_each over 1,000 items (echo), concurrency ${FOR_EACH_CONCURRENCY}: makespan`;

function textOf(result: CallToolResult): string {
  return result.content.map((c) => (c.type === 'text' ? c.text : `[${c.type}]`)).join('\n');
}
