/**
 * gateway.yaml (or .json, or a Claude Desktop style file with `mcpServers`) → `GatewayConfig`, or
 * every problem in it with `file:line:column`.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { errorMessage, formatAt, GatewayError } from '../errors.js';
import type { Env } from './expand.js';
import { emptyAsAbsent, normalizeGateway } from './normalize.js';
import type { Problem } from './problems.js';
import { schemaProblems } from './schema.js';
import { fileIssue, parseSource, sortIssues, toIssues, tooLargeMessage } from './source.js';
import { type ConfigIssue, type ConfigResult, MAX_CONFIG_BYTES } from './types.js';

/**
 * Read a config file. Never throws for a bad or missing file: the result lists the problems
 * (a file that cannot be read is one issue with line 0).
 */
export async function loadConfigFile(file: string, env: Env = process.env): Promise<ConfigResult> {
  const text = await readConfigText(file);
  if (typeof text !== 'string') return { ok: false, errors: [text], warnings: [] };
  return parseConfigText(text, file, env);
}

/** The text of a config file, or the issue that stops it being read (missing, a folder, too large). */
export async function readConfigText(file: string): Promise<string | ConfigIssue> {
  try {
    const info = await stat(file);
    if (!info.isFile()) return fileIssue(file, 'not a file');
    if (info.size > MAX_CONFIG_BYTES) return fileIssue(file, tooLargeMessage(info.size));
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return fileIssue(file, code === 'ENOENT' ? 'no such file' : `cannot read the file: ${errorMessage(err)}`);
  }
}

/**
 * Parse config text. `file` names the text in issues and is where relative paths (cwd, pipelines)
 * resolve from: its folder, taken relative to the working directory.
 */
export function parseConfigText(text: string, file: string, env: Env = process.env): ConfigResult {
  const parsed = parseSource(text, file, env);
  if (!parsed.ok) return parsed;
  const data = parsed.data ?? {};
  emptyAsAbsent(data);
  const problems: Problem[] = schemaProblems('gateway', data);
  const absolute = resolve(file);
  const config = normalizeGateway(data, { file: absolute, baseDir: dirname(absolute), env }, problems);
  const issues = toIssues(parsed.source, problems, parsed.expandFailed);
  const errors = sortIssues([...(parsed.expandErrors ?? []), ...issues.errors]);
  const warnings = [...parsed.warnings, ...issues.warnings];
  if (errors.length > 0) return { ok: false, errors, warnings };
  return { ok: true, config, warnings };
}

/** `file:line:col: message`, or `file: message` for a problem with the whole file. */
export function formatIssue(issue: ConfigIssue): string {
  if (issue.line === 0) return `${issue.file}: ${issue.message}`;
  return formatAt({ file: issue.file, line: issue.line, column: issue.column }, issue.message);
}

/** One error for a failed load: every issue on its own line, the issues themselves in `data.issues`. */
export function configError(errors: readonly ConfigIssue[]): GatewayError {
  return new GatewayError('CONFIG_INVALID', errors.map(formatIssue).join('\n'), { issues: [...errors] });
}
