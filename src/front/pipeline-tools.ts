/**
 * The gateway's pipeline meta-tools: `route_pipeline` runs a pipeline from the folder or one sent
 * inline, `list_pipelines` shows them all, valid or not.
 */
import type { Tool } from '@modelcontextprotocol/server';
import { MAX_RUNS } from '../cluster/index.js';
import { GatewayError } from '../errors.js';
import { CUSTOM_SCENARIO, servedPipeline, summarize } from '../pipeline/index.js';
import { pipelineVisible, runsFor } from './caller-view.js';
import { pipelineToolName } from './naming.js';
import { formatSummaries, runToolResult } from './pipeline-format.js';
import type { PipelineHost } from './pipeline-host.js';
import { formatRuns } from './run-records.js';
import type { ServedTool } from './served-tool.js';
import { jsonResult } from './served-tool.js';
import { describeType, isPlainObject, optionalString, requireString } from './tool-args.js';

export function pipelineMetaTools(host: PipelineHost): ServedTool[] {
  return [routePipeline(host), listPipelines(host)];
}

const ROUTE_DESCRIPTION =
  'Run a declarative multi-step pipeline: its steps call backend tools, independent steps run in ' +
  'parallel, and later steps read earlier results. `scenario` is the name of a pipeline (list_pipelines ' +
  "shows them with their inputs), or 'custom' to run the pipeline given as YAML or JSON text in " +
  '`pipeline`. Returns the run status (succeeded, failed, cancelled), the output, and each step’s ' +
  'status, calls, time and error.';

function routePipeline(host: PipelineHost): ServedTool {
  return {
    // A getter: the pipelines named in the description follow the catalog (the tool table is rebuilt
    // on every catalog change).
    get definition(): Tool {
      const catalog = host.current();
      const names = catalog
        .list()
        .filter((e) => catalog.get(e.name) === e)
        .map((e) => servedPipeline(e))
        .filter((p) => p !== undefined)
        .map((p) => (p.description ? `${p.name} (${p.description})` : p.name));
      return {
        name: 'route_pipeline',
        title: 'Run a pipeline',
        description: `${ROUTE_DESCRIPTION}${names.length ? ` Pipelines: ${names.join('; ')}.` : ''}`,
        inputSchema: {
          type: 'object',
          properties: {
            scenario: {
              type: 'string',
              description: `A pipeline's name, or '${CUSTOM_SCENARIO}' to run the one in 'pipeline'`,
            },
            inputs: {
              description: "The pipeline's inputs: an object, or a JSON string of one",
              anyOf: [{ type: 'object' }, { type: 'string' }],
            },
            pipeline: {
              type: 'string',
              description: `For scenario '${CUSTOM_SCENARIO}': the pipeline as YAML or JSON text, in the pipeline file format`,
            },
          },
          required: ['scenario'],
        },
      };
    },
    async call(args, ctx) {
      const scenario = requireString(args, 'scenario', 'route_pipeline');
      const text = optionalString(args, 'pipeline', 'route_pipeline');
      const inputs = readInputs(args.inputs);
      const pipeline = host.resolve(scenario, text);
      return runToolResult(await host.run(pipeline, inputs, ctx));
    },
  };
}

function listPipelines(host: PipelineHost): ServedTool {
  return {
    definition: {
      name: 'list_pipelines',
      title: 'List pipelines',
      description:
        'Every pipeline in the pipelines folder: name, description, inputs schema, steps and what each ' +
        'waits for, and whether the file is valid (with each problem at file:line:column when not, and ' +
        'servingLastGood when the version from before it broke still serves), and typeProblems: where a ' +
        "value cannot (error) or may not (warning) fit the tool parameter it feeds, per the backends' schemas. " +
        'With `runs: N`, also the N most recent runs (of every replica, when the gateway runs as several): ' +
        'status, replica, times, error and each step’s status, attempts and time.',
      inputSchema: {
        type: 'object',
        properties: {
          runs: {
            type: 'integer',
            minimum: 0,
            maximum: MAX_RUNS,
            description: `How many recent runs to list, newest first (0–${MAX_RUNS}); default none`,
          },
        },
      },
    },
    async call(args, ctx) {
      const runs = runCount(args.runs);
      const catalog = host.current();
      // A caller restricted by http.auth.rules is told only of the pipelines it may list (caller-view.ts).
      const access = ctx.access;
      const entries = access ? catalog.list().filter((e) => pipelineVisible(access, e.name)) : catalog.list();
      const pipelines = entries.map((entry) => {
        const summary = summarize(entry);
        const serves = catalog.get(entry.name) === entry && servedPipeline(entry) !== undefined;
        const typeProblems = serves ? host.types.problemsOf(entry.file) : [];
        return {
          ...summary,
          ...(serves ? { tool: pipelineToolName(entry.name) } : {}),
          ...(typeProblems.length ? { typeProblems: [...typeProblems] } : {}),
        };
      });
      if (runs === 0)
        return jsonResult({ dir: catalog.dir, pipelines }, formatSummaries(catalog.dir, pipelines));
      const all = await host.recentRuns(runs);
      const recent = access ? runsFor(access, all) : all;
      return jsonResult(
        { dir: catalog.dir, pipelines, runs: recent },
        `${formatSummaries(catalog.dir, pipelines)}\n\n${formatRuns(recent)}`,
      );
    },
  };
}

function runCount(value: unknown): number {
  if (value === undefined || value === null) return 0;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_RUNS)
    throw new GatewayError(
      'PARAMS_INVALID',
      `list_pipelines: 'runs' must be a whole number from 0 to ${MAX_RUNS}, got ${describeType(value)}`,
    );
  return value;
}

/** `inputs` as an object, or a JSON string of one; absent means none. */
function readInputs(value: unknown): Record<string, unknown> {
  if (value === undefined || value === null || value === '') return {};
  if (isPlainObject(value)) return value;
  if (typeof value === 'string') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch (err) {
      throw new GatewayError(
        'PARAMS_INVALID',
        `route_pipeline: 'inputs' is not valid JSON: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    if (isPlainObject(parsed)) return parsed;
    value = parsed;
  }
  throw new GatewayError(
    'PARAMS_INVALID',
    `route_pipeline: 'inputs' must be an object or a JSON string of one, got ${describeType(value)}`,
  );
}
