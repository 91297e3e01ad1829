import { EventEmitter } from 'node:events';
import type { CallToolResult, Implementation } from '@modelcontextprotocol/sdk/types.js';
import type { ServerConfig } from '../config/types.js';
import { GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import { Backend } from './backend.js';
import { type BackoffPolicy, DEFAULT_BACKOFF } from './backoff.js';
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
}

/**
 * Every backend MCP server the gateway talks to, by name: one SDK Client each, over stdio or
 * Streamable HTTP. Adding a backend starts it in the background; the registry never waits on one
 * backend to serve another. Emits `toolsChanged` when the set of servers or of their tools changes,
 * and `status` on every status change.
 */
export class BackendRegistry extends EventEmitter<RegistryEvents> implements ToolInvoker {
  private readonly backends = new Map<string, Backend>();
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
    const backend = new Backend(config, {
      defaultTimeoutMs: this.options.defaultTimeoutMs,
      logger: this.options.logger,
      clientInfo: this.options.clientInfo,
      backoff: this.options.backoff,
      onStatus: (b, status) => {
        if (this.backends.get(b.name) === b || status === 'closed') this.emit('status', b.name, status);
      },
      onToolsChanged: (b) => {
        if (this.backends.get(b.name) === b) this.emit('toolsChanged');
      },
    });
    this.backends.set(config.name, backend);
    backend.start();
    return backend;
  }

  /** Adds each in turn; they all connect in parallel. Stops at the first duplicate name. */
  addAll(configs: Iterable<ServerConfig>): Backend[] {
    return [...configs].map((config) => this.add(config));
  }

  /**
   * Removes a backend: its tools go at once, calls in flight on it end with BACKEND_REMOVED, and the
   * promise resolves once its process is gone, with its last info.
   */
  async remove(name: string): Promise<BackendInfo> {
    const backend = this.backends.get(name);
    if (!backend) throw this.unknown(name);
    this.backends.delete(name);
    this.emit('toolsChanged');
    await backend.close('removed');
    return backend.info();
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

  /** Closes every backend in parallel and waits until their processes are gone. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.backends.values()];
    this.backends.clear();
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
