/**
 * A config file's text as a YAML document with positions: parse (JSON is YAML, so `.json` files
 * take the same road), expand `${VAR}`, convert to plain data with an alias budget, and turn
 * path-based problems into `file:line:column` issues.
 */
import {
  type Document,
  isAlias,
  isCollection,
  isMap,
  isNode,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  type Pair,
  visit,
  type YAMLError,
} from 'yaml';
import { secrets } from '../secrets.js';
import { type Env, expandDocument } from './expand.js';
import { formatPath, type Problem, problemMessage, quote, type Segment } from './problems.js';
import { type ConfigIssue, MAX_CONFIG_BYTES } from './types.js';
import { parseYamlDocument } from './yaml.js';

/** Nodes reachable through aliases, in total; enough for sharing env blocks, too few for an alias bomb. */
export const MAX_ALIAS_COUNT = 100;

export interface SourceDoc {
  /** The name issues carry, as the caller gave it. */
  file: string;
  doc: Document.Parsed;
  lineCounter: LineCounter;
}

export type Parsed =
  | { ok: true; source: SourceDoc; data: unknown; warnings: ConfigIssue[] }
  | { ok: false; errors: ConfigIssue[]; warnings: ConfigIssue[] };

export function fileIssue(file: string, message: string): ConfigIssue {
  return { file, line: 0, column: 0, path: '', message };
}

export function tooLargeMessage(bytes: number): string {
  return `the file is ${bytes} bytes; config files are limited to ${MAX_CONFIG_BYTES} bytes (1 MiB)`;
}

/**
 * Parse, expand and convert. YAML syntax errors stop here (the data would be guesswork); missing
 * variables are returned with the data so validation can report the rest, and `expandFailed` lists
 * the paths whose values could not be expanded so that problems there are not reported twice.
 */
export function parseSource(
  text: string,
  file: string,
  env: Env,
): Parsed & { expandErrors?: ConfigIssue[]; expandFailed?: string[] } {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_CONFIG_BYTES)
    return { ok: false, errors: [fileIssue(file, tooLargeMessage(bytes))], warnings: [] };

  const lineCounter = new LineCounter();
  const doc = parseYamlDocument(text, {
    lineCounter,
    uniqueKeys: true,
    prettyErrors: false,
  });
  const source: SourceDoc = { file, doc, lineCounter };
  const warnings = doc.warnings.map((w) => yamlIssue(source, w));
  if (doc.errors.length > 0)
    return { ok: false, errors: doc.errors.map((e) => yamlIssue(source, e)), warnings };

  const expandErrors: ConfigIssue[] = [];
  const expandFailed: string[] = [];
  // What variables expanded to is never shown again: logs and the gateway's answers show `${NAME}`.
  const registerSecret = (name: string, value: string) => secrets.add(value, `\${${name}}`);
  for (const p of expandDocument(doc, env, registerSecret)) {
    const pos = nodePosition(source, p.node);
    expandFailed.push(formatPath(p.path));
    expandErrors.push({
      file,
      ...pos,
      path: formatPath(p.path),
      message: problemMessage({ path: p.path, text: p.message }),
    });
  }

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    if (!(err instanceof ReferenceError)) throw err;
    const alias = firstAlias(doc);
    const pos = alias ? nodePosition(source, alias) : { line: 1, column: 1 };
    const message = `aliases expand to more than ${MAX_ALIAS_COUNT} nodes; refusing what looks like an alias bomb`;
    return { ok: false, errors: [...expandErrors, { file, ...pos, path: '', message }], warnings };
  }
  return { ok: true, source, data, warnings, expandErrors, expandFailed };
}

function yamlIssue(source: SourceDoc, error: YAMLError): ConfigIssue {
  const { line, col } = source.lineCounter.linePos(error.pos[0]);
  let message = error.message;
  if (error.code === 'DUPLICATE_KEY') {
    const key = keyAt(source.doc, error.pos[0]);
    message = key === undefined ? 'duplicate key' : `duplicate key ${quote(key)}`;
  } else if (error.code === 'MULTIPLE_DOCS') {
    message = 'a config file holds one YAML document; remove the second "---"';
  }
  return { file: source.file, line, column: col, path: '', message };
}

function keyAt(doc: Document, offset: number): string | undefined {
  let found: string | undefined;
  visit(doc, {
    Pair(_key, pair) {
      if (isScalar(pair.key) && pair.key.range?.[0] === offset) {
        found = String(pair.key.value);
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}

function firstAlias(doc: Document): Node | undefined {
  let found: Node | undefined;
  visit(doc, {
    Alias(_key, node) {
      found = node;
      return visit.BREAK;
    },
  });
  return found;
}

function nodePosition(source: SourceDoc, node: Node | null | undefined): { line: number; column: number } {
  const offset = node?.range?.[0];
  if (offset === undefined) return { line: 1, column: 1 };
  const { line, col } = source.lineCounter.linePos(offset);
  return { line, column: col };
}

/** A null written as nothing (`key:`) has no place of its own; point at its key instead. */
function isEmptyValue(node: unknown): boolean {
  return !isNode(node) || (isScalar(node) && node.value === null && node.source === '');
}

/**
 * Where `path` is in the document: the value there, or its key with `at: 'key'`. When the path does
 * not exist as written (a key added by default), the nearest existing ancestor.
 */
export function locate(source: SourceDoc, path: readonly Segment[], at: 'key' | 'value' = 'value') {
  let node: unknown = source.doc.contents;
  let pair: Pair | undefined;
  let complete = true;
  for (const seg of path) {
    const current = isAlias(node) ? node.resolve(source.doc) : node;
    let next: { node: unknown; pair?: Pair } | undefined;
    if (isMap(current)) {
      const p = current.items.find((item) => keyString(item.key) === String(seg));
      if (p) next = { node: p.value, pair: p };
    } else if (isSeq(current) && typeof seg === 'number') {
      next = { node: current.items[seg] };
    }
    if (!next) {
      complete = false;
      break;
    }
    node = next.node;
    pair = next.pair;
  }
  if (complete && at === 'key' && pair) return nodePosition(source, pair.key as Node);
  if (isEmptyValue(node) || !isNode(node))
    return nodePosition(source, (pair?.key ?? source.doc.contents) as Node);
  return nodePosition(source, node);
}

function keyString(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  if (isCollection(key)) return String(key);
  return undefined;
}

/** Problems as issues, deduplicated, sorted by position, split into errors and warnings. */
export function toIssues(
  source: SourceDoc,
  problems: readonly Problem[],
  skipPaths: readonly string[] = [],
): { errors: ConfigIssue[]; warnings: ConfigIssue[] } {
  const errors: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  const seen = new Set<string>();
  for (const problem of problems) {
    const path = formatPath(problem.path);
    if (
      skipPaths.some((skip) => path === skip || path.startsWith(`${skip}.`) || path.startsWith(`${skip}[`))
    ) {
      continue;
    }
    const message = problemMessage(problem);
    const key = `${path}\0${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const issue = { file: source.file, ...locate(source, problem.path, problem.at), path, message };
    (problem.severity === 'warning' ? warnings : errors).push(issue);
  }
  return { errors: sortIssues(errors), warnings: sortIssues(warnings) };
}

export function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  return issues.sort((a, b) => a.line - b.line || a.column - b.column);
}
