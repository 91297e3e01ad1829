import type {
  CallToolResult,
  Implementation,
  LoggingLevel,
  PriorDiscovery,
  ServerCapabilities,
  Tool,
} from '@modelcontextprotocol/client';
import type { ServerConfig } from '../config/types.js';
import type { GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import { BackendCalls, type BackendRequest } from './backend-calls.js';
import { unavailableError } from './call-errors.js';
import { CallRequesters } from './call-routing.js';
import { type AttemptState, connectAttempt } from './connect-attempt.js';
import { type Connection, listenForChanges, openConnection, priorOf } from './connection.js';
import { describeTarget } from './describe.js';
import { checkHttp, endSseSession, type HealthCheckHost } from './http-health.js';
import {
  HttpTransportChoice,
  type HttpTransportKind,
  type HttpTransportUsed,
} from './http-transport-choice.js';
import { needsLogin } from './login-provider.js';
import { loginStamp, waitForLogin } from './login-wait.js';
import { type RestartDecision, type RestartPolicy, RestartTracker } from './restart-policy.js';
import { describeStartFailure } from './start-failure.js';
import { StderrTail } from './stderr-tail.js';
import { listInitialTools, refreshTools, type ToolListHost } from './tool-list.js';
import type { BackendInfo, BackendNotification, BackendStatus, CallOptions } from './types.js';

/** What a Backend needs from the registry that owns it. */
export interface BackendContext {
  defaultTimeoutMs: number;
  logger: Logger;
  clientInfo: Implementation;
  backoff: RestartPolicy;
  /** Largest message accepted from a stdio backend, in bytes; read per message. */
  maxMessageBytes: () => number;
  /**
   * The log level clients asked for (logging/setLevel), carried in `_meta` on calls to 2026-07-28
   * backends, which have no logging/setLevel; read per call.
   */
  logLevel?: () => LoggingLevel | undefined;
  /** Each wait of a stdio backend's stop sequence, read when stopping (shorter at shutdown). */
  stopStepMs: () => number;
  onStatus(backend: Backend, status: BackendStatus): void;
  onToolsChanged(backend: Backend): void;
  /** Resource, prompt and log notifications of the live connection. */
  onNotification?(backend: Backend, notification: BackendNotification): void;
}

/**
 * One backend MCP server: connects in the background, keeps its tools, calls them, and reconnects with
 * backoff when the connection ends. Created and owned by BackendRegistry.
 *
 * Status: `connecting` during the first attempt and while restarting after a ready backend's
 * connection ended (calls wait for it, within their timeout; its tools stay listed); `ready`; `failed`
 * when it cannot start — its first attempt failed, or it is in a crash loop (see restart-policy.ts) —
 * and it stays `failed` while retrying with backoff until an attempt succeeds (calls fail fast
 * meanwhile); `closed` after remove/close. A call in flight when the process dies is retried once on
 * the restarted process when the tool is safe to repeat (see retry.ts).
 */
export class Backend {
  readonly name: string;
  readonly config: ServerConfig;
  private statusValue: BackendStatus = 'connecting';
  private toolCache: Tool[] = [];
  private lastErrorValue: string | undefined;
  private restartCount = 0;
  /** What the last established connection learnt of the backend's era (see ConnectionSpec.prior). */
  private prior: PriorDiscovery | undefined;
  /** The era and revision the last established connection speaks. */
  private spoken: Pick<BackendInfo, 'era' | 'protocolVersion'> = {};
  /** For a `url` backend: which HTTP transport to speak, and the one the live connection speaks. */
  private readonly httpChoice: HttpTransportChoice | undefined;
  private httpUsed: HttpTransportUsed | undefined;
  private attempts = 0;
  /** Failed starts and early deaths in a row: drives the backoff and the crash-loop verdict. */
  private readonly restarts: RestartTracker;
  private conn: Connection | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Set while the backend waits for `mcp-gateway login` (status "needs login"): stops the wait. */
  private stopLoginWait: (() => void) | undefined;
  private closedBy: 'removed' | 'shutdown' | undefined;
  private closing: Promise<void> | undefined;
  private readonly settleWaiters = new Set<() => void>();
  private readonly stderr = new StderrTail();
  private readonly log: Logger;
  /** Sessions of the calls in flight, for the backend's sampling, elicitation and roots requests. */
  private readonly requesters = new CallRequesters();
  /** What refreshing the tools after a tools/list_changed sees of this backend (tool-list.ts). */
  private readonly toolListHost: ToolListHost;
  /** Calls and requests in flight: timeouts, cancellation, progress, the retry after a crash. */
  private readonly calls: BackendCalls;

  constructor(
    config: ServerConfig,
    private readonly context: BackendContext,
  ) {
    this.name = config.name;
    this.config = config;
    this.log = context.logger.child(config.name, { server: config.name });
    this.restarts = new RestartTracker(context.backoff);
    if (config.transport === 'http') this.httpChoice = new HttpTransportChoice(config.httpTransport);
    this.toolListHost = {
      timeoutMs: () => this.timeoutMs,
      log: this.log,
      isCurrent: (conn) => conn === this.conn,
      isReady: () => this.statusValue === 'ready',
      update: (tools) => {
        this.toolCache = tools;
        this.log.debug(`tools changed: ${tools.length} tools`);
        this.context.onToolsChanged(this);
      },
    };
    this.calls = new BackendCalls(
      {
        name: this.name,
        config,
        log: this.log,
        timeoutMs: () => this.timeoutMs,
        logLevel: () => context.logLevel?.(),
        whileConnecting: (limit, signal) =>
          this.statusValue === 'connecting' ? this.settledOrAborted(limit, signal) : undefined,
        readyConnection: (what, limit) => {
          const conn = this.conn;
          if (this.statusValue !== 'ready' || !conn) throw this.unavailable(what, limit);
          return conn;
        },
        tools: () => this.toolCache,
        isClosed: () => this.closedBy !== undefined,
        served: (conn) => {
          if (conn === this.conn) this.restarts.served();
        },
      },
      this.requesters,
    );
  }

  get status(): BackendStatus {
    return this.statusValue;
  }

  /** The per-call timeout: the backend's own, else the gateway default. Also bounds connecting. */
  get timeoutMs(): number {
    return this.config.timeoutMs ?? this.context.defaultTimeoutMs;
  }

  /** Starts the first connection attempt; returns at once. Called by the registry. */
  start(): void {
    void this.attempt();
  }

  /**
   * Resolves with the backend's info once it is ready, failed or closed, or when `timeoutMs` has passed
   * (then the status may still be `connecting`). Never rejects.
   */
  whenSettled(timeoutMs?: number): Promise<BackendInfo> {
    if (this.statusValue !== 'connecting') return Promise.resolve(this.info());
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(timer);
        this.settleWaiters.delete(done);
        resolve(this.info());
      };
      this.settleWaiters.add(done);
      if (timeoutMs !== undefined) timer = setTimeout(done, timeoutMs);
    });
  }

  info(): BackendInfo {
    const c = this.config;
    const alive = this.conn && !this.conn.ended && !this.conn.exit;
    return {
      name: this.name,
      transport: c.transport,
      status: this.statusValue,
      ...(c.description === undefined ? {} : { description: c.description }),
      target: describeTarget(c),
      toolCount: this.toolCache.length,
      tools: this.toolCache.map((t) => t.name),
      ...(this.lastErrorValue === undefined ? {} : { lastError: this.lastErrorValue }),
      stderrTail: this.stderr.lines(),
      source: c.source,
      ...(alive && this.conn?.pid !== undefined ? { pid: this.conn.pid } : {}),
      restarts: this.restartCount,
      timeoutMs: this.timeoutMs,
      protocol: c.protocol ?? 'auto',
      ...this.spoken,
      ...(this.httpUsed ? { httpTransport: this.httpUsed } : {}),
    };
  }

  /** The tools as the backend last listed them (empty when it never connected or has failed). */
  toolDefinitions(): Tool[] {
    return [...this.toolCache];
  }

  /**
   * Whether the registry serves this backend's tools: when ready, and while reconnecting after a
   * crash (calls wait for the reconnect), so a quick restart does not make the tools flicker.
   */
  servesTools(): boolean {
    return this.statusValue === 'ready' || (this.statusValue === 'connecting' && this.toolCache.length > 0);
  }

  callTool(tool: string, args: Record<string, unknown>, options: CallOptions = {}): Promise<CallToolResult> {
    return this.calls.callTool(tool, args, options);
  }

  /**
   * Resolves once no call is in flight, counting calls still waiting for a connection (at once when
   * there are none). A config reload drains a backend this way before closing it.
   */
  whenIdle(): Promise<void> {
    return this.calls.whenIdle();
  }

  /**
   * Runs one request other than tools/call (resources, prompts, completions, logging) on the live
   * connection, as a call in flight: whenIdle waits for it (a reload's or remove's drain), and closing
   * the backend ends it with BACKEND_REMOVED / BACKEND_UNAVAILABLE. `fn` gets the client, what the
   * backend declared, a signal to pass on (the caller's, or this backend closing) and the time left.
   */
  request<T>(
    what: string,
    fn: BackendRequest<T>,
    options: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<T> {
    return this.calls.request(what, fn, options);
  }

  /** What the backend declared in its live connection; undefined unless it is ready. */
  capabilities(): ServerCapabilities | undefined {
    if (this.statusValue !== 'ready') return undefined;
    return this.conn?.client.getServerCapabilities();
  }

  /**
   * Stops it for good: ends calls in flight, closes the connection and waits for the process to go.
   * Called by the registry (use `registry.remove`, which also takes it off the list).
   */
  close(kind: 'removed' | 'shutdown'): Promise<void> {
    if (this.closing) return this.closing;
    this.closedBy = kind;
    clearTimeout(this.retryTimer);
    this.stopLoginWait?.();
    this.calls.endAll(kind);
    this.toolCache = [];
    this.setStatus('closed');
    const conn = this.conn;
    this.closing = conn ? conn.close(this.log) : Promise.resolve();
    return this.closing;
  }

  // ── connecting ───────────────────────────────────────────────────────────

  private async attempt(): Promise<void> {
    if (this.closedBy) return;
    if (this.attempts++ > 0) this.restartCount++;
    const at: AttemptState = { phase: 'start' };
    const storeStamp = loginStamp(this.config);
    try {
      const conn = await connectAttempt(at, {
        choice: this.httpChoice,
        open: (kind) => this.open(kind),
        adopt: (c) => {
          this.conn = c;
        },
        current: (c) => this.conn === c && !this.closedBy,
        timeoutMs: this.timeoutMs,
        log: this.log,
      });
      at.phase = 'tools/list';
      const tools = await listInitialTools(conn, this.timeoutMs);
      if (this.closedBy || this.conn !== conn) return;
      conn.established = true;
      this.prior = priorOf(conn.client);
      const era = conn.client.getProtocolEra();
      const version = conn.client.getNegotiatedProtocolVersion();
      this.spoken = { ...(era ? { era } : {}), ...(version ? { protocolVersion: version } : {}) };
      this.httpUsed = at.kind && this.httpChoice?.connected(at.kind);
      listenForChanges(conn, this.log);
      this.toolCache = tools;
      this.restarts.ready();
      this.setStatus('ready');
      this.log.info(`ready with ${tools.length} tools${conn.pid ? ` (pid ${conn.pid})` : ''}`);
      this.context.onToolsChanged(this);
    } catch (err) {
      const conn = at.conn;
      if (this.closedBy || (conn && this.conn !== conn)) return;
      const login = needsLogin(err);
      if (login) return this.awaitLogin(login.message, conn, storeStamp);
      const reason = await describeStartFailure(err, at.phase, conn, {
        config: this.config,
        timeoutMs: this.timeoutMs,
      });
      if (this.closedBy) return;
      if (at.kind) this.httpChoice?.failed(at.kind);
      this.lastErrorValue = reason;
      const decision = this.restarts.startFailed(this.timeoutMs);
      if (decision.failFast) this.fail();
      this.log.warn(`failed to start: ${reason}; ${describeRetry(decision)}`);
      if (conn) await conn.close(this.log);
      this.scheduleRetry(decision.delayMs);
    }
  }

  /** No retries with backoff: the next attempt comes when the token store changes (a login). */
  private async awaitLogin(reason: string, conn: Connection | undefined, since: number): Promise<void> {
    this.lastErrorValue = reason;
    const hadTools = this.toolCache.length > 0;
    this.toolCache = [];
    this.setStatus('needs login');
    if (hadTools) this.context.onToolsChanged(this);
    this.log.warn(reason);
    if (conn) await conn.close(this.log);
    if (this.closedBy || this.stopLoginWait) return;
    const stop = waitForLogin(this.config, since, () => {
      if (this.stopLoginWait !== stop) return; // already woken
      stop();
      this.stopLoginWait = undefined;
      if (!this.closedBy) void this.attempt();
    });
    this.stopLoginWait = stop;
  }

  /** Calls fail fast and the tools are withdrawn until an attempt succeeds. */
  private fail(): void {
    const hadTools = this.toolCache.length > 0;
    this.toolCache = [];
    this.setStatus('failed');
    if (hadTools) this.context.onToolsChanged(this);
  }

  private scheduleRetry(delay: number): void {
    if (this.closedBy) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.attempt();
    }, delay);
    // Retrying alone keeps no process alive; whoever uses the registry does.
    this.retryTimer.unref();
  }

  /** Opens a connection whose events come back to this backend while it is the live one. */
  private open(httpTransport: HttpTransportKind | undefined): { conn: Connection; connected: Promise<void> } {
    const health: HealthCheckHost = {
      config: this.config,
      timeoutMs: this.timeoutMs,
      log: this.log,
      isCurrent: (c) => c === this.conn,
      setLastError: (text) => {
        this.lastErrorValue = text;
      },
    };
    return openConnection(
      {
        config: this.config,
        clientInfo: this.context.clientInfo,
        timeoutMs: this.timeoutMs,
        maxMessageBytes: this.context.maxMessageBytes,
        stopStepMs: this.context.stopStepMs,
        log: this.log,
        stderr: this.stderr,
        requesters: this.requesters,
        prior: this.prior,
        httpTransport,
      },
      {
        closed: (conn) => this.onClosed(conn),
        httpFailed: (conn, failure) => void checkHttp(conn, failure, health),
        sseStreamLost: (conn, why) => endSseSession(conn, why, health),
        toolListChanged: (conn) => refreshTools(conn, this.toolListHost),
        notification: (conn, notification) => {
          if (this.conn === conn && !this.closedBy) this.context.onNotification?.(this, notification);
        },
        progress: (params) => this.calls.progress.deliver(params),
      },
    );
  }

  private onClosed(conn: Connection): void {
    conn.markEnded();
    if (conn !== this.conn || conn.closing || !conn.established || this.closedBy) return;
    // A ready backend went away: calls wait for the reconnect and the tools stay listed, unless it is
    // crash-looping (then it is failed and calls fail fast).
    const decision = this.restarts.ended(this.timeoutMs);
    if (decision.failFast) this.fail();
    else this.setStatus('connecting');
    void conn.endReason.then(async (reason) => {
      this.lastErrorValue = reason;
      this.log.warn(`${reason}; ${describeRetry(decision, 'reconnecting')}`);
      await conn.close(this.log);
      this.scheduleRetry(decision.delayMs);
    });
  }

  // ── status ───────────────────────────────────────────────────────────────

  private setStatus(status: BackendStatus): void {
    if (this.statusValue === status) return;
    this.statusValue = status;
    this.context.onStatus(this, status);
    if (status !== 'connecting') for (const done of [...this.settleWaiters]) done();
  }

  private unavailable(tool: string, limit: number): GatewayError {
    return unavailableError(this.name, tool, {
      status: this.statusValue,
      limit,
      lastError: this.lastErrorValue,
    });
  }

  private settledOrAborted(timeoutMs: number, signal: AbortSignal | undefined): Promise<unknown> {
    if (!signal) return this.whenSettled(timeoutMs);
    let onAbort = () => {};
    const aborted = new Promise<void>((resolve) => {
      onAbort = resolve;
      signal.addEventListener('abort', onAbort, { once: true });
    });
    return Promise.race([this.whenSettled(timeoutMs), aborted]).finally(() =>
      signal.removeEventListener('abort', onAbort),
    );
  }
}

/** `retrying in 250 ms (2 failures in a row)`, for the log. */
function describeRetry(decision: RestartDecision, verb = 'retrying'): string {
  const inARow = decision.failures > 0 ? ` (${decision.failures} failures in a row)` : '';
  return `${verb} in ${decision.delayMs} ms${inARow}`;
}
