/**
 * What a caller restricted by `http.auth.rules` sees of the gateway's own listings: `list_servers`
 * names each backend's tools, `list_pipelines` every pipeline. A tool or pipeline its rules do not let
 * it list is left out of them, as tools/list leaves it out (search mode's find_tools and describe_tool
 * do the same in search-tools.ts). The servers themselves stay: list_servers is the status page, and a
 * backend's name says no more than its status does — unless a profile's view names the servers it
 * shows (`profileAccess`). Only called with a restricted Access (the CallContext carries none
 * otherwise), so a gateway without rules or profiles never pays for it.
 */
import type { Access } from '../auth/index.js';
import type { ProfileView } from './profile-view.js';
import type { RunRecord } from './run-records.js';
import type { NameClash } from './served-names.js';

/** One list_servers row, of which the fields that name tools are narrowed. */
type ServerRow = Record<string, unknown> & { name?: unknown };

/**
 * `row` (one backend of list_servers) with only the tools `access` lets the caller list: its tool
 * names and count, and what the surface and the name clashes say of other tools.
 */
export function serverRowFor(
  access: Access,
  row: ServerRow,
  servedName: ((server: string, tool: string) => string) | undefined,
): ServerRow {
  const server = String(row.name);
  const may = (tool: string) =>
    access.allows({ kind: 'backend', server, tool, served: servedName?.(server, tool) });
  const out: ServerRow = { ...row };
  if (Array.isArray(row.tools)) {
    const tools = (row.tools as string[]).filter(may);
    out.tools = tools;
    out.toolCount = tools.length;
  }
  narrow(out, 'hidden', (tool: string) => may(tool));
  narrow(out, 'definitionChanges', (c: { tool: string }) => may(c.tool));
  narrow(out, 'unknownOverrides', (u: { tool: string }) => may(u.tool));
  narrow(out, 'nameClashes', (c: NameClash) => clashVisible(access, c));
  if (row.renamed && typeof row.renamed === 'object') {
    const renamed = Object.entries(row.renamed as Record<string, string>).filter(([tool]) => may(tool));
    if (renamed.length > 0) out.renamed = Object.fromEntries(renamed);
    else delete out.renamed;
  }
  return out;
}

/**
 * A profile's view as an Access, so list_servers and list_pipelines answer a profile's client as they
 * answer a caller restricted by rules: its servers only, their tools in the view, its pipelines.
 * Undefined for a view that narrows nothing they show. Resources and prompts are not narrowed by
 * profiles.
 */
export function profileAccess(
  view: ProfileView,
  servedName: (server: string, tool: string) => string,
): Access | undefined {
  const s = view.settings;
  if (!view.narrowsBackends && s.pipelines === undefined) return undefined;
  return {
    unrestricted: false,
    allows(target) {
      switch (target.kind) {
        case 'backend':
          return view.allowsBackendTool(
            target.server,
            target.served ?? servedName(target.server, target.tool),
          );
        case 'pipeline':
        case 'meta':
          return view.allows(target);
        default:
          return true;
      }
    },
    showsServer: (server) => view.allowsServer(server),
  };
}

/** What both `a` and `b` allow (either may be unset: no restriction). */
export function bothAllow(a: Access | undefined, b: Access | undefined): Access | undefined {
  if (!a || a.unrestricted) return b;
  if (!b || b.unrestricted) return a;
  return {
    unrestricted: false,
    allows: (target) => a.allows(target) && b.allows(target),
    showsServer: (server) => (a.showsServer?.(server) ?? true) && (b.showsServer?.(server) ?? true),
  };
}

/** Whether the caller may list `pipeline` (its tool, or route_pipeline with it as the scenario). */
export function pipelineVisible(access: Access, pipeline: string): boolean {
  return access.allows({ kind: 'pipeline', pipeline });
}

/** Of recent runs, those of pipelines the caller may list. */
export function runsFor(access: Access, runs: RunRecord[]): RunRecord[] {
  return runs.filter((r) => pipelineVisible(access, r.pipeline));
}

/** A name clash names the tool, prompt or resource not served: shown when the caller may list that. */
function clashVisible(access: Access, clash: NameClash): boolean {
  switch (clash.kind) {
    case 'tool':
      return access.allows({ kind: 'backend', server: clash.server, tool: clash.name, served: clash.name });
    case 'prompt':
      return access.allows({ kind: 'prompt', server: clash.server, name: clash.name, own: clash.name });
    default:
      return access.allows({ kind: 'resource', server: clash.server, uri: clash.name, own: clash.name });
  }
}

/** Keeps of the array field `key` what `keep` accepts; drops the field when nothing is left. */
function narrow<T>(row: ServerRow, key: string, keep: (item: T) => boolean): void {
  const value = row[key];
  if (!Array.isArray(value)) return;
  const kept = (value as T[]).filter(keep);
  if (kept.length > 0) row[key] = kept;
  else delete row[key];
}
