import { EventEmitter } from 'node:events';
import type { CallToolResult, Implementation, LoggingLevel } from '@modelcontextprotocol/client';
import { DEFAULT_MAX_MESSAGE_BYTES, type ServerConfig } from '../config/types.js';
import { GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import { telemetry } from '../observability/index.js';
import { SHUTDOWN_STOP_STEP_MS, STOP_STEP_MS } from '../transport/index.js';
import { Backend } from './backend.js';
import { planReconcile, type ReconcilePlan, sameBackend } from './reconcile.js';
import { DEFAULT_RESTART_POLICY, type RestartPolicy } from './restart-policy.js';
import type {
  BackendInfo,
  BackendStatus,
  BackendToolEntry,
  CallOptions,
  PendingChange,
  RegistryEvents,
  ToolInvoker,
} from './types.js';

/** A changed config entry's new instance, starting beside the one that serves. */
interface Replacement {
  backend: Backend;
  /** Grace for the calls in flight on the instance it replaces. */
  graceMs: number | undefined;
  since: Date;
}

export interface BackendRegistryOptions {
  /** Per-call and connect timeout for a backend whose config sets none. */
  defaultTimeoutMs: number;
  /** Gets status changes, reconnects and (at debug) every stderr line of every backend. */
  logger: Logger;
  /** How the gateway introduces itself to backends in `initialize`. */
  clientInfo?: Implementation;
  /** Restart timing and the crash-loop policy; see restart-policy.ts for the defaults. */
  backoff?: Partial<RestartPolicy>;
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
  /**
   * New instances for changed config entries, starting (or retrying with backoff); each takes its
   * name's place once ready — or at once if the instance it replaces is not serving either.
   */
  private readonly replacing = new Map<string, Replacement>();
  /** Taken off the list by a reload, finishing their calls before they close. */
  private readonly draining = new Set<Backend>();
  private readonly options: Required<Omit<BackendRegistryOptions, 'backoff'>> & { backoff: RestartPolicy };
  private closed = false;

  constructor(options: BackendRegistryOptions) {
    super();
    this.setMaxListeners(0);
    this.options = {
      defaultTimeoutMs: options.defaultTimeoutMs,
      logger: options.logger,
      clientInfo: options.clientInfo ?? { name: 'mcp-gateway', version: '0.1.0' },
      backoff: { ...DEFAULT_RESTART_POLICY, ...options.backoff },
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

  /**
   * The most verbose log level a client session asked for (the front's logging/setLevel): 2026-07-28
   * backends have no logging/setLevel, so their calls carry it in `_meta` instead.
   */
  logLevel: LoggingLevel | undefined;

  private create(config: ServerConfig): Backend {
    const options = this.options;
    return new Backend(config, {
      // Read at each use, so a reloaded default timeout reaches running backends.
      get defaultTimeoutMs() {
        return options.defaultTimeoutMs;
      },
      logger: options.logger,
      logLevel: () => this.logLevel,
      clientInfo: options.clientInfo,
      backoff: options.backoff,
      maxMessageBytes: options.maxMessageBytes,
      // Shorter once the gateway shuts down, so every process group is gone before the client that
      // started us gives up waiting and SIGKILLs us.
      stopStepMs: () => (this.closed ? SHUTDOWN_STOP_STEP_MS : STOP_STEP_MS),
      onStatus: (b, status) => {
        if (this.replacing.get(b.name)?.backend === b) {
          this.replacementStatus(b, status);
          return;
        }
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
    const running = [...this.backends.values()].map((b) => (this.replacing.get(b.name)?.backend ?? b).config);
    const plan = planReconcile(running, servers, file);
    for (const name of plan.remove) {
      this.remove(name, { graceMs: graceMs ?? this.backends.get(name)?.timeoutMs }).catch((err: unknown) =>
        this.options.logger.warn(`removing '${name}' failed: ${String(err)}`),
      );
    }
    for (const config of plan.replace) {
      const serving = this.backends.get(config.name);
      if (this.replacing.has(config.name) && serving && sameBackend(serving.config, config)) {
        // Back to what still serves: the change that never became ready is dropped.
        this.cancelReplacement(config.name);
        plan.cancelled.push(config.name);
      } else this.replace(config, graceMs);
    }
    plan.replace = plan.replace.filter((c) => !plan.cancelled.includes(c.name));
    for (const config of plan.add) this.add(config);
    return plan;
  }

  /** The per-call timeout of backends whose config sets none; applies from their next call. */
  setDefaultTimeout(ms: number): void {
    this.options.defaultTimeoutMs = ms;
  }

  /**
   * Starts `config` beside the backend of its name: make-before-break. The new instance takes over
   * once it is ready; until then the old one keeps serving, and list_servers shows the new one's
   * progress and error as `pendingChange`. A replacement that fails retries with its backoff in the
   * background (the fix may be outside the file: a missing binary installed, a server brought up)
   * until it is ready, a later reload changes or reverts the entry, or the server is removed. When the
   * old instance is not serving either, the new one takes over as soon as its first attempt settles.
   */
  private replace(config: ServerConfig, graceMs: number | undefined): void {
    this.cancelReplacement(config.name);
    const next = this.create(config);
    this.replacing.set(config.name, { backend: next, graceMs, since: new Date() });
    next.start();
  }

  private replacementStatus(next: Backend, status: BackendStatus): void {
    const old = this.backends.get(next.name);
    if (status === 'ready' || (status === 'failed' && !old?.servesTools())) {
      this.promote(next);
      return;
    }
    if (status === 'failed') {
      this.options.logger.warn(
        `server '${next.name}' keeps serving with its previous settings: the changed ones failed to start ` +
          `(${next.info().lastError ?? 'unknown error'}); retrying in the background`,
      );
    }
  }

  /** The replacement takes its name's place; the instance it replaces drains, then closes. */
  private promote(next: Backend): void {
    const pending = this.replacing.get(next.name);
    if (pending?.backend !== next) return;
    this.replacing.delete(next.name);
    const old = this.backends.get(next.name);
    this.backends.set(next.name, next);
    this.emit('status', next.name, next.status);
    this.emit('toolsChanged');
    if (old) void this.retire(old, pending.graceMs ?? old.timeoutMs);
  }

  private cancelReplacement(name: string): void {
    const pending = this.replacing.get(name);
    if (!pending) return;
    this.replacing.delete(name);
    void this.retire(pending.backend, 0);
  }

  /** What `pendingChange` of list_servers shows for `name`; undefined when no change waits. */
  pendingChange(name: string): PendingChange | undefined {
    const pending = this.replacing.get(name);
    if (!pending) return undefined;
    const info = pending.backend.info();
    return {
      status: info.status,
      target: info.target,
      ...(info.lastError === undefined ? {} : { error: info.lastError }),
      since: pending.since.toISOString(),
      restarts: info.restarts,
    };
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
    return [...this.backends.values()].map((b) => {
      const pendingChange = this.pendingChange(b.name);
      return pendingChange ? { ...b.info(), pendingChange } : b.info();
    });
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
    return telemetry.backendCall(server, tool, options?.trace, (trace) =>
      backend.callTool(tool, args, trace === undefined ? options : { ...options, trace }),
    );
  }

  /**
   * Closes every backend in parallel and waits until their processes are gone: each process group,
   * wrappers' children included (stdin closed, SIGTERM, SIGKILL, with short waits between).
   */
  async close(): Promise<void> {
    this.closed = true;
    const all = [
      ...this.backends.values(),
      ...[...this.replacing.values()].map((r) => r.backend),
      ...this.draining,
    ];
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
