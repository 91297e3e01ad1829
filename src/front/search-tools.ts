import type { Tool } from '@modelcontextprotocol/server';
import type { Access } from '../auth/index.js';
import { GatewayError } from '../errors.js';
import { ToolIndex } from '../search/index.js';
import { listedTarget } from './access-check.js';
import type { ServedTool } from './served-tool.js';
import { jsonResult } from './served-tool.js';
import { readParams, requireString } from './tool-args.js';

/** What search mode needs of the tool table (front/tool-table.ts fits it as it is). */
export interface SearchableTable {
  list(): Tool[];
  get(name: string): ServedTool | undefined;
  resolve(name: string, signal?: AbortSignal): Promise<ServedTool | undefined>;
  on(event: 'changed', listener: () => void): unknown;
  off(event: 'changed', listener: () => void): unknown;
}

export interface SearchToolsOptions {
  table: SearchableTable;
  /**
   * The profile's view (and any per-server filter): a tool it refuses is unknown to find/describe/call.
   * Per caller, the call's `access` (http.auth.rules) narrows it further, as it narrows tools/list.
   */
  visible: (tool: ServedTool) => boolean;
}

export const SEARCH_TOOL_NAMES = ['find_tools', 'describe_tool', 'call_tool'] as const;
const DEFAULT_LIMIT = 10;
const MAX_LIMIT = 50;

/**
 * Search mode: instead of every tool, a client gets three — find_tools ranks the table's tools for a
 * request, describe_tool shows one in full, call_tool calls one. The index is rebuilt lazily after the
 * table changes (a backend's list_changed, a reload, a pipeline edit), so it never serves a stale list.
 */
export class SearchTools {
  private readonly index = new ToolIndex();
  private dirty = true;
  /** The groups (backend names; '' for the gateway's own tools) now in the index. */
  private indexedGroups = new Set<string>();
  private readonly onChanged = () => {
    this.dirty = true;
  };
  readonly tools: ServedTool[];

  constructor(private readonly options: SearchToolsOptions) {
    options.table.on('changed', this.onChanged);
    this.tools = [this.findTools(), this.describeTool(), this.callTool()];
  }

  close(): void {
    this.options.table.off('changed', this.onChanged);
  }

  /** The ranked tools for `query` that the view shows and `access` (a restricted caller's) allows. */
  find(query: string, limit = DEFAULT_LIMIT, access?: Access) {
    this.refresh();
    return this.index.search(query, limit, (name) => this.visibleTool(name, access) !== undefined);
  }

  /**
   * `name`, if this caller may see it: a tool its rules forbid is as unknown as one that does not
   * exist (not listed, not found, not described), so search reveals no more than tools/list does.
   */
  private visibleTool(name: string, access?: Access): ServedTool | undefined {
    const tool = this.options.table.get(name);
    if (!tool || !this.options.visible(tool)) return undefined;
    return !access || access.allows(listedTarget(name, tool)) ? tool : undefined;
  }

  private refresh(): void {
    if (!this.dirty) return;
    this.dirty = false;
    const groups = new Map<string, Tool[]>();
    for (const definition of this.options.table.list()) {
      const group = this.options.table.get(definition.name)?.backend ?? '';
      groups.set(group, [...(groups.get(group) ?? []), definition]);
    }
    for (const group of this.indexedGroups) if (!groups.has(group)) this.index.remove(group);
    for (const [group, tools] of groups) this.index.replace(group, tools);
    this.indexedGroups = new Set(groups.keys());
  }

  /** An unknown name, with the closest names this caller may see as "did you mean". */
  private unknown(name: string, tool: string, access?: Access): GatewayError {
    const near = this.find(name, 3, access).map((h) => h.name);
    const hint = near.length > 0 ? `; did you mean ${near.map((n) => `'${n}'`).join(', ')}?` : '';
    return new GatewayError('TOOL_UNKNOWN', `${tool}: no tool '${name}'${hint}`, {
      tool: name,
      suggestions: near,
    });
  }

  private findTools(): ServedTool {
    return {
      definition: {
        name: 'find_tools',
        title: 'Find tools',
        description:
          'Search the tools this gateway can call, in your own words ("send a slack message", "read a ' +
          'file"). Returns the best matches, best first: name, one-line description and input schema. ' +
          'Call one with call_tool; describe_tool shows one in full.',
        inputSchema: {
          type: 'object',
          properties: {
            query: { type: 'string', description: 'What you want to do' },
            limit: {
              type: 'integer',
              minimum: 1,
              maximum: MAX_LIMIT,
              description: `At most this many (default ${DEFAULT_LIMIT})`,
            },
          },
          required: ['query'],
        },
        annotations: { readOnlyHint: true },
      },
      call: async (args, ctx) => {
        const query = requireString(args, 'query', 'find_tools');
        const limit = readLimit(args.limit);
        const tools = this.find(query, limit, ctx.access).map((h) => ({
          name: h.name,
          description: h.summary,
          inputSchema: h.inputSchema,
        }));
        const text =
          tools.length === 0
            ? `No tool matches "${query}".`
            : tools.map((t, i) => `${i + 1}. ${t.name} — ${t.description}`).join('\n');
        return jsonResult({ tools }, text);
      },
    };
  }

  private describeTool(): ServedTool {
    return {
      definition: {
        name: 'describe_tool',
        title: 'Describe a tool',
        description:
          'The full definition of one tool found with find_tools: description, input and output schemas.',
        inputSchema: {
          type: 'object',
          properties: { name: { type: 'string', description: 'The tool name find_tools gave' } },
          required: ['name'],
        },
        annotations: { readOnlyHint: true },
      },
      call: async (args, ctx) => {
        const name = requireString(args, 'name', 'describe_tool');
        const tool = this.visibleTool(name, ctx.access);
        if (!tool) throw this.unknown(name, 'describe_tool', ctx.access);
        return jsonResult({ ...tool.definition });
      },
    };
  }

  private callTool(): ServedTool {
    return {
      definition: {
        name: 'call_tool',
        title: 'Call a tool',
        description: 'Call a tool found with find_tools, with arguments matching its input schema.',
        inputSchema: {
          type: 'object',
          properties: {
            name: { type: 'string', description: 'The tool name find_tools gave' },
            arguments: { type: 'object', description: "The tool's arguments" },
          },
          required: ['name'],
        },
      },
      call: async (args, ctx) => {
        const name = requireString(args, 'name', 'call_tool');
        const toolArgs = readParams(args.arguments, 'call_tool');
        // Waits for a backend still connecting, as a direct tools/call does.
        const tool = await this.options.table.resolve(name, ctx.signal);
        // A tool the caller's rules forbid was refused before this (server.ts, ACCESS_DENIED), as a
        // direct tools/call of it is; the suggestions for an unknown one are only tools it may see.
        if (!tool || !this.options.visible(tool)) throw this.unknown(name, 'call_tool', ctx.access);
        return tool.call(toolArgs, ctx);
      },
    };
  }
}

function readLimit(value: unknown): number {
  if (value === undefined || value === null) return DEFAULT_LIMIT;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1)
    throw new GatewayError('PARAMS_INVALID', "find_tools: 'limit' must be a whole number ≥ 1", {
      tool: 'find_tools',
    });
  return Math.min(value, MAX_LIMIT);
}
