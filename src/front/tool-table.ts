import { EventEmitter } from 'node:events';
import type { Tool } from '@modelcontextprotocol/server';
import type { Backend, BackendRegistry, CallOptions } from '../backends/index.js';
import type { ToolGroups } from '../config/index.js';
import { createLogger, type Logger } from '../log.js';
import { fitNames, type Surface } from '../surface/index.js';
import type { NameClashes } from './name-clashes.js';
import { PIPELINE_TOOL_PREFIX, unsafeToolName } from './naming.js';
import { pickServed, ServedNames } from './served-names.js';
import type { CallContext, ServedTool } from './served-tool.js';

/** A source of tools that can change while the gateway runs (pipelines, for one). */
export interface ToolSource {
  tools(): ServedTool[];
  /** Subscribe to changes; returns the unsubscribe function. */
  onChange(listener: () => void): () => void;
}

export interface ToolTableOptions {
  registry: BackendRegistry;
  groups: () => ToolGroups;
  /** The gateway's own tools: backend meta-tools and, when pipelines are on, route/list pipelines. */
  metaTools: ServedTool[];
  /** Tools such as `pipeline__<name>` that come and go. */
  extraSources?: ToolSource[];
  /** Warned once per backend tool that is not served (an unsafe name); stderr by default. */
  logger?: Logger;
  /** How backend tool names are served (`prefix:`); `<server>__<tool>` for every backend without it. */
  names?: ServedNames;
  /** Where backend tools not served because of a name clash are reported. */
  clashes?: NameClashes;
  /** Filters, overrides, pinned definitions and the name length (src/surface); unset: all served as listed. */
  surface?: Surface;
}

/**
 * The tools the front serves, shared by every client session. Built lazily and cached: tools/list and
 * tools/call are the hot path, so lookups are one Map get, and the table is rebuilt only after a change.
 */
export class ToolTable extends EventEmitter<{ changed: [] }> {
  private cache:
    | { list: Tool[]; byName: Map<string, ServedTool>; byBackend: Map<string, string> }
    | undefined;
  private readonly unsubscribe: (() => void)[] = [];
  /** `server\0tool` of unsafe tools already warned about, so a rebuild does not repeat the warning. */
  private readonly warned = new Set<string>();
  private readonly logger: Logger;
  private readonly names: ServedNames;

  constructor(private readonly options: ToolTableOptions) {
    super();
    this.setMaxListeners(0);
    this.logger = options.logger ?? createLogger('gateway/tools');
    this.names = options.names ?? new ServedNames(options.registry, () => []);
    const invalidate = () => this.invalidate();
    options.registry.on('toolsChanged', invalidate);
    this.unsubscribe.push(() => options.registry.off('toolsChanged', invalidate));
    for (const source of options.extraSources ?? []) this.unsubscribe.push(source.onChange(invalidate));
  }

  /** Call after anything that changes what is served, such as a config reload of the tool groups. */
  invalidate(): void {
    this.cache = undefined;
    this.emit('changed');
  }

  list(): Tool[] {
    return this.build().list;
  }

  get(name: string): ServedTool | undefined {
    return this.build().byName.get(name);
  }

  /**
   * The name backend tool `tool` of `server` is served as: its override and the name-length rule
   * applied, as tools/list shows it. For a tool not served now (filtered, not listed yet), the name it
   * would have before shortening.
   */
  servedNameOf(server: string, tool: string): string {
    const served = this.build().byBackend.get(`${server}\0${tool}`);
    if (served !== undefined) return served;
    return this.names.name(server, this.options.surface?.policy(server).servedToolName(tool) ?? tool);
  }

  /**
   * The tool called `name`, waiting when its prefix is that of a backend still connecting (at
   * start, or restarting before it listed its tools): a client that calls a tool it knows right after
   * the gateway started gets the call, not "Unknown tool". Waits at most the backend's timeout (which
   * also bounds its connecting), or until `signal` aborts; the tool returned after a wait counts the
   * wait against the call's timeout, so the call ends within that timeout, not twice it. For a backend
   * that is not ready then (it failed to start), the call goes to the backend anyway, which answers
   * BACKEND_UNAVAILABLE with why: truer than "Unknown tool" for a server that is configured but down.
   */
  async resolve(name: string, signal?: AbortSignal): Promise<ServedTool | undefined> {
    const found = this.get(name);
    if (found) return found;
    const owner = this.backendOf(name);
    if (owner?.backend.status === 'ready') return this.unlistedTool(name, owner.backend, owner.tool);
    if (!owner) return undefined;
    if (owner.backend.status !== 'connecting' || signal?.aborted)
      return this.get(name) ?? this.downTool(name, owner.backend, owner.tool);
    const startedAt = Date.now();
    await this.settled(owner.backend, signal);
    const tool = this.get(name) ?? this.downTool(name, owner.backend, owner.tool);
    return tool && { ...tool, call: (args, ctx) => tool.call(args, { ...ctx, startedAt }) };
  }

