// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax
/**
 * The scheduler's own cost, in-process (src/pipeline) with an instant ToolInvoker: validating and
 * planning a 1,000-step DAG, and running it.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { parse as parseYaml } from 'yaml';
import type { ToolInvoker } from '../../src/backends/types.js';
import {
  checkDataFlow,
  deriveOutputSchema,
  runPipeline,
  type TypeCheckEnv,
  validatePipelineText,
} from '../../src/pipeline/index.js';
import type { CompiledPipeline } from '../../src/pipeline/types.js';
import { medianTime, progress, type Row } from './harness.js';
import type { Sizes } from './run.js';

export const SCHEDULER_STEPS = 1000;
const SCHEDULER_WIDTH = 50;

/**
 * A layered DAG of exactly `steps` steps on an instant backend: a root fans out to the first layer;
 * every later step reads two steps of the layer before through JSONPath (one whole-value, one inside a
 * string) and `needs` a third; a sink fans in the whole last layer.
 */
export function schedulerPipeline(
  steps = SCHEDULER_STEPS,
  width = SCHEDULER_WIDTH,
  computed = false,
): Record<string, unknown> {
  const middle = steps - 2;
  const layers: string[][] = [];
  for (let i = 0; i < middle; i++) {
    const layer = Math.floor(i / width);
    if (i % width === 0) layers.push([]);
    layers[layer]!.push(`s${layer}_${i % width}`);
  }
  const out: Record<string, unknown> = {
    root: { server: 'fast', tool: 'op', args: { seed: 1 } },
  };
  layers.forEach((ids, layer) => {
    const prev = layer === 0 ? ['root'] : layers[layer - 1]!;
    ids.forEach((id, j) => {
      const a = prev[j % prev.length]!;
      const b = prev[(j + 1) % prev.length]!;
      const c = prev[(j + 7) % prev.length]!;
      out[id] = {
        server: 'fast',
        tool: 'op',
        args: { a: `\${{ $.steps.${a}.output.n }}`, b: `from ${b}: \${{ $.steps.${b}.output.n }}` },
        ...(c !== a && c !== b ? { needs: [c] } : {}),
        // The computed variant: a CEL comparison decides each step, on top of the same reads.
        ...(computed ? { when: `\${{ steps.${a}.output.n > 0 && steps.${b}.status == "succeeded" }}` } : {}),
      };
    });
  });
  out.sink = { server: 'fast', tool: 'op', needs: layers.at(-1) };
  return {
    name: 'scheduler',
    description: `${steps} steps, ${layers.length} layers of ${width}${computed ? ', a CEL when per step' : ''}`,
    steps: out,
    output: { n: '${{ $.steps.sink.output.n }}' },
  };
}

