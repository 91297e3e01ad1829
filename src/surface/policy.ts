/**
 * One server's surface, compiled: which of its tools, resources and prompts clients see, and what a
 * tool is called and described as. Pure and built from the config alone, so a profile can build one
 * from its own globs, and every path that reaches a backend tool asks the same question.
 */
import type { ServerSurface, ToolOverride } from '../config/index.js';
import { globFilter, type NameMatcher } from './globs.js';

export class SurfacePolicy {
  private readonly tools: NameMatcher;
  private readonly resources: NameMatcher;
  private readonly prompts: NameMatcher;
  private readonly overrides: ReadonlyMap<string, ToolOverride>;
  /** Served tool name (without prefix) → backend tool name, for the renamed ones. */
  private readonly renamed: ReadonlyMap<string, string>;

  constructor(readonly settings: ServerSurface = {}) {
    this.tools = globFilter(settings.tools);
    this.resources = globFilter(settings.resources);
    this.prompts = globFilter(settings.prompts);
    this.overrides = new Map(Object.entries(settings.tools?.overrides ?? {}));
    this.renamed = new Map(
      [...this.overrides].flatMap(([tool, o]) => (o.name === undefined ? [] : [[o.name, tool] as const])),
    );
  }

  /** Whether the filters let clients see the backend tool called `tool`. */
  toolVisible(tool: string): boolean {
    return this.tools(tool);
  }

  resourceVisible(uri: string): boolean {
    return this.resources(uri);
  }

  promptVisible(name: string): boolean {
    return this.prompts(name);
  }

  get pinned(): boolean {
    return this.settings.pin === true;
  }

  /** The tool's own part of its served name (before the prefix and any shortening). */
  servedToolName(tool: string): string {
    return this.overrides.get(tool)?.name ?? tool;
  }

  /**
   * The backend tool a served name (without prefix) stands for, before the backend has listed its
   * tools: an override's new name maps back; a backend name that an override renamed is no longer
   * served, so it maps to nothing.
   */
  backendToolName(served: string): string | undefined {
    const renamed = this.renamed.get(served);
    if (renamed !== undefined) return renamed;
    return this.overrides.get(served)?.name === undefined ? served : undefined;
  }

  /** The definition clients see: title and description overridden; name left to the caller. */
  present<T extends { name: string; title?: string; description?: string }>(tool: T): T {
    const o = this.overrides.get(tool.name);
    if (!o) return tool;
    return {
      ...tool,
      ...(o.title !== undefined ? { title: o.title } : {}),
      ...(o.description !== undefined ? { description: o.description } : {}),
    };
  }

  /** Whether the description was replaced (then the front does not mark it with `[server]`). */
  describes(tool: string): boolean {
    return this.overrides.get(tool)?.description !== undefined;
  }

  /** The backend tool names overridden, for the "no such tool" check once the backend has listed. */
  overridden(): string[] {
    return [...this.overrides.keys()];
  }
}

/** A policy that hides nothing and renames nothing. */
export const OPEN_POLICY = new SurfacePolicy();