  /**
   * A name no backend lists, whose owner is served transparently (`prefix: ""`): the call goes to
   * that backend, which answers for it as it would without the gateway — a server may have tools it
   * does not list. Filters and pins still apply (backendOf); a prefixed name stays unknown.
   */
  private unlistedTool(name: string, backend: Backend, tool: string): ServedTool | undefined {
    if (this.names.prefix(backend.name) !== '' || this.reserved(name)) return undefined;
    const registry = this.options.registry;
    return {
      definition: { name, inputSchema: { type: 'object' } },
      backend: backend.name,
      backendTool: tool,
      call: (args, ctx) => registry.callTool(backend.name, tool, args, { ...forwarded(ctx), unlisted: true }),
    };
  }

  /**
   * A call of `name` that the down backend answers with BACKEND_UNAVAILABLE, or serves: one still
   * connecting when resolve stopped waiting holds the call until it is ready (BackendCalls.runCall), so
   * the call carries all the caller's options, progress and log level too, as a listed tool's does.
   */
  private downTool(name: string, backend: Backend, tool: string): ServedTool | undefined {
    if (backend.status === 'ready' || backend.status === 'closed') return undefined;
    if (this.reserved(name)) return undefined;
    const registry = this.options.registry;
    return {
      definition: { name, inputSchema: { type: 'object' } },
      backend: backend.name,
      backendTool: tool,
      call: (args, ctx) => registry.callTool(backend.name, tool, args, forwarded(ctx)),
    };
  }

