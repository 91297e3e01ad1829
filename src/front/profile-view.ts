import picomatch from 'picomatch';
import type { ProfileConfig } from '../config/index.js';

/**
 * A profile (config/types.ts ProfileConfig). Every list left out means "no narrowing", so a profile
 * with no lists is exactly the default view; an empty list means none. Globs are picomatch globs
 * matched against whole names.
 */
export type ProfileSettings = ProfileConfig;

/** Where a tool the front could serve comes from, as far as a view is concerned. */
export type ToolOrigin =
  | { kind: 'backend'; server: string; served: string }
  | { kind: 'pipeline'; pipeline: string }
  | { kind: 'meta'; name: string };

/**
 * The one decision "may this view see (and so call) this tool". Every path a client controls asks it:
 * tools/list, tools/call, call_backend, the steps of a custom route_pipeline, and search mode's
 * call_tool. Per-server filters (tools.include/exclude under a server) are a separate check the
 * caller composes with this one.
 */
export class ProfileView {
  private readonly server: (name: string) => boolean;
  private readonly include: (name: string) => boolean;
  private readonly exclude: (name: string) => boolean;
  private readonly pipeline: (name: string) => boolean;
  private readonly meta: (name: string) => boolean;

  constructor(readonly settings: ProfileSettings) {
    this.server = matcher(settings.servers, true);
    this.include = matcher(settings.tools, true);
    this.exclude = matcher(settings.exclude, false);
    this.pipeline = matcher(settings.pipelines, true);
    this.meta = settings.metaTools ? (name) => settings.metaTools!.includes(name) : () => true;
  }

  get name(): string {
    return this.settings.name;
  }

  get searchMode(): boolean {
    return this.settings.mode === 'search';
  }

  allows(origin: ToolOrigin): boolean {
    switch (origin.kind) {
      case 'backend':
        return this.allowsBackendTool(origin.server, origin.served);
      case 'pipeline':
        return this.pipeline(origin.pipeline);
      case 'meta':
        return this.meta(origin.name);
    }
  }

  /** A backend tool by its server and served name (`<server>__<tool>`, or the server's own prefix). */
  allowsBackendTool(server: string, served: string): boolean {
    return this.server(server) && this.include(served) && !this.exclude(served);
  }

  /**
   * Whether the view hides some backend tools. Such a view refuses custom pipelines sent to
   * route_pipeline: their steps name any server and tool, and a run must not reach past the view.
   */
  get narrowsBackends(): boolean {
    const s = this.settings;
    return s.servers !== undefined || s.tools !== undefined || s.exclude !== undefined;
  }

  /** Whether any tool of `server` can be in this view: call_backend's first check. */
  allowsServer(server: string): boolean {
    return this.server(server);
  }
}

/** A matcher for a glob list: `whenAbsent` for no list, nothing for an empty one. */
function matcher(globs: string[] | undefined, whenAbsent: boolean): (name: string) => boolean {
  if (globs === undefined) return () => whenAbsent;
  if (globs.length === 0) return () => false;
  return picomatch(globs, { dot: true });
}
