/**
 * The tool surface's settings in gateway.yaml (and register_server): a server's `tools`, `resources`,
 * `prompts` and `pin`, and the top-level `surface:` block. The schema checks shapes; this checks what
 * it cannot — globs that would not work, overrides that would serve a bad or doubled name — and
 * reports each at its key. What needs the backends' own lists (an override of a tool no backend has)
 * is only known once they are up: the running gateway logs it (src/surface/surface.ts).
 */
import { isAbsolute, resolve } from 'node:path';
import picomatch from 'picomatch';
import type { Problem, Segment } from './problems.js';
import {
  DEFAULT_MAX_NAME_LENGTH,
  DEFAULT_PINS_FILE,
  type GlobLists,
  type ServerSurface,
  type SurfaceSettings,
  type ToolOverride,
} from './types.js';

type Data = Record<string, unknown>;

const isData = (v: unknown): v is Data => v !== null && typeof v === 'object' && !Array.isArray(v);
const strings = (v: unknown): string[] | undefined =>
  Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : undefined;

/** A served tool name's own part: what unsafeToolName (front/naming.ts) accepts. */
const OVERRIDE_NAME = /^[A-Za-z0-9_.-]+$/;

/** The surface settings of one server entry, or undefined when it sets none. */
export function serverSurface(raw: Data, path: Segment[], problems: Problem[]): ServerSurface | undefined {
  const surface: ServerSurface = {};
  if (isData(raw.tools)) {
    const tools = { ...globLists(raw.tools, [...path, 'tools'], problems) };
    const overrides = toolOverrides(raw.tools.overrides, [...path, 'tools', 'overrides'], problems);
    if (overrides) Object.assign(tools, { overrides });
    surface.tools = tools;
    overridesFiltered(surface.tools, [...path, 'tools', 'overrides'], problems);
  }
  if (isData(raw.resources)) surface.resources = globLists(raw.resources, [...path, 'resources'], problems);
  if (isData(raw.prompts)) surface.prompts = globLists(raw.prompts, [...path, 'prompts'], problems);
  if (raw.pin === true) surface.pin = true;
  return Object.keys(surface).length > 0 ? surface : undefined;
}

function globLists(raw: Data, path: Segment[], problems: Problem[]): GlobLists {
  const lists: GlobLists = {};
  for (const key of ['include', 'exclude'] as const) {
    const patterns = strings(raw[key]);
    if (patterns === undefined) continue;
    patterns.forEach((pattern, i) => {
      const why = globProblem(pattern);
      if (why) problems.push({ path: [...path, key, i], text: `${JSON.stringify(pattern)}: ${why}` });
    });
    lists[key] = patterns;
  }
  return lists;
}

function toolOverrides(
  raw: unknown,
  path: Segment[],
  problems: Problem[],
): Record<string, ToolOverride> | undefined {
  if (!isData(raw)) return undefined;
  const out: Record<string, ToolOverride> = {};
  const renamedBy = new Map<string, string>();
  for (const [tool, value] of Object.entries(raw)) {
    if (!isData(value)) continue;
    const override: ToolOverride = {};
    if (typeof value.name === 'string') {
      if (!OVERRIDE_NAME.test(value.name)) {
        problems.push({
          path: [...path, tool, 'name'],
          text: 'a served name has only letters, digits, "_", "-" and "."',
        });
      }
      const other = renamedBy.get(value.name);
      if (other !== undefined) {
        problems.push({
          path: [...path, tool, 'name'],
          text: `${JSON.stringify(value.name)} is already the new name of "${other}"; two tools cannot be served under one name`,
        });
      }
      renamedBy.set(value.name, tool);
      override.name = value.name;
    }
    if (typeof value.title === 'string') override.title = value.title;
    if (typeof value.description === 'string') override.description = value.description;
    out[tool] = override;
  }
  for (const [name, tool] of renamedBy) {
    if (name !== tool && Object.hasOwn(out, name) && out[name]?.name === undefined) {
      problems.push({
        path: [...path, tool, 'name'],
        text: `${JSON.stringify(name)} is the name of another tool of this server, which keeps it; pick another name or rename that one too`,
        severity: 'warning',
      });
    }
  }
  return out;
}

/** An override of a tool the filters hide does nothing: a warning, since it is likely a slip. */
function overridesFiltered(tools: ServerSurface['tools'], path: Segment[], problems: Problem[]): void {
  if (!tools?.overrides) return;
  const include = tools.include ?? [];
  const exclude = tools.exclude ?? [];
  const matches = (patterns: string[], name: string) =>
    patterns.some((p) => globProblem(p) === undefined && picomatch(p, GLOB_OPTIONS)(name));
  for (const tool of Object.keys(tools.overrides)) {
    const hidden = (include.length > 0 && !matches(include, tool)) || matches(exclude, tool);
    if (hidden) {
      problems.push({
        path: [...path, tool],
        at: 'key',
        text: `overrides tool "${tool}", which this server's include/exclude hide; the override has no effect`,
        severity: 'warning',
      });
    }
  }
}

/** The top-level `surface:` block. */
export function surfaceSettings(raw: unknown, baseDir: string): SurfaceSettings {
  const data = isData(raw) ? raw : {};
  const max = data.max_name_length;
  const pins =
    typeof data.pins_file === 'string' && data.pins_file !== '' ? data.pins_file : DEFAULT_PINS_FILE;
  return {
    // Out-of-range values are schema errors; the default stands in until fixed.
    maxNameLength: typeof max === 'number' && Number.isInteger(max) ? max : DEFAULT_MAX_NAME_LENGTH,
    callBackendBypassesFilters: data.call_backend_bypasses_filters === true,
    pinsFile: isAbsolute(pins) ? pins : resolve(baseDir, pins),
  };
}

/** As src/surface/globs.ts matches: `*` does not cross `/`, dotfiles are not special, no negation. */
export const GLOB_OPTIONS: picomatch.PicomatchOptions = { dot: true, nonegate: true };

/** Why a pattern is not one the gateway accepts, or undefined when it is fine. */
export function globProblem(pattern: string): string | undefined {
  if (pattern.trim() === '') return 'a pattern may not be empty';
  if (pattern.startsWith('!'))
    return 'a leading "!" is not supported; list the pattern under "exclude" instead';
  if (unbalanced(pattern, '[', ']')) return 'has a "[" without its "]"';
  if (unbalanced(pattern, '{', '}')) return 'has a "{" without its "}"';
  try {
    picomatch.makeRe(pattern, GLOB_OPTIONS);
  } catch (err) {
    return `is not a valid glob: ${(err as Error).message}`;
  }
  return undefined;
}

/** Brackets counted outside backslash escapes; picomatch would read an unclosed one as a literal. */
function unbalanced(pattern: string, open: string, close: string): boolean {
  let depth = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') i++;
    else if (c === open) depth++;
    else if (c === close && depth > 0) depth--;
  }
  return depth > 0;
}
