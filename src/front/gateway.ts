import type { IncomingMessage } from 'node:http';
import { dirname } from 'node:path';
import type { Server } from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
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
import { isPipelineFile } from '../pipeline/index.js';
import type { Surface } from '../surface/index.js';
import { LineStdioServerTransport } from '../transport/index.js';
import { type FileChange, type FolderWatcher, type FolderWatchOptions, watchFolder } from '../watch/index.js';
import { accessOf, mayWatch, stepUpCheck } from './access-check.js';
import { frontNames } from './call-target.js';
import { ClusterSync } from './cluster-sync.js';
import { ConfigReloader, type ConfigStatus, type ReloadResult } from './config-reload.js';
import type { ConsoleGuard } from './console-host.js';
import { checkHttpSettings, type HttpFront, startHttpFront } from './http.js';
import { endpointOf } from './http-endpoints.js';
import { httpCallLimits } from './http-limits.js';
import type { ModernLeg } from './http-modern.js';
import { ListenSubscriptions } from './listen-subscriptions.js';
import { backendMetaTools } from './meta-tools.js';
import type { MetricsSource } from './metrics-http.js';
import { NameClashes } from './name-clashes.js';
import { PipelineHost } from './pipeline-host.js';
import { pipelineMetaTools } from './pipeline-tools.js';
import { ProfileTables } from './profiles.js';
import { ProtocolHub } from './protocol-hub.js';
import { advertisedUrl, checkAdvertiseUrl, replicaForwarder } from './replica-forward.js';
import { RequestGate } from './request-gate.js';
import { RunRecords } from './run-records.js';
import { ServedNames } from './served-names.js';
import type { FrontTransport, ProtocolEra, ServedTool } from './served-tool.js';
import { createFrontServer, type ListHints } from './server.js';
import { StartupGrace } from './startup-grace.js';
import { ListenTapTransport } from './stdio-listen.js';
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
 * The running gateway: the backend registry, the tool table every session shares, and the fronts
 * that serve it. Owns shutdown, so nothing outlives it.
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
  /** Watches the pipelines folder once `watchPipelines` is called; re-pointed when the folder moves. */
  private pipelineWatcher: FolderWatcher | undefined;
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

  /**
   * Serves one client over stdin/stdout in the era its first message speaks: `initialize` pins the
   * 2025 era, a 2026-07-28 request (or `server/discover`) the modern one; either way one server lives
   * for the connection.
   */
  async serveStdio(profile?: string): Promise<void> {
    // An unknown profile is refused before anything is served.
    if (profile !== undefined) this.profiles.table(profile);
    // Ours, not the SDK's: linear framing, and an oversized message is refused without ending the session.
    const logger = this.options.logger.child('stdio');
    const transport = new LineStdioServerTransport({
      maxMessageBytes: () => this.currentConfig.limits.maxMessageBytes,
      warn: (message) => logger.warn(message),
    });
    // A modern client's subscriptions/listen names resource URIs the SDK routes updates to; the
    // gateway watches them on the backends (stdio-listen.ts) and tells the connection's server.
    let session: Server | undefined;
    const listens = new ListenSubscriptions(
      this.hub,
      (n) => {
        session?.notification(n).catch((err: unknown) => logger.debug(`${n.method}: ${String(err)}`));
      },
      logger,
    );
    this.closers.push(async () => listens.close());
    const wire = new ListenTapTransport(transport, { open: (uris, signal) => listens.open(uris, signal) });
    const handle = serveStdio(
      ({ era }) => {
        session = this.createSession('stdio', { era, profile });
        return session;
      },
      {
        transport: wire,
        onerror: (err) => logger.debug(`stdio: ${err.message}`),
      },
    );
    this.closers.push(() => handle.close());
  }

  /** Throws the USAGE error `serveHttp` would for these settings, without listening or starting anything. */
  checkHttp(overrides: { host?: string; port?: number } = {}): void {
    checkHttpSettings({ ...this.currentConfig.http, ...definedOnly(overrides) });
    if (this.cluster) checkAdvertiseUrl(this.currentConfig.cluster.advertiseUrl);
  }

  /** `metrics`: what `/metrics` serves (see src/observability); without it, `/metrics` is 404. */
  async serveHttp(
    overrides: { host?: string; port?: number } = {},
    metrics?: MetricsSource,
  ): Promise<HttpFront> {
    const settings = { ...this.currentConfig.http, ...definedOnly(overrides) };
    // Resource updates for modern clients' listen streams go through the front's bus, which filters
    // each stream by the URIs it listed; bound once the front exists.
    const legs = new Set<ModernLeg>();
    const listens = new ListenSubscriptions(
      this.hub,
      (n) => {
        if (n.method !== 'notifications/resources/updated') return;
        for (const leg of legs) leg.resourceUpdated(n.params.uri);
      },
      this.options.logger.child('http'),
    );
    this.closers.push(async () => listens.close());
    const front = await startHttpFront({
      modernLeg: {
        listen: (uris, signal) => listens.open(uris, signal),
        mayListen: (uris, authInfo) =>
          mayWatch(
            this.hub,
            accessOf(authInfo, () => this.currentConfig.http.auth),
            uris,
          ),
      },
      settings,
      ...(metrics ? { metrics } : {}),
      createSession: (profile) => this.createSession('http', { profile }),
      createModernServer: (profile) =>
        this.createSession('http', { era: 'modern', perRequest: true, profile }),
      profiles: () => this.profiles.names(),
      onModernLeg: (leg, profile) => {
        legs.add(leg);
        const unwire = this.wireModernLeg(leg, profile);
        return () => {
          legs.delete(leg);
          unwire();
        };
      },
      // Read on each request: a saved gateway.yaml changes which token opens which profile at once.
      tokens: () => ({
        ...(settings.token !== undefined ? { token: settings.token } : {}),
        tokens: this.currentConfig.http.tokens ?? [],
      }),
      authRules: () => this.currentConfig.http.auth?.rules,
      maxBodyBytes: () => this.currentConfig.limits.maxMessageBytes,
      stepUp: stepUpCheck(this.table, () => this.currentConfig.http.auth),
      logger: this.options.logger.child('http'),
      // Ready: serving (the config loaded before this), and Redis answering when there is a cluster.
      ready: () => this.cluster?.reachable() ?? true,
      limitCall: httpCallLimits({
        limiter: this.limiter,
        inFlight: this.inFlight,
        table: this.table,
        profile: profileOfRequest,
      }),
      ...(this.cluster ? { forward: this.forwarder(this.cluster) } : {}),
      // Loaded only when on: with the console off, none of its code is read.
      ...(settings.console
        ? {
            console: async (guard: ConsoleGuard) => {
              const { loadConsole } = await import('./console-host.js');
              return loadConsole(
                {
                  registry: this.registry,
                  table: this.table,
                  pipelines: this.pipelines,
                  hub: this.hub,
                  gate: this.gate,
                  config: () => this.currentConfig,
                  logger: this.options.logger.child('console'),
                },
                guard,
              );
            },
          }
        : {}),
    });
    this.cluster?.advertise(advertisedUrl(this.currentConfig.cluster.advertiseUrl, front.url));
    this.closers.push(() => front.close());
    this.httpFronts.push(front);
    return front;
  }

  /**
   * Modern clients hear of changes through subscriptions/listen, which each endpoint's leg serves from
   * its own bus: `/mcp` follows the whole table, `/mcp/<profile>` that profile's view only (a reload
   * of one profile tells its listeners, not everyone's).
   */
  private wireModernLeg(leg: ModernLeg, profile: string | undefined): () => void {
    const table = profile === undefined ? this.table : this.profiles.table(profile);
    const onTools = () => leg.toolsChanged();
    table.on('changed', onTools);
    const offHub = this.hub.addListener((n) => {
      if (n.method === 'notifications/prompts/list_changed') leg.promptsChanged();
      else if (n.method === 'notifications/resources/list_changed') leg.resourcesChanged();
    });
    return () => {
      table.off('changed', onTools);
      offHub();
    };
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
    this.cluster?.drainStarted();
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
    this.offWarm();
    this.bridge.close();
    this.table.close();
    this.hub.close();
    this.pipelines.close();
    this.profiles.close();
    await this.registry.close();
  }

  /** A retry owed to another replica goes there (replica-forward.ts). */
  private forwarder(cluster: ClusterSync) {
    return replicaForwarder({
      self: this.bridge.replica,
      lookup: (name) => cluster.addressOf(name),
      logger: this.options.logger.child('forward'),
    });
  }

  /** How the front names things, for the audit log and metric labels. */
  frontNames(): FrontNames {
    return frontNames(this.table);
  }

  private createSession(
    transport: FrontTransport,
    {
      era = 'legacy',
      perRequest = false,
      profile,
    }: { era?: ProtocolEra; perRequest?: boolean; profile?: string | undefined } = {},
  ) {
    const server = createFrontServer({
      table: profile === undefined ? this.table : this.profiles.table(profile),
      transport,
      version: this.options.version,
      logger: this.options.logger.child(transport),
      hub: this.hub,
      ready: () => this.startup.wait(),
      gate: this.gate,
      bridge: this.bridge,
      era,
      perRequest,
      listHints: () => this.listHints(),
      ...(transport === 'http'
        ? { access: (authInfo) => accessOf(authInfo, () => this.currentConfig.http.auth) }
        : {}),
    });
    // A modern HTTP request's server lives for that request: it is not a session.
    if (perRequest) return server;
    const ended = telemetry.sessionOpened(transport, era);
    const onclose = server.onclose;
    server.onclose = () => {
      ended();
      onclose?.();
    };
    return server;
  }

  /**
   * The caching hints of a modern list result: none to cache while a backend is still connecting
   * (the lists are about to change), else {@link LIST_TTL_MS}, private to the caller.
   */
  private listHints(): ListHints {
    const settling = this.registry.list().some((b) => b.status === 'connecting');
    return { ttlMs: settling ? 0 : LIST_TTL_MS, cacheScope: 'private' };
  }
}

/**
 * How long a modern client may reuse a list the gateway served. Changes are also announced to
 * clients listening (subscriptions/listen), so this only bounds staleness for those that do not.
 */
export const LIST_TTL_MS = 30_000;

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

/** The profile whose endpoint (`/mcp/<profile>`) a request came to, for `rate_limits.per_profile`. */
function profileOfRequest(req: IncomingMessage): string | undefined {
  const endpoint = endpointOf(new URL(req.url ?? '/', 'http://gateway').pathname);
  return typeof endpoint === 'object' ? endpoint.profile : undefined;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
