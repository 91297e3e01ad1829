/**
 * Pipeline text (YAML, or JSON, which YAML reads too) → plain data plus a way back from a key path
 * to the line and column it came from. Bounded: size, alias expansion, one document.
 */
import {
  type Document,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  type Pair,
  type YAMLMap,
} from 'yaml';
import { parseYamlDocument } from '../config/index.js';
import { parseJsonSource } from './json-source.js';
import type { Segment } from './template.js';

export const MAX_PIPELINE_BYTES = 1024 * 1024;
/** Aliases a file may expand; more looks like a billion-laughs attack. */
export const MAX_ALIAS_COUNT = 100;

export interface Position {
  line: number;
  column: number;
}

export interface ParsedSource {
  readonly text: string;
  readonly data: unknown;
  /** The line and column of the key (`'key'`) or the value (`'value'`) at `path`; the nearest existing ancestor when it is missing. */
  locate(path: readonly Segment[], at?: 'key' | 'value'): Position;
  /** The position of `raw` (an expression's text) inside the string at `path`, else of the string. */
  locateIn(path: readonly Segment[], offset: number, raw: string): Position;
  position(offset: number): Position;
}

export type ParseResult =
  | { ok: true; source: ParsedSource; warnings: { position: Position; message: string }[] }
  | { ok: false; problems: { position: Position; message: string }[] };

export function parsePipelineText(text: string): ParseResult {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_PIPELINE_BYTES) {
    return {
      ok: false,
      problems: [
        {
          position: { line: 1, column: 1 },
          message: `file is too large (${bytes} bytes; at most ${MAX_PIPELINE_BYTES})`,
        },
      ],
    };
  }
  // JSON text skips the YAML parser (about 30x cheaper at 1,000 steps); whatever JSON and YAML
  // might read differently goes the YAML way below.
  const json = parseJsonSource(text);
  if (json) return { ok: true, source: json, warnings: [] };
  const lineCounter = new LineCounter();
  const doc = parseYamlDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, strict: true });
  const position = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => ({
        position: position(e.pos[0]),
        message: yamlMessage(e.code, e.message, text.slice(e.pos[0], e.pos[0] + 200)),
      })),
    };
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    return {
      ok: false,
      problems: [
        {
          position: { line: 1, column: 1 },
          message: `too many alias expansions (at most ${MAX_ALIAS_COUNT}): ${(err as Error).message}`,
        },
      ],
    };
  }
  const source: ParsedSource = {
    text,
    data,
    position,
    locate: (path, at = 'value') => position(locateOffset(doc, path, at)),
    locateIn: (path, offset, raw) => {
      const found = find(doc, path);
      const node = found.node;
      if (found.complete && node && isScalar(node) && node.range) {
        const [start, end] = node.range;
        const slice = text.slice(start, end);
        // The k-th occurrence of the raw text in the source matches the k-th in the value.
        const value = String(node.value);
        let k = 0;
        for (let i = value.indexOf(raw); i >= 0 && i < offset; i = value.indexOf(raw, i + 1)) k++;
        let at = -1;
        for (let n = 0; n <= k; n++) {
          at = slice.indexOf(raw, at + 1);
          if (at < 0) break;
        }
        if (at >= 0) return position(start + at);
      }
      return position(locateOffset(doc, path, 'value'));
    },
  };
  return {
    ok: true,
    source,
    warnings: doc.warnings.map((w) => ({ position: position(w.pos[0]), message: w.message })),
  };
}

function yamlMessage(code: string, message: string, at: string): string {
  if (code === 'DUPLICATE_KEY') {
    const key = /^(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([^:\n]*?))\s*:/.exec(at);
    const name = key ? (key[1] ?? key[2] ?? key[3]) : undefined;
    return name ? `duplicate key ${JSON.stringify(name)}` : 'duplicate key';
  }
  if (code === 'MULTIPLE_DOCS') return 'a pipeline file holds one YAML document';
  return `YAML: ${message.replace(/\s+at line \d+, column \d+:?[\s\S]*$/, '')}`;
}

interface Found {
  node: Node | null | undefined;
  keyNode?: Node | null;
  /** Whether the whole path was found. */
  complete: boolean;
  /** The deepest ancestor that exists (for a missing path). */
  nearest: Node | null | undefined;
  nearestKey?: Node | null;
}

/** Key → pair for each map, built on first lookup, so locating n keys in a map is O(n), not O(n²). */
const pairIndex = new WeakMap<YAMLMap, Map<string, Pair>>();

function pairOf(map: YAMLMap, key: string): Pair | undefined {
  let index = pairIndex.get(map);
  if (!index) {
    index = new Map();
    for (const p of map.items) {
      if (isPair(p) && isScalar(p.key)) {
        const k = String(p.key.value);
        if (!index.has(k)) index.set(k, p);
      }
    }
    pairIndex.set(map, index);
  }
  return index.get(key);
}

function find(doc: Document.Parsed, path: readonly Segment[]): Found {
  let node: Node | null | undefined = doc.contents;
  let keyNode: Node | null | undefined;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = pairOf(node, String(seg));
      if (!pair) return { node: undefined, complete: false, nearest: node, nearestKey: keyNode };
      keyNode = pair.key as Node;
      node = pair.value as Node | null;
      if (node === null)
        return { node: null, keyNode, complete: true, nearest: keyNode, nearestKey: keyNode };
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg];
      if (item === undefined) return { node: undefined, complete: false, nearest: node, nearestKey: keyNode };
      keyNode = item as Node;
      node = item as Node;
    } else {
      return { node: undefined, complete: false, nearest: node, nearestKey: keyNode };
    }
  }
  return { node, keyNode, complete: true, nearest: node, nearestKey: keyNode };
}

function locateOffset(doc: Document.Parsed, path: readonly Segment[], at: 'key' | 'value'): number {
  const found = find(doc, path);
  if (found.complete) {
    const target = at === 'key' ? (found.keyNode ?? found.node) : (found.node ?? found.keyNode);
    if (target?.range) return target.range[0];
  }
  const near = found.nearestKey ?? found.nearest;
  return near?.range?.[0] ?? 0;
}
