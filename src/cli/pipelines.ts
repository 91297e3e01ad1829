/** What `run`, `graph` and `validate` share: finding a pipeline by name or file, and showing paths. */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { GatewayConfig } from '../config/index.js';
import {
  type CatalogEntry,
  isPipelineFile,
  type LoadOptions,
  loadCatalog,
  loadPipelineFile,
  type PipelineIssue,
} from '../pipeline/index.js';
import { UsageError } from './args.js';

/** A path as short as it can be shown: relative to the current folder when it is inside it. */
export function displayPath(file: string, cwd = process.cwd()): string {
  const relative = path.relative(cwd, path.resolve(cwd, file));
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}

/** `file:line:col: message`, with the file shown as `displayPath` does. */
export function issueLine(issue: PipelineIssue, prefix = ''): string {
  const file = issue.file !== undefined ? `${displayPath(issue.file)}:` : '';
  return `${file}${issue.line}:${issue.column}: ${prefix}${issue.message}`;
}

/** Servers named in the config are known; their tools are not checked (null). */
export function configServerChecks(config: GatewayConfig): LoadOptions | undefined {
  if (config.file === undefined) return undefined;
  const names = config.servers.map((s) => s.name);
  const known = new Set(names);
  return { knownTools: (server) => (known.has(server) ? null : undefined), knownServers: names };
}

/**
 * `<name|file>`: a path (it has a pipeline extension or a folder in it, and exists) is read as a
 * file; anything else is a pipeline's name in the config's pipelines folder.
 */
export async function findPipeline(
  arg: string,
  config: GatewayConfig,
  options: LoadOptions | undefined,
): Promise<CatalogEntry> {
  const looksLikeFile = isPipelineFile(arg) || arg.includes('/') || arg.includes(path.sep);
  if (looksLikeFile) {
    if (!existsSync(arg) || !statSync(arg).isFile()) throw new UsageError(`pipeline file not found: ${arg}`);
    return loadPipelineFile(arg, options);
  }
  const catalog = await loadCatalog(config.pipelinesDir, options);
  const entry = catalog.get(arg);
  if (!entry) {
    const names = [...new Set(catalog.list().map((e) => e.name))];
    throw new UsageError(
      `unknown pipeline '${arg}' in ${displayPath(config.pipelinesDir)}; pipelines: ${names.length ? names.join(', ') : '(none)'}`,
    );
  }
  return entry;
}
