import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  type CallToolResult,
  CallToolResultSchema,
  ErrorCode,
  type Implementation,
  ListToolsResultSchema,
  LoggingMessageNotificationSchema,
  McpError,
  ProgressNotificationSchema,
  type ServerCapabilities,
  type Tool,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type { ServerConfig } from '../config/types.js';
import { GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import { killGroup, StdioChildTransport } from '../transport/index.js';
import { BackendClient } from './backend-client.js';
import { CallRequesters } from './call-routing.js';
import {
  describeError,
  describeExit,
  describeHttpFailure,
  describeTarget,
  type ExitInfo,
} from './describe.js';
import { CallTaggingHttpTransport } from './http-call-transport.js';
import { attachPassthrough, BACKEND_CLIENT_CAPABILITIES } from './passthrough.js';
import { type RestartDecision, type RestartPolicy, RestartTracker } from './restart-policy.js';
import { retriesOnCrash } from './retry.js';
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
  /** Each wait of a stdio backend's stop sequence, read when stopping (shorter at shutdown). */
  stopStepMs: () => number;
  onStatus(backend: Backend, status: BackendStatus): void;
  onToolsChanged(backend: Backend): void;
  /** Resource, prompt and log notifications of the live connection. */
  onNotification?(backend: Backend, notification: BackendNotification): void;
}

/** One attempt at talking to the backend: one Client, one transport, for stdio one process. */
interface Connection {
  readonly client: Client;
  readonly transport: Transport;
  /** Set right after spawn for stdio. */
  child: ChildProcess | undefined;
  pid: number | undefined;
  /** Where this process's stderr starts in the backend's tail. */
  readonly stderrMark: number;
  exit?: ExitInfo;
  exited: Promise<void>;
  /** Initialized and listed its tools. */
  established: boolean;
  /** We are closing it; its close is not a crash. */
  closing: boolean;
  /** The transport has closed. */
  ended: boolean;
  /** Resolves, once it has ended, with why: `exited with code 3; stderr: …`. */
  readonly endReason: Promise<string>;
  markEnded(): void;
  /** A tools/list_changed arrived; the listing in progress may be stale. */
  toolsStale: boolean;
  refreshing: boolean;
  /** Why the gateway's side closed it, when it did (an HTTP backend that stopped answering). */
  fault?: string;
  /** An HTTP request failed and a ping is checking whether the backend is still there. */
  checking: boolean;
}

interface InFlightCall {
  tool: string;
  controller: AbortController;
  /** Set when the gateway ended the call itself (server removed, shutdown). */
  endedBy?: GatewayError;
}

/** Lines of a process's own stderr quoted in an error. */
const STDERR_LINES_IN_ERROR = 3;
/**
 * The stdio transport's close ends stdin, waits 2 s, sends SIGTERM to the process group, waits 2 s and
 * sends SIGKILL to the group. Should the direct child still run after that, we wait this long for its
 * exit before sending SIGKILL to the group ourselves.
 */
