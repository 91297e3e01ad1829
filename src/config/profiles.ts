import picomatch from 'picomatch';
import { secrets } from '../secrets.js';
import { closest, type Problem, quote, type Segment } from './problems.js';
import type { ProfileConfig, ProfileToken } from './types.js';

/**
 * `profiles:` and `http.tokens` beyond what the JSON Schema checks (shapes and key names): names that
 * must refer to something (a server, a profile), with "did you mean" for a likely typo.
 */

/** The view at `/mcp`; a token may list it like any profile, and no profile may take its name. */
export const DEFAULT_PROFILE = 'default';

type Data = Record<string, unknown>;
const isData = (v: unknown): v is Data => typeof v === 'object' && v !== null && !Array.isArray(v);
const strings = (v: unknown): string[] | undefined =>
  Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : undefined;

export function normalizeProfiles(
  value: unknown,
  serverNames: readonly string[],
  problems: Problem[],
): ProfileConfig[] {
  if (!isData(value)) return [];
  const profiles: ProfileConfig[] = [];
  for (const [name, raw] of Object.entries(value)) {
    const path: Segment[] = ['profiles', name];
    if (name === DEFAULT_PROFILE) {
      problems.push({
        path,
        at: 'key',
        text: `"${DEFAULT_PROFILE}" is the full view at /mcp; pick another name`,
      });
      continue;
    }
    const data = isData(raw) ? raw : {};
    const servers = strings(data.servers);
    servers?.forEach((server, i) => {
      // A glob may match servers registered later; a plain name that no configured server has is most
      // likely a typo (a runtime-registered server can still be matched by a glob), so only warn.
      if (picomatch.scan(server).isGlob || serverNames.includes(server)) return;
      const guess = closest(server, serverNames);
      problems.push({
        path: [...path, 'servers', i],
        severity: 'warning',
        text: `no server named ${quote(server)} in this file${guess ? `; did you mean ${quote(guess)}?` : ''}`,
      });
    });
    const tools = strings(data.tools);
    const exclude = strings(data.exclude);
    const pipelines = strings(data.pipelines);
    const metaTools = strings(data.meta_tools);
    profiles.push({
      name,
      ...(servers ? { servers } : {}),
      ...(tools ? { tools } : {}),
      ...(exclude ? { exclude } : {}),
      ...(pipelines ? { pipelines } : {}),
      ...(metaTools ? { metaTools } : {}),
      mode: data.mode === 'search' ? 'search' : 'full',
    });
  }
  return profiles;
}

export function normalizeProfileTokens(
  value: unknown,
  profileNames: readonly string[],
  problems: Problem[],
  /** `http.auth` is set: OAuth decides who may use which profile, and these tokens are not used. */
  oauth = false,
): ProfileToken[] {
  if (!Array.isArray(value)) return [];
  if (oauth && value.length > 0)
    problems.push({
      path: ['http', 'tokens'],
      at: 'key',
      severity: 'warning',
      text: 'not used with http.auth: the rules (http.auth.rules[].profiles) decide who may use which profile',
    });
  const known = [DEFAULT_PROFILE, ...profileNames];
  const tokens: ProfileToken[] = [];
  value.forEach((raw, i) => {
    if (!isData(raw) || typeof raw.token !== 'string' || raw.token === '') return;
    secrets.add(raw.token, '<http token>');
    // The first entry with a token decides its profiles: a second one would be silently ignored.
    if (tokens.some((t) => t.token === raw.token)) {
      problems.push({
        path: ['http', 'tokens', i, 'token'],
        severity: 'warning',
        text: "this token is listed twice: only its first entry's profiles apply; list it once with all its profiles",
      });
      return;
    }
    const profiles = strings(raw.profiles) ?? [];
    profiles.forEach((profile, j) => {
      if (known.includes(profile)) return;
      const guess = closest(profile, known);
      problems.push({
        path: ['http', 'tokens', i, 'profiles', j],
        text: `no profile named ${quote(profile)}${guess ? `; did you mean ${quote(guess)}?` : ''}`,
      });
    });
    tokens.push({ token: raw.token, profiles });
  });
  return tokens;
}
