import { EventEmitter } from 'node:events';
import type { CallToolResult, Implementation } from '@modelcontextprotocol/sdk/types.js';
import { DEFAULT_MAX_MESSAGE_BYTES, type ServerConfig } from '../config/types.js';
import { GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import { SHUTDOWN_STOP_STEP_MS, STOP_STEP_MS } from '../transport/index.js';
import { Backend } from './backend.js';
import { type BackoffPolicy, DEFAULT_BACKOFF } from './backoff.js';
import { planReconcile, type ReconcilePlan } from './reconcile.js';
import type { BackendInfo, BackendToolEntry, CallOptions, RegistryEvents, ToolInvoker } from './types.js';

export interface BackendRegistryOptions {
  /** Per-call and connect timeout for a backend whose config sets none. */
  defaultTimeoutMs: number;
  /** Gets status changes, reconnects and (at debug) every stderr line of every backend. */
  logger: Logger;
  /** How the gateway introduces itself to backends in `initialize`. */
  clientInfo?: Implementation;
  /** Retry timing after a failed start or a crash; defaults to 250 ms doubling to 30 s. */
  backoff?: Partial<BackoffPolicy>;
  /**
   * Largest message accepted from a stdio backend, in bytes (`limits.max_message_size`); read for
   * every message, so a reloaded value applies at once. Default 4 MiB.
   */
  maxMessageBytes?: () => number;
}

/**
 * Every backend MCP server the gateway talks to, by name: one SDK Client each, over stdio or
 * Streamable HTTP. Adding a backend starts it in the background; the registry never waits on one
 * backend to serve another. Emits `toolsChanged` when the set of servers or of their tools changes,
 * and `status` on every status change.
 */
export class BackendRegistry extends EventEmitter<RegistryEvents> implements ToolInvoker {
  private readonly backends = new Map<string, Backend>();
  /** New instances for changed config entries, starting; each takes its name's place once settled. */
  private readonly replacing = new Map<string, Backend>();
  /** Taken off the list by a reload, finishing their calls before they close. */
  private readonly draining = new Set<Backend>();
  private readonly options: Required<Omit<BackendRegistryOptions, 'backoff'>> & { backoff: BackoffPolicy };
  private closed = false;

  constructor(options: BackendRegistryOptions) {
    super();
    this.setMaxListeners(0);
    this.options = {
      defaultTimeoutMs: options.defaultTimeoutMs,
      logger: options.logger,
      clientInfo: options.clientInfo ?? { name: 'mcp-gateway', version: '0.1.0' },
      backoff: { ...DEFAULT_BACKOFF, ...options.backoff },
      maxMessageBytes: options.maxMessageBytes ?? (() => DEFAULT_MAX_MESSAGE_BYTES),
    };
  }

  /**
   * Adds a backend and starts connecting to it without waiting; `whenSettled()` on the result waits.
   * Starts it whatever `config.enabled` says: callers leave disabled servers out.
   */
  add(config: ServerConfig): Backend {
    if (this.closed)
      throw new GatewayError(
        'BACKEND_UNAVAILABLE',
        `cannot add server '${config.name}': the registry is closed`,
      );
    const existing = this.backends.get(config.name);
    if (existing) {
      throw new GatewayError(
        'BACKEND_EXISTS',
        `server '${config.name}' already exists (${existing.status}, ${describeSource(existing.config)}); remove it first or pick another name`,
        { server: config.name },
      );
    }
    const backend = this.create(config);
    this.backends.set(config.name, backend);
    backend.start();
    return backend;
  }

  private create(config: ServerConfig): Backend {
    const options = this.options;
    return new Backend(config, {
      // Read at each use, so a reloaded default timeout reaches running backends.
      get defaultTimeoutMs() {
        return options.defaultTimeoutMs;
      },
      logger: options.logger,
      clientInfo: options.clientInfo,
      backoff: options.backoff,
      maxMessageBytes: options.maxMessageBytes,
      // Shorter once the gateway shuts down, so every process group is gone before the client that
      // started us gives up waiting and SIGKILLs us.
      stopStepMs: () => (this.closed ? SHUTDOWN_STOP_STEP_MS : STOP_STEP_MS),
      onStatus: (b, status) => {
        // Only the instance serving the name speaks for it: not a replacement still starting, nor
        // the instance it replaced while that one drains.
        const serving = this.backends.get(b.name);
        if (serving === b || (status === 'closed' && serving === undefined))
          this.emit('status', b.name, status);
      },
      onToolsChanged: (b) => {
        if (this.backends.get(b.name) === b) this.emit('toolsChanged');
      },
      onNotification: (b, notification) => {
        if (this.backends.get(b.name) === b) this.emit('notification', b.name, notification);
      },
    });
  }

  /** Adds each in turn; they all connect in parallel. Stops at the first duplicate name. */
  addAll(configs: Iterable<ServerConfig>): Backend[] {
    return [...configs].map((config) => this.add(config));
  }

  /**
   * Removes a backend: its tools go at once and it takes no new call. Calls in flight on it end with
   * BACKEND_REMOVED at once, or with `graceMs`, once they have all finished or the grace is over. The
   * promise resolves once its process is gone, with its last info.
   */
  async remove(name: string, options: { graceMs?: number } = {}): Promise<BackendInfo> {
    const backend = this.backends.get(name);
    if (!backend) throw this.unknown(name);
    this.backends.delete(name);
    this.cancelReplacement(name);
    this.emit('toolsChanged');
    // What it served, taken before closing clears it, so the caller can say what was removed.
    const served = backend.info();
    await this.retire(backend, options.graceMs ?? 0);
    return { ...served, status: backend.status };
  }

  /**
   * Makes the backends that came from config `file` match `servers`, the file's servers as now
   * read (disabled ones included): starts those added, restarts those whose settings changed,
   * removes those gone, and leaves the rest alone (same process). A changed backend is restarted
   * make-before-break: the old instance keeps serving until the new one is ready (or has failed),
   * then drains. Removed and replaced instances finish their calls in flight within `graceMs`
   * (default: each backend's own call timeout, the longest a call started with defaults can run).
   * Backends from elsewhere (runtime, --auto-register) are never touched; a name the file shares
   * with one of them is a clash in the plan, and the other backend keeps the name.
   */
  reconcile(
    servers: readonly ServerConfig[],
    file: string,
    options: { graceMs?: number } = {},
  ): ReconcilePlan {
    const graceMs = options.graceMs;
    const running = [...this.backends.values()].map((b) => (this.replacing.get(b.name) ?? b).config);
    const plan = planReconcile(running, servers, file);
    for (const name of plan.remove) {
      this.remove(name, { graceMs: graceMs ?? this.backends.get(name)?.timeoutMs }).catch((err: unknown) =>
        this.options.logger.warn(`removing '${name}' failed: ${String(err)}`),
      );
    }
    for (const config of plan.replace) this.replace(config, graceMs);
    for (const config of plan.add) this.add(config);
    return plan;
  }

  /** The per-call timeout of backends whose config sets none; applies from their next call. */
  setDefaultTimeout(ms: number): void {
    this.options.defaultTimeoutMs = ms;
  }

  /** Starts `config` beside the backend of its name and swaps it in once it has settled. */
  private replace(config: ServerConfig, graceMs: number | undefined): void {
    this.cancelReplacement(config.name);
    const next = this.create(config);
    this.replacing.set(config.name, next);
    next.start();
    void next.whenSettled().then(() => {
      // Superseded by a later reload, or its name was removed meanwhile.
      if (this.replacing.get(config.name) !== next) return;
      this.replacing.delete(config.name);
      const old = this.backends.get(config.name);
      this.backends.set(config.name, next);
      this.emit('status', config.name, next.status);
      this.emit('toolsChanged');
      if (old) void this.retire(old, graceMs ?? old.timeoutMs);
    });
  }

  private cancelReplacement(name: string): void {
    const pending = this.replacing.get(name);
    if (!pending) return;
    this.replacing.delete(name);
    void this.retire(pending, 0);
  }

  /** Closes a backend no longer on the list, after its calls in flight end or `graceMs` passes. */
  private async retire(backend: Backend, graceMs: number): Promise<void> {
    this.draining.add(backend);
    try {
      if (graceMs > 0) {
        let timer: NodeJS.Timeout | undefined;
        const grace = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, graceMs);
          timer.unref();
        });
        await Promise.race([backend.whenIdle(), grace]);
        clearTimeout(timer);
      }
      await backend.close('removed');
    } finally {
      this.draining.delete(backend);
    }
  }

  get(name: string): Backend | undefined {
    return this.backends.get(name);
  }

  has(name: string): boolean {
    return this.backends.has(name);
  }

  names(): string[] {
    return [...this.backends.keys()];
  }

  list(): BackendInfo[] {
    return [...this.backends.values()].map((b) => b.info());
  }

  /** Tools of backends that are ready (or reconnecting after a crash), in the order they were added. */
  tools(): BackendToolEntry[] {
    const entries: BackendToolEntry[] = [];
    for (const backend of this.backends.values()) {
      if (!backend.servesTools()) continue;
      for (const tool of backend.toolDefinitions()) entries.push({ server: backend.name, tool });
    }
    return entries;
  }

  /**
   * Calls `tool` on `server` and returns its CallToolResult unchanged (isError results included). A
   * backend's own protocol error is re-thrown unchanged; everything else is a GatewayError:
   * BACKEND_UNKNOWN, BACKEND_UNAVAILABLE, TOOL_UNKNOWN, BACKEND_TIMEOUT, BACKEND_CANCELLED,
   * BACKEND_EXITED, BACKEND_REMOVED. A backend still connecting is waited for, within the timeout.
   */
  callTool(
    server: string,
    tool: string,
    args: Record<string, unknown>,
    options?: CallOptions,
  ): Promise<CallToolResult> {
    const backend = this.backends.get(server);
    if (!backend) return Promise.reject(this.unknown(server));
    return backend.callTool(tool, args, options);
  }

  /**
   * Closes every backend in parallel and waits until their processes are gone: each process group,
   * wrappers' children included (stdin closed, SIGTERM, SIGKILL, with short waits between).
   */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.backends.values(), ...this.replacing.values(), ...this.draining];
    this.backends.clear();
    this.replacing.clear();
    if (all.length) this.emit('toolsChanged');
    await Promise.all(all.map((b) => b.close('shutdown')));
  }

  private unknown(name: string): GatewayError {
    const names = this.names();
    return new GatewayError(
      'BACKEND_UNKNOWN',
      `unknown server '${name}'; servers: ${names.length ? names.join(', ') : '(none)'}`,
      { server: name, servers: names },
    );
  }
}

function describeSource(config: ServerConfig): string {
  const source = config.source;
  if (source.kind === 'runtime') return 'registered at runtime';
  if (source.kind === 'config') return `from ${source.file}`;
  return `auto-registered from ${source.file}`;
}
