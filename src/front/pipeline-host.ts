/**
 * Serves the pipelines folder: holds the current Catalog, offers each pipeline that serves as the
 * tool `pipeline__<name>`, and runs pipelines through the backend registry. The catalog is swapped
 * whole (`replace`), so a reload is atomic; a run keeps the CompiledPipeline it started with. Every
 * reload from disk — start-up, the folder watcher, a change in the set of backends — goes through
 * `reload`: one at a time, merged with what served (`mergeCatalog`), so a file that breaks keeps its
 * last good version serving until it is fixed or deleted.
 */
import { EventEmitter } from 'node:events';
import { stat } from 'node:fs/promises';
import type { Tool } from '@modelcontextprotocol/server';
import type { BackendRegistry } from '../backends/index.js';
import type { GatewayConfig } from '../config/index.js';
import { errorMessage, GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import { CUSTOM_LABEL, telemetry } from '../observability/index.js';
import {
  allSteps,
  type Catalog,
  type CatalogEntry,
  type CompiledPipeline,
  CUSTOM_SCENARIO,
  callClosure,
  formatIssue,
  type LoadOptions,
  loadCatalog,
  mergeCatalog,
  type RunResult,
  runPipeline,
  servedPipeline,
} from '../pipeline/index.js';
import type { Surface } from '../surface/index.js';
import { compileCustomPipeline } from './custom-pipeline.js';
import { pipelineToolName } from './naming.js';
import { formatIssues, ms, progressReporter, runToolResult } from './pipeline-format.js';
import { keepToSchema, liveTools, PipelineTypeReport } from './pipeline-types.js';
import type { RunRecord, RunRecords } from './run-records.js';
import { type RunWatcher, watchRun } from './run-watch.js';
import type { CallContext, ServedTool } from './served-tool.js';
import type { ToolSource } from './tool-table.js';

export interface PipelineHostOptions {
  registry: BackendRegistry;
  /** The live config; read on every load and run so a reload is seen. */
  config: () => GatewayConfig;
  /** Overrides the config's pipelines folder (`serve --pipelines DIR`). */
  dir?: string;
  logger: Logger;
  /** Refuses the tools a server's filters hide in pipelines sent inline (src/surface). */
  surface?: Surface;
  /** Where each run is recorded (run-records.ts); unrecorded without it. */
  runs?: RunRecords;
}

/** What a run needs from the request that started it. */
export type RunContext = Partial<Pick<CallContext, 'signal' | 'progress' | 'trace'>>;

export class PipelineHost implements ToolSource {
  private catalog: Catalog;
  private served: ServedTool[] | undefined;
  private readonly events = new EventEmitter<{ changed: [] }>();
  /** The backend names the current catalog was checked against; undefined before the first load. */
  private checkedServers: string | undefined;
  /** Reloads from disk, one at a time, in the order asked. */
  private queue: Promise<unknown> = Promise.resolve();
  private reloads = 0;
  private closed = false;
  private readonly offRegistry: () => void;
  /** The data-flow check of what serves, against the backends' tool schemas as they are now. */
  readonly types: PipelineTypeReport;
  private typeCheckQueued = false;
  private readonly watchers = new Set<RunWatcher>();

  constructor(private readonly options: PipelineHostOptions) {
    this.events.setMaxListeners(0);
    this.catalog = emptyCatalog(this.dir);
    this.types = new PipelineTypeReport(options.logger);
    // A file naming a server that was not there becomes valid when it is registered (and the other
    // way round), so the catalog is checked again when the set of backends changes. A backend
    // connecting, or its tool list changing, brings schemas: the data flow is type-checked again.
    const onBackends = () => {
      this.revalidate();
      this.checkTypesSoon();
    };
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

  /** Swap in a new catalog at once, as it is; runs in flight keep theirs. Sends tools/list_changed. */
  replace(catalog: Catalog): void {
    this.catalog = catalog;
    this.types.update(catalog, liveTools(this.options.registry));
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

  /**
   * Read the folder again and swap it in (one `replace`), keeping the last good version of each file
   * that broke; then log what changed, every problem as `file:line:col: message`. Reloads run one at
   * a time, in the order asked, each merged with the catalog serving when it ends. `changed`: the
   * files the watcher saw change, so the log can say which valid pipelines were updated.
   */
  reload(changed: readonly string[] = []): Promise<Catalog> {
    return this.enqueue(() => this.reloadNow(new Set(changed)));
  }

  /** A `pipeline__<name>` tool for every pipeline that serves: valid, or invalid with a last good version. */
  tools(): ServedTool[] {
    this.served ??= this.catalog
      .list()
      .map((e) => (this.catalog.get(e.name) === e ? servedPipeline(e) : undefined))
      .filter((p): p is CompiledPipeline => p !== undefined)
      .map((p) => this.pipelineTool(p));
    return this.served;
  }

  onChange(listener: () => void): () => void {
    this.events.on('changed', listener);
    return () => this.events.off('changed', listener);
  }

  /**
   * The pipeline `route_pipeline` means: one from the folder by name (its last good version while its
   * file is invalid), or for `custom` the text sent inline, validated like a file (issues at
   * `pipeline:line:col`). Throws GatewayErrors PIPELINE_UNKNOWN or PIPELINE_INVALID that say what to do.
   */
  resolve(scenario: string, inlineText?: string): CompiledPipeline {
    if (scenario === CUSTOM_SCENARIO) {
      if (inlineText === undefined) {
        throw new GatewayError(
          'PARAMS_INVALID',
          `route_pipeline: scenario 'custom' needs 'pipeline': the pipeline as YAML or JSON text`,
        );
      }
      return compileCustomPipeline(inlineText, this.catalog, this.options.registry, this.options.surface);
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
    const pipeline = servedPipeline(entry);
    if (!pipeline) {
      throw new GatewayError(
        'PIPELINE_INVALID',
        `pipeline '${scenario}' is invalid (${plural(entry.issues.length, 'problem')}):\n${formatIssues(entry.issues)}`,
        { scenario, file: entry.file, issues: entry.issues },
      );
    }
    return pipeline;
  }

  /**
   * Run `pipeline` on the backends. Inputs are checked first (PARAMS_INVALID names each bad one);
   * step failures, the deadline and cancellation are in the result. The backends' timeouts are
   * read once, at the start: the run keeps the definition and settings it started with.
   */
  async run(pipeline: CompiledPipeline, inputs: unknown, ctx: RunContext = {}): Promise<RunResult> {
    const { registry, logger } = this.options;
    // The pipelines it calls are the versions serving now, whatever reloads during the run: the
    // catalog is never changed in place, so holding this one is the snapshot.
    const catalog = this.catalog;
    const pipelines = (name: string) => {
      const entry = catalog.get(name);
      return entry ? servedPipeline(entry) : undefined;
    };
    const timeouts = new Map<string, number | undefined>();
    for (const p of callClosure(pipeline, pipelines)) {
      for (const step of allSteps(p)) {
        if (!timeouts.has(step.server))
          timeouts.set(step.server, registry.get(step.server)?.config.timeoutMs);
      }
    }
    const progress = ctx.progress;
    const report = progress ? progressReporter(pipeline.steps.size, progress) : undefined;
    const watched = watchRun(
      // Metric labels: a pipeline of the catalog by its name, one sent inline as `custom`.
      telemetry.runObserver((p) => (pipelines(p.name) === p ? p.name : CUSTOM_LABEL)),
      [...this.watchers],
      pipeline,
      inputs,
    );
    const watch = watched.onEvent;
    const recorded = this.options.runs?.started(pipeline.name);
    const result = await runPipeline(pipeline, inputs, {
      invoker: registry,
      pipelines,
      signal: ctx.signal,
      defaultTimeoutMs: this.options.config().defaultTimeoutMs,
      timeoutFor: (server) => timeouts.get(server),
      onEvent:
        report && watch
          ? (e) => {
              report(e);
              watch(e);
            }
          : (report ?? watch),
      observer: watched.observer,
      trace: ctx.trace,
    }).catch((err: unknown) => {
      recorded?.({ thrown: err });
      throw err;
    });
    watched.ended(result);
    recorded?.(result);
    const line = `pipeline '${pipeline.name}' ${result.status} in ${ms(result.durationMs)}`;
    const ids = telemetry.logFields(ctx.trace);
    if (result.status === 'succeeded') logger.debug(line, ids);
    else logger.info(`${line}: ${result.error ?? ''}`, ids);
    return result;
  }

  /**
   * Hear every run from now on, whoever started it (the web console's run journal); returns the way
   * to stop. Without a watcher a run carries nothing extra.
   */
  watchRuns(watcher: RunWatcher): () => void {
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  /** The newest `limit` runs recorded (every replica's, with a cluster), newest first. */
  recentRuns(limit: number): Promise<RunRecord[]> {
    return this.options.runs?.recent(limit) ?? Promise.resolve([]);
  }

  close(): void {
    this.closed = true;
    this.watchers.clear();
    this.offRegistry();
    this.events.removeAllListeners();
  }

  /** Type-check once for a burst of tool changes (backends connecting together). */
  private checkTypesSoon(): void {
    if (this.typeCheckQueued) return;
    this.typeCheckQueued = true;
    setImmediate(() => {
      this.typeCheckQueued = false;
      if (this.closed) return;
      if (this.types.update(this.catalog, liveTools(this.options.registry))) {
        this.served = undefined;
        this.events.emit('changed');
      }
    });
  }

  private pipelineTool(pipeline: CompiledPipeline): ServedTool {
    const steps = [...pipeline.steps.values()]
      .map((s) => `${s.id} (${s.pipeline ? `pipeline ${s.pipeline.name}` : `${s.server}.${s.tool}`})`)
      .join(', ');
    const outputSchema = this.types.outputSchema(pipeline);
    return {
      definition: {
        name: pipelineToolName(pipeline.name),
        title: `Pipeline ${pipeline.name}`,
        description:
          `[pipeline] ${pipeline.description ?? pipeline.name}. Steps: ${steps}. ` +
          'Independent steps run in parallel. Returns the status, the output and each step’s status and time.',
        inputSchema: { ...pipeline.inputsSchema } as Tool['inputSchema'],
        ...(outputSchema ? { outputSchema: outputSchema as Tool['outputSchema'] } : {}),
      },
      call: async (args, ctx) =>
        keepToSchema(runToolResult(await this.run(pipeline, args, ctx)), outputSchema),
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

  private serverNames(): string[] {
    const names = new Set([
      ...this.options.config().servers.map((s) => s.name),
      ...this.options.registry.names(),
    ]);
    return [...names].sort();
  }

  /**
   * When the set of backends changed since the catalog was checked, check it again: a file naming a
   * server that was not there becomes valid, one naming a removed server becomes invalid (and keeps
   * its last good version serving, as any file that breaks).
   */
  private revalidate(): void {
    if (this.checkedServers === undefined) return;
    this.enqueue(async () => {
      if (this.closed || this.serverNames().join('\n') === this.checkedServers) return;
      await this.reloadNow(new Set());
    }).catch((err: unknown) =>
      this.options.logger.warn(`reloading pipelines from ${this.dir} failed: ${errorMessage(err)}`),
    );
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const next = this.queue.then(task);
    this.queue = next.catch(() => {});
    return next;
  }

  private async reloadNow(changed: ReadonlySet<string>): Promise<Catalog> {
    const dir = this.dir;
    if (this.catalog.dir === dir && this.catalog.list().length > 0 && !(await isFolder(dir))) {
      // The folder went away (the watcher reports it): its pipelines stay as last read until it is back.
      this.options.logger.debug(`${dir} is missing; its pipelines stay as last read`);
      return this.catalog;
    }
    const loaded = await this.load();
    const previous = this.catalog;
    const merged = mergeCatalog(previous, loaded);
    if (this.closed) return merged;
    this.replace(merged);
    // The first load, or a folder that moved: a fresh start, told as at start-up.
    const fresh = this.reloads++ === 0 || previous.dir !== merged.dir;
    this.report(previous, merged, changed, fresh);
    return merged;
  }

  /** Logs what a reload changed: pipelines added, updated, removed, broken (with every problem) or fixed. */
  private report(previous: Catalog, next: Catalog, changed: ReadonlySet<string>, first: boolean): void {
    const { logger } = this.options;
    const entries = next.list();
    if (first) {
      const invalid = entries.filter((e) => !e.valid).length;
      logger.info(`${entries.length} pipeline(s) in ${next.dir}${invalid ? `, ${invalid} invalid` : ''}`);
    }
    const before = new Map(previous.list().map((e) => [e.file, e]));
    const after = new Set(entries.map((e) => e.file));
    for (const old of before.values()) {
      if (first || after.has(old.file)) continue;
      const served = previous.get(old.name) === old && servedPipeline(old) !== undefined;
      logger.info(served ? `pipeline '${old.name}' removed: ${old.file} is gone` : `${old.file} is gone`);
    }
    for (const entry of entries) {
      const old = before.get(entry.file);
      if (entry.valid) {
        if (first) continue;
        if (!old) logger.info(`pipeline '${entry.name}' added from ${entry.file}`);
        else if (!old.valid)
          logger.info(`pipeline '${entry.name}' is valid again: ${entry.file} serves as saved`);
        else if (changed.has(entry.file)) logger.info(`pipeline '${entry.name}' updated from ${entry.file}`);
        continue;
      }
      if (old && !old.valid && !changed.has(entry.file) && sameProblems(old, entry)) continue;
      const serving = entry.lastGood
        ? `the last good version of pipeline '${entry.name}' keeps serving until it is fixed`
        : `pipeline '${entry.name}' is not served`;
      logger.warn(`${entry.file} is invalid (${plural(entry.issues.length, 'problem')}); ${serving}:`);
      for (const issue of entry.issues) logger.warn(formatIssue(issue));
    }
  }
}

/** Whether a reload has nothing new to say about an invalid file. */
function sameProblems(a: CatalogEntry, b: CatalogEntry): boolean {
  return Boolean(a.lastGood) === Boolean(b.lastGood) && formatIssues(a.issues) === formatIssues(b.issues);
}

async function isFolder(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

function emptyCatalog(dir: string): Catalog {
  return { dir, get: () => undefined, list: () => [] };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
