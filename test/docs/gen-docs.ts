/**
 * `npm run docs`: rewrites the generated parts of the reference pages from their sources of truth —
 * gateway.yaml keys from schemas/gateway.schema.json, pipeline keys from schemas/pipeline.schema.json,
 * the CLI's usage from src/cli/usage.ts, error codes from src/errors.ts. Each part sits between
 * `<!-- generated:NAME:start -->` and `<!-- generated:NAME:end -->`; the prose around it is written by
 * hand. test/unit/docs-generated.test.ts regenerates in memory and fails when a page differs, so a new
 * config key or CLI option cannot land without its reference entry.
 *
 * `npm run docs -- --check` only reports which pages are stale (exit 1).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { HELP } from '../../src/cli/usage.js';
import { ERROR_CODE_DOCS, TYPE_PROBLEM_DOCS } from './error-codes.js';

export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

type Schema = {
  $ref?: string;
  type?: string | string[];
  description?: string;
  enum?: unknown[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
  patternProperties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  definitions?: Record<string, Schema>;
};

function readSchema(name: string): Schema {
  return JSON.parse(readFileSync(path.join(REPO_ROOT, 'schemas', name), 'utf8')) as Schema;
}

/** A schema with its `$ref` resolved; the referring schema's own description wins, as editors show it. */
function resolveRef(root: Schema, schema: Schema): Schema {
  if (!schema.$ref) return schema;
  const name = schema.$ref.replace('#/definitions/', '');
  const target = root.definitions?.[name];
  if (!target) throw new Error(`unresolved $ref ${schema.$ref}`);
  const resolved = resolveRef(root, target);
  return { ...resolved, description: schema.description ?? resolved.description, refName: name } as Schema;
}

function typeOf(root: Schema, raw: Schema): string {
  const refName = raw.$ref?.replace('#/definitions/', '');
  if (refName === 'duration') return 'duration';
  if (refName === 'stringMap') return 'map of strings';
  const schema = resolveRef(root, raw);
  if (schema.enum) return schema.enum.map((v) => `\`${String(v)}\``).join(' \\| ');
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  const names = types.map((t) => {
    if (t === 'array') {
      const items = schema.items?.type;
      if (!items) return 'list';
      const each = (Array.isArray(items) ? items : [items]).map((i) =>
        i === 'object' ? 'mappings' : `${i}s`,
      );
      return `list of ${each.join(' or ')}`;
    }
    if (t === 'object') return 'mapping';
    return t;
  });
  let text = names.join(' or ') || 'any';
  if (schema.minimum !== undefined && schema.maximum !== undefined) {
    text += ` (${schema.minimum}–${schema.maximum})`;
  } else if (schema.minimum !== undefined && types.includes('integer')) {
    text += ` (≥ ${schema.minimum})`;
  }
  return text;
}

function cell(text: string | undefined): string {
  return (text ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

interface KeyRow {
  key: string;
  type: string;
  description: string;
}

/** Rows for every key of `schema`'s properties, each prefixed by `prefix`, descending into mappings. */
function keyRows(root: Schema, raw: Schema, prefix: string, descend: Set<string>): KeyRow[] {
  const schema = resolveRef(root, raw);
  const rows: KeyRow[] = [];
  for (const [key, child] of Object.entries(schema.properties ?? {})) {
    if (key === '$schema') continue;
    const full = `${prefix}${key}`;
    const resolved = resolveRef(root, child);
    rows.push({ key: full, type: typeOf(root, child), description: resolved.description ?? '' });
    if (descend.has(full)) {
      if (resolved.properties) rows.push(...keyRows(root, child, `${full}.`, descend));
      // A list of mappings: its entries' keys as `key[].sub`.
      const item = resolved.items && resolveRef(root, resolved.items);
      if (item?.properties) rows.push(...keyRows(root, item, `${full}[].`, descend));
      const entry = resolved.additionalProperties;
      if (typeof entry === 'object' && resolveRef(root, entry).properties) {
        rows.push(...keyRows(root, entry, `${full}.<name>.`, descend));
      }
    }
  }
  for (const [pattern, child] of Object.entries(schema.patternProperties ?? {})) {
    rows.push({
      key: `${prefix}${pattern.replace(/^\^/, '')}…`,
      type: typeOf(root, child),
      description: child.description ?? '',
    });
  }
  return rows;
}

function keyTable(rows: readonly KeyRow[]): string {
  const lines = ['| key | type | meaning |', '|---|---|---|'];
  for (const row of rows) lines.push(`| \`${row.key}\` | ${row.type} | ${cell(row.description)} |`);
  return lines.join('\n');
}

export function configKeys(): string {
  const root = readSchema('gateway.schema.json');
  const top = keyRows(root, root, '', new Set(['tools', 'http', 'http.allow_commands', 'limits']));
  const servers = keyRows(root, root.definitions?.server ?? {}, 'servers.<name>.', new Set());
  const server = '**A server**, `servers.<name>` (or `mcpServers.<name>`)';
  return [keyTable(top), '', server, '', keyTable(servers)].join('\n');
}

export function pipelineKeys(): string {
  const root = readSchema('pipeline.schema.json');
  const top = keyRows(root, root, '', new Set());
  const step = keyRows(root, root.definitions?.step ?? {}, 'steps.<id>.', new Set(['steps.<id>.retry']));
  const input = keyRows(root, root.definitions?.input ?? {}, 'inputs.<name>.', new Set()).filter(
    (row) => row.description,
  );
  const otherInputKeys = Object.keys(root.definitions?.input?.properties ?? {}).filter(
    (key) => !input.some((row) => row.key === `inputs.<name>.${key}`),
  );
  return [
    '**The file**',
    '',
    keyTable(top),
    '',
    '**A step**, `steps.<id>`',
    '',
    keyTable(step),
    '',
    '**An input**, `inputs.<name>`: a JSON Schema property',
    '',
    keyTable(input),
    '',
    `Also accepted, as in JSON Schema: ${otherInputKeys.map((k) => `\`${k}\``).join(', ')}.`,
  ].join('\n');
}

export function cliUsage(): string {
  return ['```text', HELP.trimEnd(), '```'].join('\n');
}

/** The codes of `GatewayErrorCode`, read from src/errors.ts in the order they are declared. */
export function errorCodesInSource(): string[] {
  const source = readFileSync(path.join(REPO_ROOT, 'src', 'errors.ts'), 'utf8');
  const union = /export type GatewayErrorCode\s*=([^;]+);/.exec(source)?.[1];
  if (!union) throw new Error('src/errors.ts: no `export type GatewayErrorCode = ...;` found');
  return [...union.matchAll(/'([A-Z_]+)'/g)].map((m) => m[1] as string);
}

export function errorCodes(): string {
  const lines = ['| code | when |', '|---|---|'];
  for (const code of errorCodesInSource()) {
    lines.push(
      `| \`${code}\` | ${cell(ERROR_CODE_DOCS[code] ?? '(not described yet: add it to test/docs/error-codes.ts)')} |`,
    );
  }
  return lines.join('\n');
}