/** The pipeline as YAML text, block style, as a person would write it. */
export function toYaml(pipeline: Record<string, unknown>): string {
  const lines = [`name: ${String(pipeline.name)}`, `description: ${String(pipeline.description)}`, 'steps:'];
  for (const [id, step] of Object.entries(pipeline.steps as Record<string, Record<string, unknown>>)) {
    lines.push(`  ${id}:`, `    server: ${String(step.server)}`, `    tool: ${String(step.tool)}`);
    if (step.args) {
      lines.push('    args:');
      for (const [k, v] of Object.entries(step.args as Record<string, unknown>)) {
        lines.push(`      ${k}: ${JSON.stringify(v)}`);
      }
    }
    if (Array.isArray(step.needs)) lines.push(`    needs: [${step.needs.join(', ')}]`);
    if (typeof step.when === 'string') lines.push(`    when: ${JSON.stringify(step.when)}`);
  }
  lines.push('output:');
  for (const [k, v] of Object.entries(pipeline.output as Record<string, unknown>)) {
    lines.push(`  ${k}: ${JSON.stringify(v)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Answers at once, like a backend with no work to do: no I/O, one resolved promise. */
export const instantInvoker: ToolInvoker = {
  callTool: async (): Promise<CallToolResult> => ({
    content: [{ type: 'text', text: '{"n":1}' }],
    structuredContent: { n: 1 },
  }),
};

/** The instant backend's tool as it would list it: `a` an integer, `b` a string, output `{ n: integer }`. */
const typedTool = {
  inputSchema: { type: 'object', properties: { a: { type: 'integer' }, b: { type: 'string' } } },
  outputSchema: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] },
};
const typedTools: TypeCheckEnv = { tool: () => typedTool };

/** Validation with the data-flow check on, as `validate` does online: every value typed and fitted. */
function compileAndTypeCheck(text: string): void {
  const pipeline = compileOrThrow(text);
  const problems = checkDataFlow(pipeline, typedTools);
  if (problems.length > 0) throw new Error(`bench pipeline has type problems: ${problems[0]!.message}`);
  deriveOutputSchema(pipeline, typedTools);
}

function compileOrThrow(text: string): CompiledPipeline {
  const result = validatePipelineText(text);
  if (!result.ok) throw new Error(`bench pipeline is invalid:\n${JSON.stringify(result.issues.slice(0, 5))}`);
  return result.pipeline;
}

export async function schedulerRows(sizes: Sizes): Promise<Row[]> {
  const data = schedulerPipeline();
  const yamlText = toYaml(data);
  const jsonText = JSON.stringify(data, null, 2);
  const runs = sizes.schedulerRuns;
  progress(`scheduler: validate ${SCHEDULER_STEPS} steps (${runs} runs each)`);
  const compiled = compileOrThrow(yamlText);
  compileOrThrow(jsonText);
  const validateYaml = await medianTime(() => compileOrThrow(yamlText), runs);
  const parseYamlOnly = await medianTime(() => parseYaml(yamlText), runs);
  const validateJson = await medianTime(() => compileOrThrow(jsonText), runs);
  compileAndTypeCheck(yamlText);
  const validateTyped = await medianTime(() => compileAndTypeCheck(yamlText), runs);
  const parseJsonOnly = await medianTime(() => JSON.parse(jsonText), runs);

  progress(`scheduler: run ${SCHEDULER_STEPS} steps (${runs} runs)`);
  const runOnce = async () => {
    const result = await runPipeline(compiled, {}, { invoker: instantInvoker });
    if (result.status !== 'succeeded') throw new Error(`scheduler run ${result.status}: ${result.error}`);
  };
  await runOnce();
  await runOnce();
  const runMs = await medianTime(runOnce, runs);
  progress(`scheduler: validate and run ${SCHEDULER_STEPS} steps with a CEL expression each (${runs} runs)`);
  const celText = toYaml(schedulerPipeline(SCHEDULER_STEPS, SCHEDULER_WIDTH, true));
  const celCompiled = compileOrThrow(celText);
  const validateCel = await medianTime(() => compileOrThrow(celText), runs);
  const runCel = async () => {
    const result = await runPipeline(celCompiled, {}, { invoker: instantInvoker });
    if (result.status !== 'succeeded') throw new Error(`scheduler run ${result.status}: ${result.error}`);
    if (Object.values(result.steps).some((st) => st.status !== 'succeeded'))
      throw new Error('a step was skipped');
  };
  await runCel();
  await runCel();
  const runCelMs = await medianTime(runCel, runs);
  const loopMs = await medianTime(async () => {
    for (let i = 0; i < SCHEDULER_STEPS; i++) await instantInvoker.callTool('fast', 'op', { a: i });
  }, runs);

  const note = `median of ${runs} warm runs`;
  return [
    {
      id: 'scheduler.validate.yaml',
      name: `validate + plan ${SCHEDULER_STEPS.toLocaleString('en-US')} steps (YAML text)`,
      unit: 'ms',
      figure: validateYaml,
      reference: { label: 'yaml.parse alone', value: parseYamlOnly },
      target: { kind: 'max', bound: 50 },
      note,
    },
    {
      id: 'scheduler.validate.json',
      name: `validate + plan ${SCHEDULER_STEPS.toLocaleString('en-US')} steps (JSON text)`,
      unit: 'ms',
      figure: validateJson,
      reference: { label: 'JSON.parse alone', value: parseJsonOnly },
      target: { kind: 'max', bound: 50 },
      note,
    },
    {
      id: 'scheduler.validate.types',
      name: `validate + plan + type-check the data flow of ${SCHEDULER_STEPS.toLocaleString('en-US')} steps (YAML)`,
      unit: 'ms',
      figure: validateTyped,
      reference: { label: 'the same without the type check', value: validateYaml },
      target: { kind: 'max', bound: 100 },
      note: `${note}; 2 typed values per step, and the derived output schema`,
    },
    {
      id: 'scheduler.run.perStep',
      name: `run overhead per step (${SCHEDULER_STEPS.toLocaleString('en-US')}-step DAG, instant backend)`,
      unit: 'ms/step',
      figure: runMs / SCHEDULER_STEPS,
      reference: { label: 'plain await loop', value: loopMs / SCHEDULER_STEPS },
      target: { kind: 'max', bound: 0.1 },
      note: `${note}; whole run ${runMs.toFixed(1)} ms`,
    },
    {
      id: 'scheduler.validate.cel',
      name: `validate + plan ${SCHEDULER_STEPS.toLocaleString('en-US')} steps with a CEL \`when\` each (YAML)`,
      unit: 'ms',
      figure: validateCel,
      reference: { label: 'the same without CEL', value: validateYaml },
      target: { kind: 'max', bound: 100 },
      note,
    },
    {
      id: 'scheduler.run.cel.perStep',
      name: `run overhead per step with a CEL \`when\` each (${SCHEDULER_STEPS.toLocaleString('en-US')} steps)`,
      unit: 'ms/step',
      figure: runCelMs / SCHEDULER_STEPS,
      reference: { label: 'the same without CEL', value: runMs / SCHEDULER_STEPS },
      target: { kind: 'max', bound: 0.1 },
      note: `${note}; whole run ${runCelMs.toFixed(1)} ms`,
    },
  ];
}
