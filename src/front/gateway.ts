import { BackendRegistry, type BackendStatus } from '../backends/index.js';
import { DEFAULT_MAX_ROUNDS, DEFAULT_STATE_TTL_MS, InputBridge } from '../bridge/index.js';
import {
  CallLimiter,
  InFlightLimiter,
  MemoryRunStore,
  RedisRunStore,
  replicaId,
  setReplicaId,
} from '../cluster/index.js';
import type { GatewayConfig, ServerConfig } from '../config/index.js';
import type { Logger } from '../log.js';
import { type FrontNames, telemetry } from '../observability/index.js';
import type { Surface } from '../surface/index.js';
import type { FolderWatcher } from '../watch/index.js';
import { frontNames } from './call-target.js';
import { ClusterSync } from './cluster-sync.js';
import { ConfigReloader, type ConfigStatus, type ReloadResult } from './config-reload.js';
import { checkHttpFront, type HttpOverrides, serveHttpFront } from './gateway-http.js';
import type { GatewayParts } from './gateway-parts.js';
import { type ShutdownResult, shutdownWithin } from './gateway-shutdown.js';
import { serveStdioFront } from './gateway-stdio.js';
import { GatewayWatchers } from './gateway-watchers.js';
import type { HttpFront } from './http.js';
import { backendMetaTools } from './meta-tools.js';
import type { MetricsSource } from './metrics-http.js';
import { NameClashes } from './name-clashes.js';
import { PipelineHost } from './pipeline-host.js';
import { pipelineMetaTools } from './pipeline-tools.js';
import { ProfileTables } from './profiles.js';
import { ProtocolHub } from './protocol-hub.js';
import { RequestGate } from './request-gate.js';
import { RunRecords } from './run-records.js';
import { ServedNames } from './served-names.js';
import type { ServedTool } from './served-tool.js';
import { StartupGrace } from './startup-grace.js';
import { createSurface, listVisibility, surfaceChanged } from './surface-host.js';
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
 * The running gateway: builds and owns the long-lived parts (registry, tool table, hub, pipelines,
 * cluster link) and starts the fronts that serve them. The fronts themselves are set up in
 * gateway-stdio.ts and gateway-http.ts, each client's server in gateway-sessions.ts, hot reload
 * watchers in gateway-watchers.ts, the drain in gateway-shutdown.ts.
 */
export class Gateway {
  readonly registry: BackendRegistry;
  readonly table: ToolTable;
  /** One view of `table` per profile in the config (profiles.ts). */
  readonly profiles: ProfileTables;
  /** Resources, prompts, completions and logging of every backend, shared by the sessions. */
  readonly hub: ProtocolHub;
  /** Parks what backends ask during 2026-07-28 clients' calls until the client retries (src/bridge). */
  readonly bridge: InputBridge;
  /** The pipeline catalog and its tools; `loadPipelines` fills it, hot reload may `replace` it. */
  readonly pipelines: PipelineHost;
  /** Filters, overrides, name fitting and pinned definitions of the backends' tools (src/surface). */
  readonly surface: Surface;
  private currentConfig: GatewayConfig;
  private readonly closers: (() => Promise<void>)[] = [];
  /** Client requests in flight on every front; shutdown closes it and waits for them. */
  private readonly gate = new RequestGate();
  private readonly httpFronts: HttpFront[] = [];
  private readonly reloader: ConfigReloader;
  /** Bounds how long an early tools/list waits for the backends started by `startBackends`. */
  private startup = new StartupGrace([], 0);
  /** Stops building lists as backends come up (for name clashes); called on close. */
  private readonly offWarm: () => void;
  /** Hot reload: the config file and the pipelines folder. */
  private readonly watchers: GatewayWatchers;
  /** What the fronts and sessions are built from. */
  private readonly parts: GatewayParts;
  /** Shared state with the other replicas, when `cluster.redis` is set (see cluster-sync.ts). */
  readonly cluster: ClusterSync | undefined;
  /** `rate_limits:`, in Redis with a cluster, else in this process. */
  private readonly limiter: CallLimiter;
  /** `rate_limits.in_flight`: concurrency caps, counted like the rate limits. */
  private readonly inFlight: InFlightLimiter;

