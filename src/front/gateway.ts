import { dirname } from 'node:path';
import { BackendRegistry } from '../backends/index.js';
import type { GatewayConfig, ServerConfig } from '../config/index.js';
import type { Logger } from '../log.js';
import { type FrontNames, telemetry } from '../observability/index.js';
import { isPipelineFile } from '../pipeline/index.js';
import { LineStdioServerTransport } from '../transport/index.js';
import { type FileChange, type FolderWatcher, type FolderWatchOptions, watchFolder } from '../watch/index.js';
import { frontNames } from './call-target.js';
import { ConfigReloader, type ConfigStatus, type ReloadResult } from './config-reload.js';
import { checkHttpSettings, type HttpFront, startHttpFront } from './http.js';
import { backendMetaTools } from './meta-tools.js';
import type { MetricsSource } from './metrics-http.js';
import { PipelineHost } from './pipeline-host.js';
import { pipelineMetaTools } from './pipeline-tools.js';
import { ProtocolHub } from './protocol-hub.js';
import { RequestGate } from './request-gate.js';
import type { FrontTransport, ServedTool } from './served-tool.js';
import { createFrontServer } from './server.js';
import { StartupGrace } from './startup-grace.js';
import { type ToolSource, ToolTable } from './tool-table.js';

export interface GatewayOptions {
  config: GatewayConfig;
  logger: Logger;
  version: string;
  /** Servers from --auto-register, started beside the config's. */
  extraServers?: ServerConfig[];
  /** Further gateway tools (pipelines) and the sources of tools that come and go. */
  extraMetaTools?: (gateway: Gateway) => ServedTool[];
  extraSources?: ToolSource[];
  /** Serve the pipelines of this folder instead of the config's (`serve --pipelines DIR`). */
  pipelinesDir?: string;
}

/**
 * The running gateway: the backend registry, the tool table every session shares, and the fronts
 * that serve it. Owns shutdown, so nothing outlives it.
 */
export class Gateway {
  readonly registry: BackendRegistry;
  readonly table: ToolTable;
  /** Resources, prompts, completions and logging of every backend, shared by the sessions. */
  readonly hub: ProtocolHub;
  /** The pipeline catalog and its tools; `loadPipelines` fills it, hot reload may `replace` it. */
  readonly pipelines: PipelineHost;
  private currentConfig: GatewayConfig;
  private readonly closers: (() => Promise<void>)[] = [];
  /** Client requests in flight on every front; shutdown closes it and waits for them. */
  private readonly gate = new RequestGate();
  private readonly httpFronts: HttpFront[] = [];
  private readonly reloader: ConfigReloader;
  /** Bounds how long an early tools/list waits for the backends started by `startBackends`. */
  private startup = new StartupGrace([], 0);
  /** Watches the pipelines folder once `watchPipelines` is called; re-pointed when the folder moves. */
  private pipelineWatcher: FolderWatcher | undefined;

  constructor(private readonly options: GatewayOptions) {
    this.currentConfig = options.config;
    this.registry = new BackendRegistry({
      defaultTimeoutMs: options.config.defaultTimeoutMs,
      logger: options.logger.child('backends'),
      maxMessageBytes: () => this.currentConfig.limits.maxMessageBytes,
    });
    const config = () => this.currentConfig;
    this.pipelines = new PipelineHost({
      registry: this.registry,
      config,
      dir: options.pipelinesDir,
      logger: options.logger.child('pipelines'),
    });
    this.hub = new ProtocolHub({ registry: this.registry, logger: options.logger.child('protocol') });
    this.table = new ToolTable({
      registry: this.registry,
      groups: () => this.currentConfig.tools,
      metaTools: [
        ...backendMetaTools({ registry: this.registry, config }),
        ...pipelineMetaTools(this.pipelines),
        ...(options.extraMetaTools?.(this) ?? []),
      ],
      extraSources: [this.pipelines, ...(options.extraSources ?? [])],
    });
    this.reloader = new ConfigReloader({
      registry: this.registry,
      logger: options.logger.child('config'),
      current: config,
      apply: (next) => {
        this.currentConfig = next;
      },
      invalidateTools: () => this.table.invalidate(),
      pipelinesMoved: (from, to) => this.pipelinesMoved(from, to),
    });
  }

