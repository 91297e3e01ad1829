// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax
/**
 * Pipelines through the real gateway's route_pipeline (scenario custom, inline text): a wide pipeline's
 * makespan against its critical path, and a for_each fan-out against the same calls made directly.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { tempDir } from '../helpers/gateway.js';
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

/**
 * Makespan and for_each rows through the gateway's route_pipeline, for pipelines served from a
 * folder: the figures are the runs', not the validation of inline text (which the scheduler rows
 * measure, and which costs a 24-step YAML pipeline a few ms more per call).
 */
export async function gatewayPipelineRows(sizes: Sizes): Promise<Row[]> {
  const dir = tempDir('mcp-gateway-bench-pipelines-');
  const folder = path.join(dir, 'pipelines');
  mkdirSync(folder);
  writeFileSync(path.join(folder, 'wide.yaml'), layeredSleepPipeline('wide', WIDTH));
  writeFileSync(path.join(folder, 'chain.yaml'), layeredSleepPipeline('chain', 1));
  writeFileSync(path.join(folder, 'fanout.yaml'), forEachPipeline());
  const endpoints: Endpoint[] = [];
  try {
    progress('pipelines: starting gateway and direct backend');
    const gateway = await startGateway(
      'stdio',
      gatewayConfig(1, `pipelines: ${JSON.stringify(folder)}\n`, dir),
    );
    endpoints.push(gateway);
    await waitForTools(gateway.client, ['tb__sleep']);
    const { tools } = await gateway.client.listTools();
    if (!tools.some((t) => t.name === 'route_pipeline')) {
      const why = 'route_pipeline is not served by this build';
      return ROWS.map(({ id, name }) => ({ id, name, unit: 'ms' as const, figure: null, note: why }));
    }
    const route = async (scenario: string, inputs: Record<string, unknown> = {}) => {
      const t0 = performance.now();
      const result = await callTool(gateway.client, 'route_pipeline', { scenario, inputs });
      const wall = performance.now() - t0;
      const data = result.structuredContent as { status?: string; durationMs?: number } | undefined;
      if (data?.status !== 'succeeded')
        throw new Error(`route_pipeline ${scenario} did not succeed: ${textOf(result)}`);
      return { wall, engine: data.durationMs ?? Number.NaN };
    };
    const direct = await startDirect();
    endpoints.push(direct);
    const sleep = () => callTool(direct.client, 'sleep', { ms: SLEEP_MS });
    /** The same DAG driven by the client itself: each layer's calls at once, layer after layer. */
    const directDag = async () => {
      const t0 = performance.now();
      for (let layer = 0; layer < LAYERS; layer++) await Promise.all(Array.from({ length: WIDTH }, sleep));
      return performance.now() - t0;
    };

    // Warm-up: the first runs of a freshly started gateway pay for JIT compilation.
    for (let i = 0; i < 5; i++) {
      await route('chain');
      await route('wide');
      await directDag();
    }
    const wideRuns: number[] = [];
    const wideEngine: number[] = [];
    const chainRuns: number[] = [];
    const directRuns: number[] = [];
    for (let i = 0; i < sizes.pipelineRuns; i++) {
      progress(`pipelines: makespan run ${i + 1}/${sizes.pipelineRuns}`);
      const w = await route('wide');
      wideRuns.push(w.wall);
      wideEngine.push(w.engine);
      chainRuns.push((await route('chain')).wall);
      directRuns.push(await directDag());
    }

    const items = Array.from({ length: sizes.forEachItems }, (_, i) => i);
    const echo = () => callTool(direct.client, 'echo', { i: 1, at: 'item 1' });
    // A fresh gateway needs about ten runs of a 1,000-item fan-out before the JIT has settled
    // (the first takes 5–10x as long); so does the direct client.
    for (let i = 0; i < 10; i++) {
      await route('fanout', { items });
      await drive(echo, items.length, FOR_EACH_CONCURRENCY);
    }
    const fanoutRuns: number[] = [];
    const directFanout: number[] = [];
    for (let i = 0; i < sizes.pipelineRuns; i++) {
      progress(`pipelines: for_each run ${i + 1}/${sizes.pipelineRuns}`);
      fanoutRuns.push((await route('fanout', { items })).wall);
      directFanout.push((await drive(echo, items.length, FOR_EACH_CONCURRENCY)).wallMs);
    }

    const runs = `median of ${sizes.pipelineRuns}`;
    const critical = { label: 'critical path', value: CRITICAL_PATH_MS };
    return [
      {
        ...ROWS[0]!,
        unit: 'ms',
        figure: median(wideRuns),
        reference: critical,
        target: { kind: 'overRef', bound: 15 },
        note: `route_pipeline as the client sees it, ${runs}; the engine's own durationMs: ${median(wideEngine).toFixed(0)} ms`,
      },
      { ...ROWS[1]!, unit: 'ms', figure: median(directRuns), reference: critical, note: runs },
      { ...ROWS[2]!, unit: 'ms', figure: median(chainRuns), reference: critical },
      {
        ...ROWS[3]!,
        unit: 'ms',
        figure: median(fanoutRuns),
        reference: {
          label: `direct, ${items.length} calls ${FOR_EACH_CONCURRENCY} in flight`,
          value: median(directFanout),
        },
        note: runs,
      },
    ];
  } finally {
    await Promise.allSettled(endpoints.map((e) => e.close()));
  }
}

const ROWS = [
  {
    id: 'pipeline.wide.makespan',
    name: `pipeline ${LAYERS} layers × ${WIDTH} wide, sleep ${SLEEP_MS} ms: makespan`,
  },
  {
    id: 'pipeline.wide.direct',
    name: `the same ${LAYERS} × ${WIDTH} calls, layer by layer, from an SDK client (no gateway)`,
  },
  { id: 'pipeline.chain.makespan', name: `pipeline ${LAYERS}-step chain, sleep ${SLEEP_MS} ms: makespan` },
  {
    id: 'pipeline.foreach.makespan',
    name: `for_each over 1,000 items (echo), concurrency ${FOR_EACH_CONCURRENCY}: makespan`,
  },
];

function textOf(result: CallToolResult): string {
  return result.content.map((c) => (c.type === 'text' ? c.text : `[${c.type}]`)).join('\n');
}
