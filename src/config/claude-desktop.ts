/**
 * `--auto-register FILE`: servers from a file in the Claude Desktop shape,
 * `{"mcpServers": {"name": {"command", "args", "env"} | {"url", "headers"}}}`. Keys other clients
 * add (to the file or to an entry) are ignored, with a warning for those in an entry. Values take
 * `${VAR}` expansion as in gateway.yaml.
 */
import { dirname, resolve } from 'node:path';
import type { Env } from './expand.js';
import { readConfigText } from './load.js';
import { emptyAsAbsent } from './normalize.js';
import { schemaProblems } from './schema.js';
import { normalizeServers } from './servers.js';
import { parseSource, sortIssues, toIssues } from './source.js';
import type { ServersResult } from './types.js';

export async function loadClaudeDesktopFile(file: string, env: Env = process.env): Promise<ServersResult> {
  const text = await readConfigText(file);
  if (typeof text !== 'string') return { ok: false, errors: [text], warnings: [] };
  return parseClaudeDesktopText(text, file, env);
}

export function parseClaudeDesktopText(text: string, file: string, env: Env = process.env): ServersResult {
  const parsed = parseSource(text, file, env);
  if (!parsed.ok) return parsed;
  emptyAsAbsent(parsed.data);
  const problems = schemaProblems('claudeDesktop', parsed.data, { unknownServerKeys: 'warning' });
  const absolute = resolve(file);
  const data = parsed.data as { mcpServers?: unknown } | null;
  const servers = normalizeServers(
    data?.mcpServers,
    ['mcpServers'],
    { baseDir: dirname(absolute), source: { kind: 'auto-register', file: absolute } },
    problems,
  );
  const issues = toIssues(parsed.source, problems, parsed.expandFailed);
  const errors = sortIssues([...(parsed.expandErrors ?? []), ...issues.errors]);
  const warnings = [...parsed.warnings, ...issues.warnings];
  if (errors.length > 0) return { ok: false, errors, warnings };
  return { ok: true, servers, warnings };
}
