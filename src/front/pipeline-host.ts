/**
 * Serves the pipelines folder: holds the current Catalog, offers each valid pipeline as the tool
 * `pipeline__<name>`, and runs pipelines through the backend registry. The catalog is swapped whole
 * (`replace`), so a reload is atomic; a run keeps the CompiledPipeline it started with.
 */
import { EventEmitter } from 'node:events';
import type { BackendRegistry } from '../backends/index.js';
import type { GatewayConfig } from '../config/index.js';
import { GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import {
  type Catalog,
  type CompiledPipeline,
  CUSTOM_SCENARIO,
  type LoadOptions,
  loadCatalog,
  type RunResult,
  runPipeline,
  validatePipelineText,
} from '../pipeline/index.js';
import { pipelineToolName } from './naming.js';
import { formatIssues, ms, progressReporter, runToolResult } from './pipeline-format.js';
import type { CallContext, ServedTool } from './served-tool.js';
import type { ToolSource } from './tool-table.js';

export interface PipelineHostOptions {
  registry: BackendRegistry;
  /** The live config; read on every load and run so a reload is seen. */
  config: () => GatewayConfig;
  /** Overrides the config's pipelines folder (`serve --pipelines DIR`). */
  dir?: string;
  logger: Logger;
}

/** What a run needs from the request that started it. */
export type RunContext = Partial<Pick<CallContext, 'signal' | 'progress'>>;

/** The name issues in a pipeline sent inline carry: `pipeline:3:5: message`. */
export const INLINE_PIPELINE_FILE = 'pipeline';

export class PipelineHost implements ToolSource {
  private catalog: Catalog;
  private served: ServedTool[] | undefined;
  private readonly events = new EventEmitter<{ changed: [] }>();
  /** Bumped by every replace, so a load that started before a newer replace is dropped. */
  private generation = 0;
  /** The backend names the current catalog was checked against; undefined before the first load. */
  private checkedServers: string | undefined;
  private readonly offRegistry: () => void;

  constructor(private readonly options: PipelineHostOptions) {
    this.events.setMaxListeners(0);
    this.catalog = emptyCatalog(this.dir);
    // A file naming a server that was not there becomes valid when it is registered (and the other
    // way round), so the catalog is checked again when the set of backends changes.
    const onBackends = () => this.revalidate();
    options.registry.on('toolsChanged', onBackends);
    this.offRegistry = () => options.registry.off('toolsChanged', onBackends);
  }

  /** The pipelines folder: `--pipelines`, else the config's `pipelines`. */
  get dir(): string {
    return this.options.dir ?? this.options.config().pipelinesDir;
  }

  current(): Catalog {
    return this.catalog;
  }

  /** Swap in a new catalog at once; runs in flight keep theirs. Sends tools/list_changed. */
  replace(catalog: Catalog): void {
    this.generation++;
    this.catalog = catalog;
    this.served = undefined;
    this.events.emit('changed');
  }

  /** Read and validate the folder; does not swap it in. Servers are checked by name, tools are not. */
  load(): Promise<Catalog> {
    const check = this.fileChecks();
    return loadCatalog(this.dir, check.options).then((catalog) => {
      this.checkedServers = check.key;
      return catalog;
    });
  }

  /** Load, swap in and log what was found. */
  async reload(): Promise<Catalog> {
    const catalog = await this.load();
    this.replace(catalog);
    const entries = catalog.list();
    const invalid = entries.filter((e) => !e.valid);
    this.options.logger.info(
      `${entries.length} pipeline(s) in ${catalog.dir}${invalid.length ? `, ${invalid.length} invalid` : ''}`,
    );
    for (const entry of invalid) this.options.logger.warn(`invalid pipeline:\n${formatIssues(entry.issues)}`);
    return catalog;
  }

  tools(): ServedTool[] {
    this.served ??= this.catalog
      .list()
      .filter((e) => e.valid && e.pipeline)
      .map((e) => this.pipelineTool(e.pipeline!));
    return this.served;
  }

  onChange(listener: () => void): () => void {
    this.events.on('changed', listener);
    return () => this.events.off('changed', listener);
  }

  /**
   * The pipeline `route_pipeline` means: a valid one from the folder by name, or for `custom` the
   * text sent inline, validated like a file (issues at `pipeline:line:col`). Throws GatewayErrors
   * PIPELINE_UNKNOWN or PIPELINE_INVALID that say what to do.
   */
  resolve(scenario: string, inlineText?: string): CompiledPipeline {
    if (scenario === CUSTOM_SCENARIO) {
      if (inlineText === undefined) {
        throw new GatewayError(
          'PARAMS_INVALID',
          `route_pipeline: scenario 'custom' needs 'pipeline': the pipeline as YAML or JSON text`,
        );
      }
      const result = validatePipelineText(inlineText, { file: INLINE_PIPELINE_FILE, ...this.liveChecks() });
      if (!result.ok) {
        throw new GatewayError(
          'PIPELINE_INVALID',
          `the custom pipeline is invalid (${plural(result.issues.length, 'problem')}):\n${formatIssues(result.issues)}`,
          { issues: result.issues },
        );
      }
      return result.pipeline;
    }
    if (inlineText !== undefined) {
      throw new GatewayError(
        'PARAMS_INVALID',
        `route_pipeline: 'pipeline' is only read with scenario 'custom'; '${scenario}' is a pipeline from ${this.catalog.dir}`,
      );
    }
    const entry = this.catalog.get(scenario);
    if (!entry) {
      const names = this.catalog.list().map((e) => e.name);
      throw new GatewayError(
        'PIPELINE_UNKNOWN',
        `unknown pipeline '${scenario}'; pipelines: ${names.length ? [...new Set(names)].join(', ') : '(none)'}` +
          `, or 'custom' with the pipeline's YAML or JSON text in 'pipeline'`,
        { scenario, pipelines: [...new Set(names)] },
      );
    }
    if (!entry.valid || !entry.pipeline) {
      throw new GatewayError(
        'PIPELINE_INVALID',
        `pipeline '${scenario}' is invalid (${plural(entry.issues.length, 'problem')}):\n${formatIssues(entry.issues)}`,
        { scenario, file: entry.file, issues: entry.issues },
      );
    }
    return entry.pipeline;
  }

  /**
   * Run `pipeline` on the backends. Inputs are checked first (PARAMS_INVALID names each bad one);
   * step failures, the deadline and cancellation are in the result. The backends' timeouts are
   * read once, at the start: the run keeps the definition and settings it started with.
   */
  async run(pipeline: CompiledPipeline, inputs: unknown, ctx: RunContext = {}): Promise<RunResult> {
    const { registry, logger } = this.options;
    const timeouts = new Map<string, number | undefined>();
    for (const step of pipeline.steps.values()) {
      if (!timeouts.has(step.server)) timeouts.set(step.server, registry.get(step.server)?.config.timeoutMs);
    }
    const progress = ctx.progress;
    const result = await runPipeline(pipeline, inputs, {
      invoker: registry,
      signal: ctx.signal,
      defaultTimeoutMs: this.options.config().defaultTimeoutMs,
      timeoutFor: (server) => timeouts.get(server),
      onEvent: progress ? progressReporter(pipeline.steps.size, progress) : undefined,
    });
    const line = `pipeline '${pipeline.name}' ${result.status} in ${ms(result.durationMs)}`;
    if (result.status === 'succeeded') logger.debug(line);
    else logger.info(`${line}: ${result.error ?? ''}`);
    return result;
  }

  close(): void {
    this.offRegistry();
    this.events.removeAllListeners();
  }

  private pipelineTool(pipeline: CompiledPipeline): ServedTool {
    const steps = [...pipeline.steps.values()].map((s) => `${s.id} (${s.server}.${s.tool})`).join(', ');
    return {
      definition: {
        name: pipelineToolName(pipeline.name),
        title: `Pipeline ${pipeline.name}`,
        description:
          `[pipeline] ${pipeline.description ?? pipeline.name}. Steps: ${steps}. ` +
          'Independent steps run in parallel. Returns the status, the output and each step’s status and time.',
        inputSchema: { ...pipeline.inputsSchema },
      },
      call: async (args, ctx) => runToolResult(await this.run(pipeline, args, ctx)),
    };
  }

  /** Files are checked against the configured and registered servers by name only. */
  private fileChecks(): { options: LoadOptions; key: string } {
    const names = this.serverNames();
    const known = new Set(names);
    return {
      options: { knownTools: (server) => (known.has(server) ? null : undefined), knownServers: names },
      key: names.join('\n'),
    };
  }

  /** An inline pipeline is checked against the backends as they are now, tools included when known. */
  private liveChecks(): LoadOptions {
    const { registry } = this.options;
    return {
      knownTools: (server) => {
        const backend = registry.get(server);
        if (!backend) return undefined;
        return backend.servesTools() ? backend.toolDefinitions().map((t) => t.name) : null;
      },
      knownServers: registry.names(),
    };
  }

  private serverNames(): string[] {
    const names = new Set([
      ...this.options.config().servers.map((s) => s.name),
      ...this.options.registry.names(),
    ]);
    return [...names].sort();
  }

  private revalidate(): void {
    if (this.checkedServers === undefined || this.serverNames().join('\n') === this.checkedServers) return;
    const generation = this.generation;
    this.load().then(
      (catalog) => {
        if (generation === this.generation) this.replace(catalog);
      },
      (err: unknown) =>
        this.options.logger.warn(`reloading pipelines from ${this.dir} failed: ${String(err)}`),
    );
  }
}

function emptyCatalog(dir: string): Catalog {
  return { dir, get: () => undefined, list: () => [] };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