  private async settled(backend: Backend, signal: AbortSignal | undefined): Promise<void> {
    let onAbort = () => {};
    const aborted = new Promise<void>((resolve) => {
      onAbort = () => resolve();
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    try {
      await Promise.race([backend.whenSettled(backend.timeoutMs), aborted]);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** The backend a call of `name` reaches, also while it is still connecting (for rate_limits). */
  serverOf(name: string): string | undefined {
    return this.get(name)?.backend ?? (this.reserved(name) ? undefined : this.backendOf(name)?.backend.name);
  }

  /** The backend whose prefix `name` has (served-names.ts), when backend tools are served. */
  private backendOf(name: string): { backend: Backend; tool: string } | undefined {
    if (!this.options.groups().backends) return undefined;
    const owner = this.names.owner(name);
    const backend = owner && this.options.registry.get(owner.server);
    if (!backend || !owner) return undefined;
    // Overrides map a served name back to the backend's; a filtered tool is not waited for.
    const surface = this.options.surface;
    const tool = surface ? surface.policy(owner.server).backendToolName(owner.name) : owner.name;
    if (tool === undefined || (surface && !surface.toolVisible(owner.server, tool))) return undefined;
    return { backend, tool };
  }

  /** The gateway's own tool names, and every `pipeline__` name: never a backend's, whatever is on. */
  private reserved(name: string): boolean {
    return (
      name.startsWith(PIPELINE_TOOL_PREFIX) || this.options.metaTools.some((t) => t.definition.name === name)
    );
  }

  close(): void {
    for (const off of this.unsubscribe.splice(0)) off();
  }

  private build(): { list: Tool[]; byName: Map<string, ServedTool>; byBackend: Map<string, string> } {
    if (this.cache) return this.cache;
    const groups = this.options.groups();
    const byName = new Map<string, ServedTool>();
    const add = (tool: ServedTool) => {
      // First one wins: the gateway's own names cannot be shadowed by a backend's.
      if (!byName.has(tool.definition.name)) byName.set(tool.definition.name, tool);
    };
    if (groups.meta) for (const tool of this.options.metaTools) add(tool);
    if (groups.pipelines)
      for (const source of this.options.extraSources ?? []) for (const t of source.tools()) add(t);
    if (groups.backends) for (const tool of this.backendTools()) add(tool);
    const fitted = this.fit(byName);
    const byBackend = new Map<string, string>();
    for (const [served, tool] of fitted.byName)
      if (tool.backend !== undefined && tool.backendTool !== undefined)
        byBackend.set(`${tool.backend}\0${tool.backendTool}`, served);
    this.cache = { ...fitted, byBackend };
    return this.cache;
  }

  /**
   * Every name at most `surface.max_name_length` long (src/surface/fit-names.ts): a longer one is
   * served shortened, and its call still reaches the tool it stands for (the ServedTool is the same).
   */
  private fit(byName: Map<string, ServedTool>): { list: Tool[]; byName: Map<string, ServedTool> } {
    const surface = this.options.surface;
    if (!surface) return { list: [...byName.values()].map((t) => t.definition), byName };
    const fitted = fitNames(byName.keys(), surface.settings.maxNameLength);
    const out = new Map<string, ServedTool>();
    const renamed = new Map<string, Record<string, string>>();
    for (const [name, tool] of byName) {
      const served = fitted.get(name) ?? name;
      const original = this.originals.get(tool);
      if (tool.backend !== undefined && original !== undefined) {
        if (served !== this.names.name(tool.backend, original)) {
          renamed.set(tool.backend, { ...renamed.get(tool.backend), [original]: served });
        }
      }
      out.set(served, served === name ? tool : { ...tool, definition: { ...tool.definition, name: served } });
    }
    for (const server of this.options.registry.names()) surface.setRenamed(server, renamed.get(server) ?? {});
    return { list: [...out.values()].map((t) => t.definition), byName: out };
  }

  /** Each backend ServedTool's backend tool name, for list_servers' renamed map. */
  private originals = new WeakMap<ServedTool, string>();

  /** Each backend's tools after its filters and pins (src/surface); all of them without a surface. */
  private selectedTools(): { server: string; tool: Tool }[] {
    const registry = this.options.registry;
    const surface = this.options.surface;
    if (!surface) return registry.tools();
    const byServer = new Map<string, Tool[]>();
    for (const { server, tool } of registry.tools()) {
      const list = byServer.get(server) ?? [];
      list.push(tool);
      byServer.set(server, list);
    }
    return [...byServer].flatMap(([server, tools]) =>
      surface.select(server, tools).map((tool) => ({ server, tool })),
    );
  }

  private backendTools(): ServedTool[] {
    const registry = this.options.registry;
    const surface = this.options.surface;
    const safe = this.selectedTools().filter(({ server, tool }) => {
      const own = surface ? surface.policy(server).servedToolName(tool.name) : tool.name;
      const why = unsafeToolName(server, own, this.names.prefix(server), surface !== undefined);
      if (why === undefined) return true;
      const key = `${server}\0${tool.name}`;
      if (!this.warned.has(key)) {
        // Bounded: a backend renaming its tools in a loop must not grow this for ever.
        if (this.warned.size >= 1_000) this.warned.clear();
        this.warned.add(key);
        this.logger.warn(`not serving a tool of server '${server}': ${why}; call_backend can still call it`);
      }
      return false;
    });
    const candidates = safe.map((entry) => ({
      served: this.names.name(
        entry.server,
        surface?.policy(entry.server).servedToolName(entry.tool.name) ?? entry.tool.name,
      ),
      server: entry.server,
      item: entry.tool,
    }));
    const { served, clashes } = pickServed('tool', candidates, this.names.precedence(), (name) =>
      this.reserved(name),
    );
    this.options.clashes?.set('tool', clashes);
    return served.map(({ served: name, server, item: listed }) => {
      const policy = surface?.policy(server);
      const tool = policy ? policy.present(listed) : listed;
      const described = policy?.describes(listed.name) === true;
      const entry: ServedTool = {
        // A transparent backend's tools are served as the backend describes them; a prefixed one's
        // description says which backend it is, as its name does (unless the config wrote its own).
        definition:
          this.names.prefix(server) === '' || described
            ? { ...tool, name }
            : { ...tool, name, description: `[${server}] ${tool.description ?? tool.title ?? tool.name}` },
        backend: server,
        backendTool: listed.name,
        call: (args, ctx) => registry.callTool(server, tool.name, args, forwarded(ctx)),
      };
      this.originals.set(entry, listed.name);
      return entry;
    });
  }
}

/** What a client's call hands on to the backend's: cancellation, progress, its requests, trace, log level, credential. */
function forwarded(ctx: CallContext): CallOptions {
  return {
    signal: ctx.signal,
    onProgress: ctx.progress,
    requester: ctx.requester,
    trace: ctx.trace,
    ...(ctx.logLevel ? { logLevel: ctx.logLevel } : {}),
    credential: ctx.credential,
    ...(ctx.startedAt !== undefined ? { startedAt: ctx.startedAt } : {}),
  };
}
