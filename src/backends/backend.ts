import type {
  CallToolResult,
  Implementation,
  LoggingLevel,
  ServerCapabilities,
  Tool,
} from '@modelcontextprotocol/client';
import type { ServerConfig } from '../config/types.js';
import type { GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import { BackendCalls, type BackendRequest } from './backend-calls.js';
import { BackendLifecycle, type BackendState } from './backend-lifecycle.js';
import { unavailableError } from './call-errors.js';
import { CallRequesters } from './call-routing.js';
import { describeTarget } from './describe.js';
import type { RestartPolicy } from './restart-policy.js';
import { StderrTail } from './stderr-tail.js';
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
 * backoff when the connection ends. Created and owned by BackendRegistry. This class is the surface the
 * registry uses (status, info, calls, close); connecting, reconnecting and waiting for a login are
 * backend-lifecycle.ts, the calls themselves backend-calls.ts.
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
  /** Shared with the lifecycle, which writes what it learns of the backend. */
  private readonly state: BackendState = {
    status: 'connecting',
    tools: [],
    lastError: undefined,
    restartCount: 0,
    spoken: {},
    httpUsed: undefined,
    conn: undefined,
    closedBy: undefined,
  };
  private readonly lifecycle: BackendLifecycle;
  private closing: Promise<void> | undefined;
  private readonly settleWaiters = new Set<() => void>();
  private readonly stderr = new StderrTail();
  private readonly log: Logger;
  /** Sessions of the calls in flight, for the backend's sampling, elicitation and roots requests. */
  private readonly requesters = new CallRequesters();
  /** Calls and requests in flight: timeouts, cancellation, progress, the retry after a crash. */
  private readonly calls: BackendCalls;

  constructor(
    config: ServerConfig,
    private readonly context: BackendContext,
  ) {
    this.name = config.name;
    this.config = config;
    this.log = context.logger.child(config.name, { server: config.name });
    const { state } = this;
    this.lifecycle = new BackendLifecycle({
      config,
      context,
      log: this.log,
      stderr: this.stderr,
      requesters: this.requesters,
      state,
      timeoutMs: () => this.timeoutMs,
      setStatus: (status) => this.setStatus(status),
      toolsChanged: () => context.onToolsChanged(this),
      notification: (notification) => context.onNotification?.(this, notification),
      progress: (params) => this.calls.progress.deliver(params),
    });
    this.calls = new BackendCalls(
      {
        name: this.name,
        config,
        log: this.log,
        timeoutMs: () => this.timeoutMs,
        logLevel: () => context.logLevel?.(),
        whileConnecting: (limit, signal) =>
          state.status === 'connecting' ? this.settledOrAborted(limit, signal) : undefined,
        readyConnection: (what, limit) => {
          const conn = state.conn;
          if (state.status !== 'ready' || !conn) throw this.unavailable(what, limit);
          return conn;
        },
        tools: () => state.tools,
        isClosed: () => state.closedBy !== undefined,
        served: (conn) => this.lifecycle.served(conn),
      },
      this.requesters,
    );
  }

  get status(): BackendStatus {
    return this.state.status;
  }

  /** The per-call timeout: the backend's own, else the gateway default. Also bounds connecting. */
  get timeoutMs(): number {
    return this.config.timeoutMs ?? this.context.defaultTimeoutMs;
  }

  /** Starts the first connection attempt; returns at once. Called by the registry. */
  start(): void {
    this.lifecycle.start();
  }

  /**
   * Resolves with the backend's info once it is ready, failed or closed, or when `timeoutMs` has passed
   * (then the status may still be `connecting`). Never rejects.
   */
  whenSettled(timeoutMs?: number): Promise<BackendInfo> {
    if (this.state.status !== 'connecting') return Promise.resolve(this.info());
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
    const alive = this.state.conn && !this.state.conn.ended && !this.state.conn.exit;
    return {
      name: this.name,
      transport: c.transport,
      status: this.state.status,
      ...(c.description === undefined ? {} : { description: c.description }),
      target: describeTarget(c),
      toolCount: this.state.tools.length,
      tools: this.state.tools.map((t) => t.name),
      ...(this.state.lastError === undefined ? {} : { lastError: this.state.lastError }),
      stderrTail: this.stderr.lines(),
      source: c.source,
      ...(alive && this.state.conn?.pid !== undefined ? { pid: this.state.conn.pid } : {}),
      restarts: this.state.restartCount,
      timeoutMs: this.timeoutMs,
      protocol: c.protocol ?? 'auto',
      ...this.state.spoken,
      ...(this.state.httpUsed ? { httpTransport: this.state.httpUsed } : {}),
    };
  }

  /** The tools as the backend last listed them (empty when it never connected or has failed). */
  toolDefinitions(): Tool[] {
    return [...this.state.tools];
  }

  /**
   * Whether the registry serves this backend's tools: when ready, and while reconnecting after a
   * crash (calls wait for the reconnect), so a quick restart does not make the tools flicker.
   */
  servesTools(): boolean {
    return (
      this.state.status === 'ready' || (this.state.status === 'connecting' && this.state.tools.length > 0)
    );
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
    if (this.state.status !== 'ready') return undefined;
    return this.state.conn?.client.getServerCapabilities();
  }

  /**
   * Stops it for good: ends calls in flight, closes the connection and waits for the process to go.
   * Called by the registry (use `registry.remove`, which also takes it off the list).
   */
  close(kind: 'removed' | 'shutdown'): Promise<void> {
    if (this.closing) return this.closing;
    this.state.closedBy = kind;
    this.lifecycle.stop();
    this.calls.endAll(kind);
    this.state.tools = [];
    this.setStatus('closed');
    const conn = this.state.conn;
    this.closing = conn ? conn.close(this.log) : Promise.resolve();
    return this.closing;
  }

  // ── status ───────────────────────────────────────────────────────────────

  private setStatus(status: BackendStatus): void {
    if (this.state.status === status) return;
    this.state.status = status;
    this.context.onStatus(this, status);
    if (status !== 'connecting') for (const done of [...this.settleWaiters]) done();
  }

  private unavailable(tool: string, limit: number): GatewayError {
    return unavailableError(this.name, tool, {
      status: this.state.status,
      limit,
      lastError: this.state.lastError,
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