  get config(): GatewayConfig {
    return this.currentConfig;
  }

  /** Starts connecting every enabled backend in parallel; does not wait for any of them. */
  startBackends(): void {
    const servers = [...this.currentConfig.servers, ...(this.options.extraServers ?? [])];
    const started = servers.filter((s) => s.enabled).map((server) => this.registry.add(server));
    this.startup = new StartupGrace(started, this.currentConfig.startupGraceMs);
  }

  /** Loads the pipelines folder and serves it; invalid files are listed by list_pipelines and logged. */
  async loadPipelines(): Promise<void> {
    await this.pipelines.reload();
  }

  /**
   * Reads the config file again and applies what changed: backends added, restarted or removed
   * (runtime and --auto-register ones untouched), tool groups, default timeout, the register_server
   * policy (allow_commands, allow_url_hosts, limits.max_runtime_backends). An invalid file changes
   * nothing; its problems are logged and kept in `configStatus()`.
   */
  async reloadConfig(): Promise<ReloadResult | undefined> {
    const result = await this.reloader.reload();
    if (result) telemetry.reloaded('config', result.ok);
    return result;
  }

  /** The config file serving, when it was read, and the problems of its latest version if invalid. */
  configStatus(): ConfigStatus {
    return this.reloader.status();
  }

  /**
   * Reloads the config on every change of its content. Watches the file's folder, not the file, so
   * an editor's atomic save and a ConfigMap's `..data` swap are seen. Undefined without a file.
   */
  watchConfig(): FolderWatcher | undefined {
    const file = this.currentConfig.file;
    if (file === undefined) return undefined;
    return this.watch(file, {
      folder: dirname(file),
      include: (f) => f === file,
      onChange: async () => {
        await this.reloadConfig();
      },
    });
  }

  /**
   * Hot reload of pipelines: every debounced burst of changes to the pipeline files (*.yaml, *.yml,
   * *.json) of the pipelines folder reloads the catalog — validated, merged so a file that broke keeps
   * its last good version serving, swapped in with one `replace` (clients get list_changed). Follows
   * the folder when a config reload moves it; stops when the gateway closes. Calling it again returns
   * the watcher already running.
   */
  watchPipelines(): FolderWatcher {
    if (this.pipelineWatcher) return this.pipelineWatcher;
    this.pipelineWatcher = this.startPipelineWatcher();
    this.closers.push(async () => {
      const watcher = this.pipelineWatcher;
      this.pipelineWatcher = undefined;
      await watcher?.close();
    });
    return this.pipelineWatcher;
  }

  private startPipelineWatcher(): FolderWatcher {
    const folder = this.pipelines.dir;
    return this.startWatch(folder, {
      folder,
      include: isPipelineFile,
      onChange: async (changes: FileChange[]) => {
        const files = changes.map((c) => c.file);
        const catalog = await this.pipelines.reload(files);
        telemetry.reloaded('pipelines', !catalog.list().some((e) => !e.valid && files.includes(e.file)));
      },
    });
  }

  /**
   * `pipelines:` changed in the config file (already applied): watch the new folder instead of the old
   * one, then load it. `serve --pipelines DIR` overrides the config, so then nothing moves.
   */
  private async pipelinesMoved(from: string, to: string): Promise<void> {
    const logger = this.options.logger.child('pipelines');
    if (this.options.pipelinesDir !== undefined) {
      logger.info(
        `pipelines changed to ${to} in the config; --pipelines ${this.options.pipelinesDir} still applies`,
      );
      return;
    }
    logger.info(`the pipelines folder moved from ${from} to ${to}`);
    const old = this.pipelineWatcher;
    if (old) {
      this.pipelineWatcher = this.startPipelineWatcher();
      await old.close();
      // Watching before reading: an edit from here on is seen by one or the other.
      await this.pipelineWatcher.ready;
    }
    await this.pipelines.reload();
  }

  private watch(what: string, options: Omit<FolderWatchOptions, 'onError'>): FolderWatcher {
    const watcher = this.startWatch(what, options);
    this.closers.push(() => watcher.close());
    return watcher;
  }