  constructor(private readonly options: GatewayOptions) {
    this.currentConfig = options.config;
    setReplicaId(options.config.cluster.replicaId);
    const bridge = options.config.bridge;
    this.bridge = new InputBridge(
      {
        stateTtlMs: bridge?.stateTtlMs ?? DEFAULT_STATE_TTL_MS,
        maxRounds: bridge?.maxRounds ?? DEFAULT_MAX_ROUNDS,
        stateKey: bridge?.stateKey,
        // The bridge's requestState names this replica (cluster.replica_id, else one per process).
        replica: bridge?.replica ?? replicaId(),
      },
      options.logger.child('bridge'),
    );
    this.registry = new BackendRegistry({
      defaultTimeoutMs: options.config.defaultTimeoutMs,
      logger: options.logger.child('backends'),
      maxMessageBytes: () => this.currentConfig.limits.maxMessageBytes,
    });
    const config = () => this.currentConfig;
    this.surface = createSurface({
      registry: this.registry,
      config,
      logger: options.logger.child('surface'),
      notify: (message) => this.hub.gatewayLog('warning', 'surface', message),
    });
    const { cluster } = options.config;
    this.cluster =
      cluster.redis === undefined
        ? undefined
        : new ClusterSync({
            cluster: { ...cluster, redis: cluster.redis },
            registry: this.registry,
            current: config,
            configStatus: () => this.configStatus(),
            bridgeReplica: this.bridge.replica,
            logger: options.logger.child('cluster'),
          });
    this.limiter = new CallLimiter(
      () => this.currentConfig.rateLimits,
      this.cluster?.link.redis,
      cluster.keyPrefix,
    );
    this.inFlight = new InFlightLimiter(
      () => this.currentConfig.rateLimits,
      this.cluster?.link.redis,
      cluster.keyPrefix,
    );
    this.pipelines = new PipelineHost({
      registry: this.registry,
      config,
      surface: this.surface,
      runs: new RunRecords(
        this.cluster ? new RedisRunStore(this.cluster.link.redis, cluster.keyPrefix) : new MemoryRunStore(),
        replicaId(),
        options.logger.child('runs'),
      ),
      dir: options.pipelinesDir,
      logger: options.logger.child('pipelines'),
    });
    // Which backend serves a name that several would: file order decides, so it follows the live config.
    const names = new ServedNames(this.registry, () => this.currentConfig.servers.map((s) => s.name));
    const clashes = new NameClashes(options.logger.child('names'));
    this.hub = new ProtocolHub({
      registry: this.registry,
      logger: options.logger.child('protocol'),
      names,
      clashes,
      visible: listVisibility(this.surface),
    });
    const nameClashes = async () => {
      this.table.list();
      await this.hub.warmLists();
      return (server: string) => clashes.of(server);
    };
    this.table = new ToolTable({
      registry: this.registry,
      groups: () => this.currentConfig.tools,
      names,
      clashes,
      surface: this.surface,
      metaTools: [
        ...backendMetaTools({
          registry: this.registry,
          config,
          nameClashes,
          surface: this.surface,
          listTools: () => this.table.list(),
          servedName: (server, tool) => this.table.servedNameOf(server, tool),
          ...(this.cluster ? { shared: this.cluster } : {}),
        }),
        ...pipelineMetaTools(this.pipelines),
        ...(options.extraMetaTools?.(this) ?? []),
      ],
      extraSources: [this.pipelines, ...(options.extraSources ?? [])],
    });
    // Clashes are only known once lists are built; with prefixes set, build them as backends come up
    // so the log tells of a clash even before any client lists.
    const warm = (_server: string, status: BackendStatus) => {
      if (status !== 'ready') return;
      if (!this.registry.names().some((n) => this.registry.get(n)?.config.prefix !== undefined)) return;
      void nameClashes().catch(() => {});
    };
    this.registry.on('status', warm);
    // An approval (`mcp-gateway tools approve`, or approve_tool) serves the withheld tool again.
    const offPins = this.surface.pins.onChange(() => this.table.invalidate());
    this.surface.pins.watch();
    this.offWarm = () => {
      this.registry.off('status', warm);
      offPins();
      this.surface.pins.close();
    };
    this.profiles = new ProfileTables(
      this.table,
      // The name the table serves the tool as (overrides, shortening), so a profile's globs and
      // call_backend's check see the same names tools/list shows.
      { servedName: (server, tool) => this.table.servedNameOf(server, tool) },
      options.config.profiles ?? [],
    );
    this.reloader = new ConfigReloader({
      registry: this.registry,
      logger: options.logger.child('config'),
      current: config,
      apply: (next) => {
        const order = (c: GatewayConfig) => c.servers.map((s) => s.name).join('\0');
        const reordered = order(next) !== order(this.currentConfig);
        const reshaped = surfaceChanged(this.currentConfig, next);
        this.currentConfig = next;
        this.surface.pins.moveTo(next.surface.pinsFile);
        // Filters and overrides apply to the backends as they run: no restart, only new lists.
        if (reshaped && !reordered) {
          this.table.invalidate();
          this.hub.namesChanged();
        }
        this.profiles.reconfigure(next.profiles ?? []);
        // Which backend serves a name several have follows the file order (served-names.ts).
        if (reordered) {
          this.table.invalidate();
          this.hub.namesChanged();
        }
      },
      invalidateTools: () => this.table.invalidate(),
      pipelinesMoved: (from, to) => this.watchers.pipelinesMoved(from, to),
    });
    const onClose = (close: () => Promise<void>) => {
      this.closers.push(close);
    };
    this.watchers = new GatewayWatchers({
      logger: options.logger,
      pipelines: this.pipelines,
      pipelinesDir: options.pipelinesDir,
      onClose,
    });
    this.parts = {
      registry: this.registry,
      table: this.table,
      profiles: this.profiles,
      hub: this.hub,
      bridge: this.bridge,
      pipelines: this.pipelines,
      cluster: this.cluster,
      gate: this.gate,
      limiter: this.limiter,
      inFlight: this.inFlight,
      logger: options.logger,
      version: options.version,
      config,
      startupWait: () => this.startup.wait(),
      onClose,
    };
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

  /**
   * Joins the cluster when `cluster.redis` is set: connects (without waiting for Redis to be up),
   * starts the backends registered on other replicas, and keeps in step from then on.
   */
  async startCluster(): Promise<void> {
    if (!this.cluster) return;
    await this.cluster.start();
    await this.cluster.resync();
    this.closers.push(() => this.cluster?.close() ?? Promise.resolve());
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
    // Applied or refused, every replica's list_servers shows it.
    if (result) this.cluster?.reloaded();
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
    return this.watchers.watchConfig(file, () => this.reloadConfig());
  }

  /**
   * Hot reload of pipelines: every debounced burst of changes to the pipeline files (*.yaml, *.yml,
   * *.json) of the pipelines folder reloads the catalog — validated, merged so a file that broke keeps
   * its last good version serving, swapped in with one `replace` (clients get list_changed). Follows
   * the folder when a config reload moves it; stops when the gateway closes. Calling it again returns
   * the watcher already running.
   */
  watchPipelines(): FolderWatcher {
    return this.watchers.watchPipelines();
  }

  /**
   * Serves one client over stdin/stdout in the era its first message speaks: `initialize` pins the
   * 2025 era, a 2026-07-28 request (or `server/discover`) the modern one; either way one server lives
   * for the connection.
   */
  async serveStdio(profile?: string): Promise<void> {
    serveStdioFront(this.parts, profile);
  }

  /** Throws the USAGE error `serveHttp` would for these settings, without listening or starting anything. */
  checkHttp(overrides: HttpOverrides = {}): void {
    checkHttpFront(this.parts, overrides);
  }

  /** `metrics`: what `/metrics` serves (see src/observability); without it, `/metrics` is 404. */
  async serveHttp(overrides: HttpOverrides = {}, metrics?: MetricsSource): Promise<HttpFront> {
    const front = await serveHttpFront(this.parts, overrides, metrics);
    this.closers.push(() => front.close());
    this.httpFronts.push(front);
    return front;
  }

  /**
   * Stops within `deadlineMs`: refuses new sessions and requests at once, lets the requests in flight
   * finish until the deadline less a reserve (a quarter of it, at most STOP_RESERVE_MS) kept
   * for stopping the backends, then closes everything — cutting off what still runs. Resolves by the
   * deadline; `clean` is false when requests were cut off or closing had not finished in time.
   * `drain: false` skips the wait: nobody is left to answer (stdin closed).
   */
  shutdown(deadlineMs: number, options: { drain?: boolean } = {}): Promise<ShutdownResult> {
    return shutdownWithin(
      { gate: this.gate, httpFronts: this.httpFronts, cluster: this.cluster, close: () => this.close() },
      deadlineMs,
      options,
    );
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.closers.splice(0).map((close) => close()));
    this.offWarm();
    this.bridge.close();
    this.table.close();
    this.hub.close();
    this.pipelines.close();
    this.profiles.close();
    await this.registry.close();
  }

  /** How the front names things, for the audit log and metric labels. */
  frontNames(): FrontNames {
    return frontNames(this.table);
  }
}