const EXIT_GRACE_MS = 1_000;
/** Longest wait for the ping that checks an HTTP backend after a failed request. */
const PING_TIMEOUT_MS = 5_000;

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
  private attempts = 0;
  /** Failed starts and early deaths in a row: drives the backoff and the crash-loop verdict. */
  private readonly restarts: RestartTracker;
  private conn: Connection | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private closedBy: 'removed' | 'shutdown' | undefined;
  private closing: Promise<void> | undefined;
  private readonly calls = new Set<InFlightCall>();
  /** Calls in `callTool` and requests in `request`, including those still waiting for the backend to connect. */
  private active = 0;
  private readonly idleWaiters = new Set<() => void>();
  private readonly settleWaiters = new Set<() => void>();
  private readonly stderr = new StderrTail();
  private readonly log: Logger;
  /** onProgress of calls in flight, by the progressToken we sent. */
  private readonly progressListeners = new Map<string, NonNullable<CallOptions['onProgress']>>();
  private progressSeq = 0;
  /** Sessions of the calls in flight, for the backend's sampling, elicitation and roots requests. */
  private readonly requesters = new CallRequesters();

  constructor(
    config: ServerConfig,
    private readonly context: BackendContext,
  ) {
    this.name = config.name;
    this.config = config;
    this.log = context.logger.child(config.name);
    this.restarts = new RestartTracker(context.backoff);
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

  async callTool(
    tool: string,
    args: Record<string, unknown>,
    options: CallOptions = {},
  ): Promise<CallToolResult> {
    this.active++;
    const started = Date.now();
    try {
      try {
        return await this.runCall(tool, args, options);
      } catch (err) {
        const left = (options.timeoutMs ?? this.timeoutMs) - (Date.now() - started);
        if (!this.retryAfterCrash(tool, err, options.signal, left)) throw err;
        this.log.info(`retrying ${tool} on the restarted process: it was in flight when the process died`);
        return await this.runCall(tool, args, { ...options, timeoutMs: left });
      }
    } finally {
      if (--this.active === 0) for (const done of [...this.idleWaiters]) done();
    }
  }

  /** Whether a call that failed with `err` is sent once more, to the restarted process. */
  private retryAfterCrash(
    tool: string,
    err: unknown,
    signal: AbortSignal | undefined,
    left: number,
  ): boolean {
    if (!(err instanceof GatewayError) || err.code !== 'BACKEND_EXITED') return false;
    if (this.closedBy || signal?.aborted || left <= 0) return false;
    const definition = this.toolCache.find((t) => t.name === tool);
    return retriesOnCrash(tool, definition, this.config.retryOnCrash);
  }

  /**
   * Resolves once no call is in flight, counting calls still waiting for a connection (at once when
   * there are none). A config reload drains a backend this way before closing it.
   */
  whenIdle(): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.idleWaiters.delete(done);
        resolve();
      };
      this.idleWaiters.add(done);
    });
  }

  private async runCall(
    tool: string,
    args: Record<string, unknown>,
    options: CallOptions,
  ): Promise<CallToolResult> {
    const limit = options.timeoutMs ?? this.timeoutMs;
    const started = Date.now();
    const { signal } = options;
    if (signal?.aborted) throw this.cancelled(tool, signal);
    if (this.statusValue === 'connecting') {
      await this.settledOrAborted(limit, signal);
      if (signal?.aborted) throw this.cancelled(tool, signal);
    }
    const conn = this.conn;
    if (this.statusValue !== 'ready' || !conn) throw this.unavailable(tool, limit);
    if (!this.toolCache.some((t) => t.name === tool)) {
      const names = this.toolCache.map((t) => t.name).join(', ') || '(none)';
      throw new GatewayError(
        'TOOL_UNKNOWN',
        `server '${this.name}' has no tool '${tool}'; its tools: ${names}`,
        {
          server: this.name,
          tool,
        },
      );
    }

    // A call of its own controller, so the caller's signal (perhaps shared by a whole pipeline run) is
    // unhooked when the call ends: the SDK never removes the abort listener it adds.
    const call: InFlightCall = { tool, controller: new AbortController() };
    const onAbort = () => call.controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    this.calls.add(call);
    const progressToken = options.onProgress ? `gw-${++this.progressSeq}` : undefined;
    if (progressToken && options.onProgress) this.progressListeners.set(progressToken, options.onProgress);
    const timeout = Math.max(limit - (Date.now() - started), 1);
    const params = { name: tool, arguments: args, ...(progressToken ? { _meta: { progressToken } } : {}) };
    // Keyed by `params`, the object the SDK sends: the HTTP transport learns the call's JSON-RPC id by it.
    const releaseRequester = this.requesters.begin(params, options.requester);
    try {
      // client.request, not client.callTool: the result goes back unchanged, and output-schema checks
      // belong to the end client (callTool's validator cache is also reset by every tools/list page).
      const result = await conn.client.request(
        { method: 'tools/call', params },
        CallToolResultSchema,
        // A timeout and an abort each make the SDK send notifications/cancelled to the backend.
        { signal: call.controller.signal, timeout },
      );
      // It answered: this process ran and served, so its death would not count toward a crash loop.
      if (conn === this.conn) this.restarts.served();
      return result;
    } catch (err) {
      throw await this.callError(err, { call, conn, limit, timeout, signal });
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.calls.delete(call);
      if (progressToken) this.progressListeners.delete(progressToken);
      releaseRequester();
    }
  }

  /**
   * The SDK client of the live connection and what the backend declared, once it is ready (waiting,
   * within `timeoutMs`, while it connects). Private: a request made on the client directly would
   * escape the in-flight count; `request` is the way in. Throws BACKEND_UNAVAILABLE when not ready.
   */
  private async connection(
    what: string,
    options: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<{ client: Client; capabilities: ServerCapabilities }> {
    const limit = options.timeoutMs ?? this.timeoutMs;
    if (this.statusValue === 'connecting') await this.settledOrAborted(limit, options.signal);
    if (options.signal?.aborted) throw this.cancelled(what, options.signal);
    const conn = this.conn;
    if (this.statusValue !== 'ready' || !conn) throw this.unavailable(what, limit);
    return { client: conn.client, capabilities: conn.client.getServerCapabilities() ?? {} };
  }

  /**
   * Runs one request other than tools/call (resources, prompts, completions, logging) on the live
   * connection, as a call in flight: whenIdle waits for it (a reload's or remove's drain), and closing
   * the backend ends it with BACKEND_REMOVED / BACKEND_UNAVAILABLE. `fn` gets the client, what the
   * backend declared, a signal to pass on (the caller's, or this backend closing) and the time left.
   */
  async request<T>(
    what: string,
    fn: (c: {
      client: Client;
      capabilities: ServerCapabilities;
      signal: AbortSignal;
      timeoutMs: number;
    }) => Promise<T>,
    options: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<T> {
    const limit = options.timeoutMs ?? this.timeoutMs;
    const started = Date.now();
    const { signal } = options;
    const call: InFlightCall = { tool: what, controller: new AbortController() };
    const onAbort = () => call.controller.abort(signal?.reason);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    this.active++;
    this.calls.add(call);
    try {
      const own = call.controller.signal;
      const live = await this.connection(what, { timeoutMs: limit, signal: own });
      return await fn({ ...live, signal: own, timeoutMs: Math.max(limit - (Date.now() - started), 1) });
    } catch (err) {
      throw call.endedBy ?? err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.calls.delete(call);
      if (--this.active === 0) for (const done of [...this.idleWaiters]) done();
    }
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
    for (const call of this.calls) {
      const what =
        kind === 'removed'
          ? new GatewayError(
              'BACKEND_REMOVED',
              `server '${this.name}' was removed while '${call.tool}' was running`,
            )
          : new GatewayError(
              'BACKEND_UNAVAILABLE',
              `server '${this.name}' was shut down while '${call.tool}' was running (the gateway is closing)`,
            );
      Object.assign(what.data, { server: this.name, tool: call.tool });
      call.endedBy = what;
      // Aborting sends notifications/cancelled while the connection is still open.
      call.controller.abort(what);
    }
    this.toolCache = [];
    this.setStatus('closed');
    const conn = this.conn;
    this.closing = conn ? this.closeConnection(conn) : Promise.resolve();
    return this.closing;
  }

  // ── connecting ───────────────────────────────────────────────────────────

  private async attempt(): Promise<void> {
    if (this.closedBy) return;
    if (this.attempts++ > 0) this.restartCount++;
    let conn: Connection | undefined;
    let phase = 'start';
    try {
      const opened = this.open();
      conn = opened.conn;
      this.conn = conn;
      phase = 'initialize';
      await connectedOrEnded(conn, opened.connected, this.timeoutMs);
      phase = 'tools/list';
      let tools = await listAllTools(conn.client, this.timeoutMs);
      while (conn.toolsStale) {
        conn.toolsStale = false;
        tools = await listAllTools(conn.client, this.timeoutMs);
      }
      if (this.closedBy || this.conn !== conn) return;
      conn.established = true;
      this.toolCache = tools;
      this.restarts.ready();
      this.setStatus('ready');
      this.log.info(`ready with ${tools.length} tools${conn.pid ? ` (pid ${conn.pid})` : ''}`);
      this.context.onToolsChanged(this);
    } catch (err) {
      if (this.closedBy || (conn && this.conn !== conn)) return;
      const reason = await this.describeFailure(err, phase, conn);
      if (this.closedBy) return;
      this.lastErrorValue = reason;
      const decision = this.restarts.startFailed(this.timeoutMs);
      if (decision.failFast) this.fail();
      this.log.warn(`failed to start: ${reason}; ${describeRetry(decision)}`);
      if (conn) await this.closeConnection(conn);
      this.scheduleRetry(decision.delayMs);
    }
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

  /** Creates the transport and client and starts connecting. Throws only on a bad config (URL). */
  private open(): { conn: Connection; connected: Promise<void> } {
    const config = this.config;
    let transport: Transport;
    if (config.transport === 'stdio') {
      const stdio = new StdioChildTransport({
        command: config.command,
        args: config.args,
        // The SDK's safe subset of our environment (HOME, LOGNAME, PATH, SHELL, TERM, USER) plus what the
        // user configured for this server: the gateway's own secrets (tokens in its environment) do not
        // leak into every backend, and a backend gets exactly what its config asks for.
        env: { ...getDefaultEnvironment(), ...config.env },
        cwd: config.cwd,
        maxMessageBytes: this.context.maxMessageBytes,
        warn: (message) => this.log.warn(message),
        peer: `server '${this.name}'`,
        stopStepMs: this.context.stopStepMs,
      });
      // Attached before start so output written before initialize (why it is about to exit) is kept.
      this.stderr.attach(stdio.stderr as Readable, (line) => this.log.debug(`stderr: ${line}`));
      transport = stdio;
    } else {
      const { url, headers } = httpEndpoint(config.url, config.headers);
      // Tells which call a backend's sampling, elicitation or roots request belongs to (call-routing.ts).
      transport = new CallTaggingHttpTransport(url, { requestInit: { headers } }, this.requesters);
    }

    const client = new BackendClient(
      this.context.clientInfo,
      { capabilities: BACKEND_CLIENT_CAPABILITIES },
      this.requesters,
    );
    let resolveEnded!: (reason: string) => void;
    const endReason = new Promise<string>((resolve) => {
      resolveEnded = resolve;
    });
    const conn: Connection = {
      client,
      transport,
      child: undefined,
      pid: undefined,
      stderrMark: this.stderr.mark(),
      exited: Promise.resolve(),
      established: false,
      closing: false,
      ended: false,
      endReason,
      markEnded: () => {
        if (conn.ended) return;
        conn.ended = true;
        // The last stderr chunks pass through a PassThrough; let them land before quoting them.
        setImmediate(() => resolveEnded(this.describeEnd(conn)));
      },
      toolsStale: false,
      refreshing: false,
      checking: false,
    };
    client.onclose = () => this.onClosed(conn);
    client.onerror = (error) => {
      this.log.debug(`client error: ${describeError(error)}`);
      const failure = this.config.transport === 'http' ? describeHttpFailure(error) : undefined;
      if (failure) void this.checkHttp(conn, failure);
    };
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => this.refreshTools(conn));
    const notify = (notification: BackendNotification) => {
      if (this.conn === conn && !this.closedBy) this.context.onNotification?.(this, notification);
    };
    attachPassthrough(client, { server: this.name, requesters: this.requesters, notify });
    client.setNotificationHandler(LoggingMessageNotificationSchema, ({ params }) => {
      const data = typeof params.data === 'string' ? params.data : JSON.stringify(params.data);
      this.log.debug(
        `log ${params.level}${params.logger ? ` ${params.logger}` : ''}: ${data?.slice(0, 1000)}`,
      );
      notify({ kind: 'log', params });
    });
    // Progress is routed here rather than through RequestOptions.onprogress: the SDK (1.32) dispatches
    // notifications on a microtask but a response synchronously, and drops the request's progress
    // handler on the response, so the last progress sent just before the result (same read) was lost.
    // Our listener goes only when the caller's await resumes, after the queued notifications ran.
    client.setNotificationHandler(ProgressNotificationSchema, ({ params }) => {
      const { progressToken, progress, total, message } = params;
      this.progressListeners.get(String(progressToken))?.({ progress, total, message });
    });

    // connect() spawns the process synchronously before its first await, so the child exists here and
    // its exit cannot have been missed.
    const connected = client.connect(transport, { timeout: this.timeoutMs });
    if (transport instanceof StdioChildTransport) {
      const child = transport.child;
      conn.pid = transport.pid;
      conn.child = child;
      if (child) {
        // The SDK waits for 'drain' once per message written while the pipe is full, and a backend that
        // is slow or just died has one waiter per call in flight: many calls, not a leak. Raised, not
        // removed, so a real runaway still warns.
        child.stdin?.setMaxListeners(10_000);
        conn.exited = new Promise((resolve) => {
          child.once('exit', (code, signal) => {
            conn.exit = { code, signal };
            resolve();
          });
          child.once('error', () => resolve());
        });
      }
    }
    return { conn, connected };
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
      await this.closeConnection(conn);
      this.scheduleRetry(decision.delayMs);
    });
  }

  /**
   * A request to a ready HTTP backend failed below MCP (refused, reset, HTTP 5xx): a stateless transport
   * never closes, so note it in lastError and ping once. If the ping fails too, the connection counts as
   * ended and the reconnect with backoff takes over; a backend that answers the ping stays ready.
   */
  private async checkHttp(conn: Connection, failure: string): Promise<void> {
    if (conn !== this.conn || !conn.established || conn.ended || conn.closing || conn.checking) return;
    conn.checking = true;
    const target = describeTarget(this.config);
    this.lastErrorValue = `request to ${target} failed: ${failure}`;
    const timeout = Math.min(this.timeoutMs, PING_TIMEOUT_MS);
    try {
      await conn.client.ping({ timeout });
    } catch (err) {
      const timedOut = isSdkTimeout(err, timeout);
      // An answer, even an error, or the connection closing meanwhile: nothing more to do here.
      if ((err instanceof McpError && !timedOut) || conn !== this.conn || conn.ended || conn.closing) return;
      const why = timedOut
        ? `${failure}, then no answer to ping within ${timeout} ms`
        : (describeHttpFailure(err) ?? describeError(err));
      conn.fault = `request to ${target} failed: ${why}`;
      // Not closeConnection: onClosed sees this as the connection ending (status, lastError, retry).
      await conn.client.close().catch((e: unknown) => this.log.debug(`close: ${describeError(e)}`));
    } finally {
      conn.checking = false;
    }
  }

  private refreshTools(conn: Connection): void {
    if (!conn.established) {
      conn.toolsStale = true;
      return;
    }
    if (conn.refreshing) {
      conn.toolsStale = true;
      return;
    }
    conn.refreshing = true;
    void (async () => {
      try {
        do {
          conn.toolsStale = false;
          const tools = await listAllTools(conn.client, this.timeoutMs);
          if (conn !== this.conn || this.statusValue !== 'ready') return;
          this.toolCache = tools;
          this.log.debug(`tools changed: ${tools.length} tools`);
          this.context.onToolsChanged(this);
        } while (conn.toolsStale);
      } catch (err) {
        if (conn === this.conn && !conn.ended)
          this.log.warn(`could not refresh tools: ${describeError(err)}`);
      } finally {
        conn.refreshing = false;
      }
    })();
  }

  private async closeConnection(conn: Connection): Promise<void> {
    conn.closing = true;
    try {
      await conn.client.close();
    } catch (err) {
      this.log.debug(`close: ${describeError(err)}`);
    }
    if (conn.pid === undefined) return;
    if (await exitedWithin(conn, EXIT_GRACE_MS)) return;
    this.log.warn(`pid ${conn.pid} outlived close; sending SIGKILL to its process group`);
    killGroup(conn.pid, 'SIGKILL');
    await exitedWithin(conn, 1_000);
  }

  // ── errors ───────────────────────────────────────────────────────────────

  private async describeFailure(err: unknown, phase: string, conn: Connection | undefined): Promise<string> {
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    if (this.config.transport === 'stdio' && (code === 'ENOENT' || code === 'EACCES')) {
      const cwd = this.config.cwd;
      const why =
        code === 'EACCES'
          ? 'permission denied'
          : cwd !== undefined && !existsSync(cwd)
            ? `its working directory '${cwd}' does not exist`
            : 'command not found';
      return `could not start '${this.config.command}': ${why} (${describeError(err)})`;
    }
    if (conn && err instanceof McpError && err.code === ErrorCode.RequestTimeout) {
      const lines = this.stderr.since(conn.stderrMark, STDERR_LINES_IN_ERROR);
      return `did not answer ${phase} within ${this.timeoutMs} ms${lines.length ? `; stderr: ${lines.join(' | ')}` : ''}`;
    }
    if (conn && this.config.transport === 'stdio' && (conn.ended || conn.exit)) {
      // Exited before it was ready; wait for the close (bounded: a grandchild may hold the pipes).
      conn.markEnded();
      await Promise.race([conn.endReason, delay(1_000)]);
      return this.describeEnd(conn, ` during ${phase}`);
    }
    if (this.config.transport === 'http' && phase === 'initialize') {
      return `could not connect to ${describeTarget(this.config)}: ${describeError(err)}`;
    }
    return `${phase} failed: ${describeError(err)}`;
  }

  /** `exited with code 3; stderr: …`; `when` goes after the first part (` during initialize`). */
  private describeEnd(conn: Connection, when = ''): string {
    let what: string;
    if (conn.fault) what = conn.fault;
    else if (conn.exit) what = describeExit(conn.exit);
    else what = this.config.transport === 'stdio' ? 'closed its connection' : 'connection closed';
    what += when;
    const lines = this.stderr.since(conn.stderrMark, STDERR_LINES_IN_ERROR);
    return lines.length ? `${what}; stderr: ${lines.join(' | ')}` : what;
  }

  private async callError(
    err: unknown,
    at: {
      call: InFlightCall;
      conn: Connection;
      limit: number;
      timeout: number;
      signal: AbortSignal | undefined;
    },
  ): Promise<unknown> {
    const { call, conn, signal } = at;
    const data = { server: this.name, tool: call.tool };
    if (call.endedBy) return call.endedBy;
    if (signal?.aborted) return this.cancelled(call.tool, signal);
    if (isSdkTimeout(err, at.timeout)) {
      return new GatewayError('BACKEND_TIMEOUT', `${this.name}.${call.tool} timed out after ${at.limit} ms`, {
        ...data,
        timeoutMs: at.limit,
      });
    }
    if (conn.ended) {
      // ConnectionClosed from the SDK, or "Not connected" if the call raced the close.
      const reason = await conn.endReason;
      const verb = this.config.transport === 'stdio' ? 'exited' : 'disconnected';
      return new GatewayError(
        'BACKEND_EXITED',
        `server '${this.name}' ${verb} while '${call.tool}' was running: ${reason}`,
        { ...data, reason, stderr: this.stderr.since(conn.stderrMark, STDERR_LINES_IN_ERROR) },
        { cause: err },
      );
    }
    // The backend's own protocol error crosses the wire unchanged.
    if (err instanceof McpError) return err;
    return new GatewayError(
      'BACKEND_UNAVAILABLE',
      `${this.name}.${call.tool} failed: ${describeError(err)}`,
      data,
      {
        cause: err,
      },
    );
  }

  private cancelled(tool: string, signal: AbortSignal): GatewayError {
    return new GatewayError(
      'BACKEND_CANCELLED',
      `${this.name}.${tool} was cancelled`,
      { server: this.name, tool },
      { cause: signal.reason },
    );
  }

  private unavailable(tool: string, limit: number): GatewayError {
    const status = this.statusValue;
    const waited = status === 'connecting' ? `, still connecting after ${limit} ms` : '';
    const why = this.lastErrorValue ? `: ${this.lastErrorValue}` : '';
    return new GatewayError(
      'BACKEND_UNAVAILABLE',
      `server '${this.name}' is not available for '${tool}' (status ${status}${waited})${why}`,
      { server: this.name, tool, status, lastError: this.lastErrorValue },
    );
  }

  // ── status ───────────────────────────────────────────────────────────────

  private setStatus(status: BackendStatus): void {
    if (this.statusValue === status) return;
    this.statusValue = status;
    this.context.onStatus(this, status);
    if (status !== 'connecting') for (const done of [...this.settleWaiters]) done();
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

/**
 * fetch refuses a URL with `user:password@`; like curl, send them as Basic auth instead (unless an
 * Authorization header is configured), which also keeps them out of error messages.
 */
function httpEndpoint(
  text: string,
  configured: Record<string, string>,
): { url: URL; headers: Record<string, string> } {
  const url = new URL(text);
  const headers = { ...configured };
  if (url.username || url.password) {
    const hasAuth = Object.keys(headers).some((k) => k.toLowerCase() === 'authorization');
    if (!hasAuth) {
      const pair = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
      headers.Authorization = `Basic ${Buffer.from(pair).toString('base64')}`;
    }
    url.username = '';
    url.password = '';
  }
  return { url, headers };
}

async function exitedWithin(conn: Connection, ms: number): Promise<boolean> {
  if (conn.child) {
    if (conn.exit || conn.child.exitCode !== null || conn.child.signalCode !== null) return true;
    return Promise.race([conn.exited.then(() => true), delay(ms).then(() => false)]);
  }
  const deadline = Date.now() + ms;
  while (conn.pid !== undefined && isAlive(conn.pid)) {
    if (Date.now() >= deadline) return false;
    await delay(50);
  }
  return true;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * `connected`, unless the connection ends first or connecting takes longer than `ms` (plus a margin for
 * the SDK's own initialize timeout to speak first). The SDK's connect awaits writing
 * notifications/initialized, and a write to a process that exited just after answering initialize
 * waits for a 'drain' that never comes (SDK 1.32): the backend then stayed 'connecting' for ever.
 */
function connectedOrEnded(conn: Connection, connected: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const ended = conn.endReason.then((reason) => {
    throw new Error(`the connection ended during initialize: ${reason}`);
  });
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new McpError(ErrorCode.RequestTimeout, 'initialize did not complete', { timeout: ms }));
    }, ms + 1_000);
  });
  return Promise.race([connected, ended, deadline]).finally(() => clearTimeout(timer));
}