  private startWatch(what: string, options: Omit<FolderWatchOptions, 'onError'>): FolderWatcher {
    const logger = this.options.logger.child('watch');
    const watcher = watchFolder({
      ...options,
      onError: (err) => (err.code === 'FOLDER_MISSING' ? logger.debug : logger.warn)(err.message),
    });
    void watcher.ready.then(() => logger.info(`watching ${what} for changes`));
    return watcher;
  }

  async serveStdio(): Promise<void> {
    const server = this.createSession('stdio');
    // Ours, not the SDK's: linear framing, and an oversized message is refused without ending the session.
    const logger = this.options.logger.child('stdio');
    const transport = new LineStdioServerTransport({
      maxMessageBytes: () => this.currentConfig.limits.maxMessageBytes,
      warn: (message) => logger.warn(message),
    });
    await server.connect(transport);
    this.closers.push(() => server.close());
  }

  /** Throws the USAGE error `serveHttp` would for these settings, without listening or starting anything. */
  checkHttp(overrides: { host?: string; port?: number } = {}): void {
    checkHttpSettings({ ...this.currentConfig.http, ...definedOnly(overrides) });
  }

  /** `metrics`: what `/metrics` serves (see src/observability); without it, `/metrics` is 404. */
  async serveHttp(
    overrides: { host?: string; port?: number } = {},
    metrics?: MetricsSource,
  ): Promise<HttpFront> {
    const settings = { ...this.currentConfig.http, ...definedOnly(overrides) };
    const front = await startHttpFront({
      settings,
      ...(metrics ? { metrics } : {}),
      createSession: () => this.createSession('http'),
      maxBodyBytes: () => this.currentConfig.limits.maxMessageBytes,
      logger: this.options.logger.child('http'),
    });
    this.closers.push(() => front.close());
    this.httpFronts.push(front);
    return front;
  }

  /**
   * Stops within `deadlineMs`: refuses new sessions and requests at once, lets the requests in flight
   * finish until the deadline less a reserve (a quarter of it, at most {@link STOP_RESERVE_MS}) kept
   * for stopping the backends, then closes everything — cutting off what still runs. Resolves by the
   * deadline; `clean` is false when requests were cut off or closing had not finished in time.
   * `drain: false` skips the wait: nobody is left to answer (stdin closed).
   */
  async shutdown(deadlineMs: number, options: { drain?: boolean } = {}): Promise<ShutdownResult> {
    const started = Date.now();
    const left = () => deadlineMs - (Date.now() - started);
    this.gate.close();
    for (const front of this.httpFronts) front.stopAccepting();
    // Without a drain (the only client is gone), what runs is cut off at once.
    const drainMs = options.drain === false ? 0 : deadlineMs - Math.min(STOP_RESERVE_MS, deadlineMs / 4);
    let drained = await this.gate.whenIdle(drainMs);
    const cutOff = this.gate.inFlight;
    // A request's handler has returned; its answer may still be on its way out over HTTP.
    for (const front of this.httpFronts)
      drained = (await front.whenIdle(drainMs - (Date.now() - started))) && drained;
    const closed = await within(this.close(), left());
    return { clean: drained && closed, cutOff, closed };
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.closers.splice(0).map((close) => close()));
    this.table.close();
    this.hub.close();
    this.pipelines.close();
    await this.registry.close();
  }

  /** How the front names things, for the audit log and metric labels. */
  frontNames(): FrontNames {
    return frontNames(this.table);
  }

  private createSession(transport: FrontTransport) {
    const server = createFrontServer({
      table: this.table,
      transport,
      version: this.options.version,
      logger: this.options.logger.child(transport),
      hub: this.hub,
      ready: () => this.startup.wait(),
      gate: this.gate,
    });
    const ended = telemetry.sessionOpened(transport);
    const onclose = server.onclose;
    server.onclose = () => {
      ended();
      onclose?.();
    };
    return server;
  }
}

/** Of a shutdown deadline, at most this much is kept for stopping the backends after the drain. */
export const STOP_RESERVE_MS = 2_000;

export interface ShutdownResult {
  /** Everything finished and stopped before the deadline. */
  clean: boolean;
  /** Requests still running when the drain ended (they were cut off). */
  cutOff: number;
  /** The fronts and backends closed before the deadline. */
  closed: boolean;
}

/** True if `promise` settles within `ms`. */
function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms));
  });
  return Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    late,
  ]).finally(() => clearTimeout(timer));
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
