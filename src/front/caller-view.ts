/**
 * What a caller restricted by `http.auth.rules` sees of the gateway's own listings: `list_servers`
 * names each backend's tools, `list_pipelines` every pipeline. A tool or pipeline its rules do not let
 * it list is left out of them, as tools/list leaves it out (search mode's find_tools and describe_tool
 * do the same in search-tools.ts). The servers themselves stay: list_servers is the status page, and a
 * backend's name says no more than its status does. Only called with a restricted Access (the
 * CallContext carries none otherwise), so a gateway without rules never pays for it.
 */
import type { Access } from '../auth/index.js';
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