/** `retrying in 250 ms (2 failures in a row)`, for the log. */
function describeRetry(decision: RestartDecision, verb = 'retrying'): string {
  const inARow = decision.failures > 0 ? ` (${decision.failures} failures in a row)` : '';
  return `${verb} in ${decision.delayMs} ms${inARow}`;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** The SDK rejects its own timeout with RequestTimeout and `{ timeout }` as data. */
function isSdkTimeout(err: unknown, timeout: number): boolean {
  return (
    err instanceof McpError &&
    err.code === ErrorCode.RequestTimeout &&
    (err.data as { timeout?: unknown } | undefined)?.timeout === timeout
  );
}

/** Every page of tools/list, following nextCursor; a cursor seen twice is an error, not a loop. */
async function listAllTools(client: Client, timeoutMs: number): Promise<Tool[]> {
  const tools: Tool[] = [];
  const seen = new Set<string>();
  let cursor: string | undefined;
  do {
    let page: { tools: Tool[]; nextCursor?: string };
    try {
      page = await client.request(
        { method: 'tools/list', params: cursor === undefined ? {} : { cursor } },
        ListToolsResultSchema,
        { timeout: timeoutMs },
      );
    } catch (err) {
      // A server without tools may not implement tools/list at all.
      if (err instanceof McpError && err.code === ErrorCode.MethodNotFound && tools.length === 0) return [];
      throw err;
    }
    tools.push(...page.tools);
    cursor = page.nextCursor;
    if (cursor !== undefined) {
      if (seen.has(cursor)) throw new Error(`tools/list returned the cursor '${cursor}' twice`);
      seen.add(cursor);
    }
  } while (cursor !== undefined);
  return tools;
}
