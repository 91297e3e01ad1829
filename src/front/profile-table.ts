import { EventEmitter } from 'node:events';
import type { Tool } from '@modelcontextprotocol/server';
import { GatewayError } from '../errors.js';
import { bothAllow, profileAccess } from './caller-view.js';
import { PIPELINE_TOOL_PREFIX } from './naming.js';
import type { ProfileView, ToolOrigin } from './profile-view.js';
import { SearchTools } from './search-tools.js';
import type { ServedTool } from './served-tool.js';
import type { ToolTable } from './tool-table.js';

/** What a session's server needs of a tool table: the shared ToolTable, or one profile's view of it. */
export interface SessionTable {
  list(): Tool[];
  get(name: string): ServedTool | undefined;
  resolve(name: string, signal?: AbortSignal): Promise<ServedTool | undefined>;
  on(event: 'changed', listener: () => void): unknown;
  off(event: 'changed', listener: () => void): unknown;
  /**
   * In search mode, the tool `call_tool` would call by `name` (undefined outside the view): what the
   * caller's access rules must allow besides call_tool itself.
   */
  searchTarget?(name: string): ServedTool | undefined;
}

export interface ProfileTableOptions {
  /**
   * The served name a backend tool has (served-names.ts), for call_backend's check; also where a
   * per-server filter (tools.include/exclude) can be composed in.
   */
  servedName: (server: string, tool: string) => string;
}

/**
 * One profile's view of the shared tool table. A tool the view refuses is not listed and is unknown
 * when called, by its served name or through call_backend; in search mode the list is find_tools,
 * describe_tool and call_tool (plus the meta tools the profile keeps), which see the same view.
 * `changed` fires only when this view's list changed, so a reload sends list_changed only to the
 * sessions it affects.
 */
export class ProfileTable extends EventEmitter<{ changed: [] }> implements SessionTable {
  private readonly search: SearchTools | undefined;
  private cache: { list: Tool[]; key: string } | undefined;
  private readonly onBaseChanged = () => {
    const before = this.cache?.key;
    this.cache = undefined;
    if (before === undefined || this.build().key !== before) this.emit('changed');
  };

  constructor(
    private readonly base: ToolTable,
    private view_: ProfileView,
    private readonly options: ProfileTableOptions,
  ) {
    super();
    this.setMaxListeners(0);
    base.on('changed', this.onBaseChanged);
    if (view_.searchMode) this.search = new SearchTools({ table: base, visible: (t) => this.visible(t) });
  }

  get view(): ProfileView {
    return this.view_;
  }

  /**
   * A reload changed the profile: the same sessions now see the new view, and hear list_changed when
   * their list differs. Switching mode (full ↔ search) needs a new table: see ProfileTables.
   */
  setView(view: ProfileView): void {
    this.view_ = view;
    this.onBaseChanged();
  }

  close(): void {
    this.base.off('changed', this.onBaseChanged);
    this.search?.close();
  }

  list(): Tool[] {
    return this.build().list;
  }

  get(name: string): ServedTool | undefined {
    const own = this.search?.tools.find((t) => t.definition.name === name);
    if (own) return own;
    const tool = this.base.get(name);
    return tool && this.listed(tool) ? this.guard(tool) : undefined;
  }

  async resolve(name: string, signal?: AbortSignal): Promise<ServedTool | undefined> {
    const own = this.get(name);
    if (own) return own;
    const tool = await this.base.resolve(name, signal);
    return tool && this.listed(tool) ? this.guard(tool) : undefined;
  }

  searchTarget(name: string): ServedTool | undefined {
    if (!this.search) return undefined;
    const tool = this.base.get(name);
    return tool && this.visible(tool) ? tool : undefined;
  }

  /** Whether the view may see (and so call) `tool`, wherever it is reached from. */
  visible(tool: ServedTool): boolean {
    return this.view.allows(originOf(tool));
  }

  /** In the list and callable by name: visible, and in search mode only the meta tools the view keeps. */
  private listed(tool: ServedTool): boolean {
    if (!this.visible(tool)) return false;
    return !this.search || originOf(tool).kind === 'meta';
  }

  /**
   * call_backend and route_pipeline check the view before they reach a backend or a pipeline;
   * list_servers and list_pipelines show only what the view holds.
   */
  private guard(tool: ServedTool): ServedTool {
    if (tool.backend) return tool;
    if (LISTINGS.has(tool.definition.name))
      return {
        ...tool,
        call: (args, ctx) => {
          const access = bothAllow(ctx.access, profileAccess(this.view, this.options.servedName));
          return tool.call(args, access ? { ...ctx, access } : ctx);
        },
      };
    if (tool.definition.name === 'route_pipeline')
      return {
        ...tool,
        call: (args, ctx) => {
          const scenario = typeof args.scenario === 'string' ? args.scenario : '';
          if (scenario === 'custom' && this.view.narrowsBackends)
            throw new GatewayError(
              'PIPELINE_INVALID',
              `route_pipeline: profile '${this.view.name}' limits which tools it reaches, so it runs only named pipelines, not custom ones`,
              { profile: this.view.name },
            );
          if (
            scenario &&
            scenario !== 'custom' &&
            !this.view.allows({ kind: 'pipeline', pipeline: scenario })
          )
            throw new GatewayError(
              'PIPELINE_UNKNOWN',
              `route_pipeline: profile '${this.view.name}' has no pipeline '${scenario}'`,
              { pipeline: scenario, profile: this.view.name },
            );
          return tool.call(args, ctx);
        },
      };
    if (tool.definition.name !== 'call_backend') return tool;
    return {
      ...tool,
      call: (args, ctx) => {
        const server = typeof args.server === 'string' ? args.server : '';
        const name = typeof args.tool === 'string' ? args.tool : '';
        if (server && name && !this.view.allowsBackendTool(server, this.options.servedName(server, name)))
          throw new GatewayError(
            'TOOL_UNKNOWN',
            `call_backend: profile '${this.view.name}' has no tool '${name}' of server '${server}'`,
            { server, tool: name, profile: this.view.name },
          );
        return tool.call(args, ctx);
      },
    };
  }

  private build(): { list: Tool[]; key: string } {
    if (this.cache) return this.cache;
    const kept = this.base.list().filter((definition) => {
      const tool = this.base.get(definition.name);
      return tool !== undefined && this.listed(tool);
    });
    const list = [...(this.search?.tools.map((t) => t.definition) ?? []), ...kept];
    // In search mode the index follows the base table itself; the list's own tools decide `changed`.
    this.cache = { list, key: JSON.stringify(list) };
    return this.cache;
  }
}

/** The meta tools that list servers, tools and pipelines. */
const LISTINGS = new Set(['list_servers', 'list_pipelines']);

function originOf(tool: ServedTool): ToolOrigin {
  const name = tool.definition.name;
  if (tool.backend) return { kind: 'backend', server: tool.backend, served: name };
  if (name.startsWith(PIPELINE_TOOL_PREFIX))
    return { kind: 'pipeline', pipeline: name.slice(PIPELINE_TOOL_PREFIX.length) };
  return { kind: 'meta', name };
}