/** The codes of `TypeProblemCode`, read from src/pipeline/type-check/check.ts in the order they are declared. */
export function typeProblemCodesInSource(): string[] {
  const source = readFileSync(path.join(REPO_ROOT, 'src', 'pipeline', 'type-check', 'check.ts'), 'utf8');
  const union = /export type TypeProblemCode\s*=([^;]+);/.exec(source)?.[1];
  if (!union)
    throw new Error('src/pipeline/type-check/check.ts: no `export type TypeProblemCode = ...;` found');
  return [...union.matchAll(/'([A-Z_]+)'/g)].map((m) => m[1] as string);
}

export function typeProblemCodes(): string {
  const lines = ['| code | when |', '|---|---|'];
  for (const code of typeProblemCodesInSource()) {
    lines.push(
      `| \`${code}\` | ${cell(TYPE_PROBLEM_DOCS[code] ?? '(not described yet: add it to test/docs/error-codes.ts)')} |`,
    );
  }
  return lines.join('\n');
}

/** Page (relative to the repo) → generated part name → its content. */
export const GENERATED: Record<string, Record<string, () => string>> = {
  'docs/reference/configuration.md': { 'config-keys': configKeys },
  'docs/reference/pipeline-format.md': { 'pipeline-keys': pipelineKeys },
  'docs/reference/cli.md': { 'cli-usage': cliUsage },
  'docs/reference/errors.md': { 'error-codes': errorCodes, 'type-problem-codes': typeProblemCodes },
};

/** `text` with each generated part replaced; throws when a page lacks a part's markers. */
export function fillGenerated(file: string, text: string, parts: Record<string, () => string>): string {
  let out = text;
  for (const [name, render] of Object.entries(parts)) {
    const start = `<!-- generated:${name}:start -->`;
    const end = `<!-- generated:${name}:end -->`;
    const from = out.indexOf(start);
    const to = out.indexOf(end);
    if (from < 0 || to < from) throw new Error(`${file}: missing ${start} … ${end}`);
    const note = `<!-- written by \`npm run docs\` from its source; edit that, not this -->`;
    out = `${out.slice(0, from + start.length)}\n${note}\n\n${render()}\n\n${out.slice(to)}`;
  }
  return out;
}

/** Every page whose generated parts are out of date, with what it should contain. */
export function stalePages(): { file: string; expected: string }[] {
  const stale: { file: string; expected: string }[] = [];
  for (const [file, parts] of Object.entries(GENERATED)) {
    const full = path.join(REPO_ROOT, file);
    const text = readFileSync(full, 'utf8');
    const expected = fillGenerated(file, text, parts);
    if (expected !== text) stale.push({ file, expected });
  }
  return stale;
}

function main(): number {
  const check = process.argv.includes('--check');
  const stale = stalePages();
  for (const { file, expected } of stale) {
    if (check) process.stderr.write(`${file} is out of date; run \`npm run docs\`\n`);
    else {
      writeFileSync(path.join(REPO_ROOT, file), expected);
      process.stderr.write(`wrote ${file}\n`);
    }
  }
  if (!stale.length) process.stderr.write('generated docs are up to date\n');
  return check && stale.length ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exitCode = main();
