import { existsSync, statSync } from 'node:fs';
import type { GatewayConfig } from '../config/index.js';
import { createLogger } from '../log.js';
import {
  type CatalogEntry,
  checkCatalogTypes,
  type LoadOptions,
  loadCatalog,
  loadPipelineFile,
  type PipelineIssue,
  type ToolShape,
} from '../pipeline/index.js';
import { parseOptions, UsageError } from './args.js';
import { resolveConfig } from './config.js';
import { configServerChecks, displayPath, issueLine } from './pipelines.js';

const options = {
  config: { type: 'string', short: 'c' },
  offline: { type: 'boolean', default: false },
  format: { type: 'string', default: 'text' },
} as const;

/**
 * Checks pipeline files and folders (default: the config's pipelines folder) and reports every
 * problem as file:line:col. With a config, steps naming unknown servers are errors; unless
 * --offline, the backends are started to check their tools too, and the data flow is type-checked
 * against the tools' input and output schemas (a value that cannot fit is an error, one that may
 * not a warning).
 */
export async function validateCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseOptions(argv, options);
  const format = values.format;
  if (format !== 'text' && format !== 'json') {
    throw new UsageError(`--format must be text or json, got '${format}'`);
  }
  const config = await resolveConfig(values.config);
  const targets = positionals.length ? positionals : [config.pipelinesDir];
  for (const target of positionals) {
    if (!existsSync(target)) throw new UsageError(`no such file or folder: ${target}`);
  }

  const checks = values.offline ? { options: configServerChecks(config) } : await onlineChecks(config);
  let entries: CatalogEntry[] = [];
  try {
    for (const target of targets) {
      if (existsSync(target) && statSync(target).isFile()) {
        entries.push(await loadPipelineFile(target, checks.options));
      } else {
        entries.push(...(await loadCatalog(target, checks.options)).list());
      }
    }
  } finally {
    await checks.close?.();
  }
  addTypeProblems(entries, checks.tools ?? (() => undefined));
  entries = entries.map((e) => ({ ...e, file: displayPath(e.file) }));

  const invalid = entries.filter((e) => !e.valid).length;
  const problems = entries.reduce((n, e) => n + e.issues.length, 0);
  const warnings = entries.reduce((n, e) => n + e.warnings.length, 0);
  const summary = { files: entries.length, valid: entries.length - invalid, invalid, problems, warnings };
  if (format === 'json') {
    const files = entries.map((e) => ({
      file: e.file,
      name: e.name,
      valid: e.valid,
      issues: e.issues.map((i) => withFile(i, e.file)),
      warnings: e.warnings.map((i) => withFile(i, e.file)),
    }));
    process.stdout.write(`${JSON.stringify({ valid: invalid === 0, files, summary }, null, 2)}\n`);
  } else {
    const lines: string[] = [];
    for (const e of entries) {
      const all = [
        ...e.issues.map((issue) => ({ issue, prefix: '' })),
        ...e.warnings.map((issue) => ({ issue, prefix: 'warning: ' })),
      ].sort((x, y) => x.issue.line - y.issue.line || x.issue.column - y.issue.column);
      for (const { issue, prefix } of all) lines.push(issueLine(issue, prefix));
    }
    lines.push(summaryLine(summary, targets));
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return invalid === 0 ? 0 : 1;
}

/**
 * The data-flow check on every valid file: errors make it invalid, warnings are warnings. Offline
 * (no tool schemas) only what pipelines pass to pipelines is checked.
 */
function addTypeProblems(
  entries: CatalogEntry[],
  tools: (server: string, tool: string) => ToolShape | undefined,
): void {
  const problems = checkCatalogTypes(entries, tools);
  for (const entry of entries) {
    const found = entry.valid ? problems.get(entry.file) : undefined;
    if (!found) continue;
    const errors = found.filter((p) => p.severity === 'error');
    entry.warnings.push(...found.filter((p) => p.severity === 'warning'));
    if (errors.length === 0) continue;
    entry.valid = false;
    delete entry.pipeline;
    entry.issues.push(...errors);
  }
}

function withFile(issue: PipelineIssue, file: string): PipelineIssue {
  const { file: _, ...rest } = issue;
  return { file, ...rest };
}

function summaryLine(
  s: { files: number; valid: number; invalid: number; problems: number; warnings: number },
  targets: string[],
): string {
  if (s.files === 0) return `no pipeline files in ${targets.map((t) => displayPath(t)).join(', ')}`;
  const files = `${s.files} pipeline file${s.files === 1 ? '' : 's'}`;
  const problems = s.invalid ? ` (${s.problems} problem${s.problems === 1 ? '' : 's'})` : '';
  const warnings = s.warnings ? `, ${s.warnings} warning${s.warnings === 1 ? '' : 's'}` : '';
  return `${files}: ${s.valid} valid, ${s.invalid} invalid${problems}${warnings}`;
}

/**
 * Starts every enabled backend of the config, as `list` does, and checks tools against what each
 * one lists. A backend that does not come up is reported, and only its name is checked.
 */
async function onlineChecks(config: GatewayConfig): Promise<{
  options: LoadOptions | undefined;
  tools?: (server: string, tool: string) => ToolShape | undefined;
  close?: () => Promise<void>;
}> {
  if (config.file === undefined) return { options: undefined };
  const { BackendRegistry } = await import('../backends/index.js');
  const registry = new BackendRegistry({
    defaultTimeoutMs: config.defaultTimeoutMs,
    logger: createLogger('validate', 'error'),
  });
  const backends = config.servers.filter((s) => s.enabled).map((s) => registry.add(s));
  await Promise.all(backends.map((b) => b.whenSettled()));
  const tools = new Map<string, readonly string[] | null>();
  // The schemas are kept as listed: the backends are closed before the files are checked.
  const shapes = new Map<string, ToolShape>();
  for (const server of config.servers) tools.set(server.name, null);
  for (const backend of backends) {
    const info = backend.info();
    if (info.status === 'ready') {
      tools.set(backend.name, info.tools);
      for (const t of backend.toolDefinitions()) shapes.set(`${backend.name}\u0000${t.name}`, t);
    } else {
      const state = info.status === 'failed' ? 'did not start' : `is ${info.status}`;
      const why = info.lastError ? ` (${info.lastError})` : '';
      process.stderr.write(`warning: server '${info.name}' ${state}${why}; its tools were not checked\n`);
    }
  }
  return {
    options: { knownTools: tools, knownServers: [...tools.keys()] },
    tools: (server, tool) => shapes.get(`${server}\u0000${tool}`),
    close: () => registry.close(),
  };
}
