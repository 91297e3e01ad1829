/**
 * Templates: JSON values whose strings may hold `${{ }}` expressions, compiled once when a pipeline
 * loads — each expression to a JSONPath (jsonpath.ts) when its content starts with `$`, else to CEL
 * (cel.ts) — with every problem at its key path and offset, and the reads each expression makes.
 * Rendering a template against a run is expr.ts.
 */
import { CelCompileError, type CelExpression, compileCel } from './cel.js';
import type { ExpressionRoot } from './expression-roots.js';
import { compileExpression, type Expression } from './jsonpath.js';

export type Segment = string | number;

/** What a `${{ }}` holds: a JSONPath when its content starts with `$`, else a CEL expression. */
export type AnyExpression = Expression | CelExpression;

/**
 * Where a template's value is in the file: its key path, and for a whole-string expression its
 * offset and text in that string. Positions are worked out only when a problem is reported (by
 * `CompiledPipeline.locate`): most loads never need one.
 */
export interface TemplateSite {
  readonly path: readonly Segment[];
  readonly offset?: number;
  readonly raw?: string;
}

/** `site` is set on expressions and texts when compiled with sites (pipelines from a file). */
export type Template =
  | { readonly kind: 'literal'; readonly value: unknown }
  | { readonly kind: 'expr'; readonly expr: AnyExpression; readonly site?: TemplateSite }
  | {
      readonly kind: 'text';
      readonly parts: readonly (string | AnyExpression)[];
      readonly site?: TemplateSite;
    }
  | { readonly kind: 'array'; readonly items: readonly Template[] }
  | { readonly kind: 'object'; readonly entries: readonly (readonly [string, Template])[] };

/** Where an expression sits: the key path of its string and its offset and raw text in that string. */
export interface ExpressionSite {
  path: Segment[];
  offset: number;
  raw: string;
}

export interface CompiledExpressionSite extends ExpressionSite {
  expr: AnyExpression;
}

/** One read of `inputs`, `steps.<id>`, `item` or `index` by an expression, located for messages. */
export interface ExpressionRef extends ExpressionSite {
  readonly root: ExpressionRoot;
  readonly step?: string;
  readonly input?: string;
  /** How the root is written there: `$.item` in a JSONPath, `item` in CEL. */
  readonly written: string;
}

/** The reads of a compiled expression: one for a JSONPath, one per `steps.x` / `inputs.y` / … in CEL. */
export function expressionRefs(site: CompiledExpressionSite): ExpressionRef[] {
  const { expr } = site;
  if (expr.kind === 'path') {
    const ref: ExpressionRef = {
      path: site.path,
      offset: site.offset,
      raw: site.raw,
      root: expr.root,
      written: `$.${expr.root}`,
    };
    return [
      {
        ...ref,
        ...(expr.step !== undefined ? { step: expr.step } : {}),
        ...(expr.input !== undefined ? { input: expr.input } : {}),
      },
    ];
  }
  const base = site.offset + OPEN.length;
  const inner = site.raw.slice(OPEN.length, site.raw.length - CLOSE.length);
  return expr.refs.map((r) => ({
    path: site.path,
    offset: base + r.start,
    raw: inner.slice(r.start, r.end),
    root: r.root,
    written: r.root,
    ...(r.step !== undefined ? { step: r.step } : {}),
    ...(r.input !== undefined ? { input: r.input } : {}),
  }));
}

/** The steps an expression reads. */
export function expressionSteps(expr: AnyExpression): string[] {
  if (expr.kind === 'path') return expr.step !== undefined ? [expr.step] : [];
  return expr.refs.flatMap((r) => (r.step !== undefined ? [r.step] : []));
}

export interface TemplateProblem extends ExpressionSite {
  message: string;
}

export interface CompiledTemplate {
  template: Template;
  expressions: CompiledExpressionSite[];
  problems: TemplateProblem[];
}

const OPEN = '${{';
const CLOSE = '}}';

/** Compile every string in a JSON value; problems carry the key path and offset for positions. */
export function compileTemplate(value: unknown, path: Segment[] = [], sites = false): CompiledTemplate {
  const expressions: CompiledExpressionSite[] = [];
  const problems: TemplateProblem[] = [];
  const template = compileValue(value, path, expressions, problems, sites);
  return { template, expressions, problems };
}

function compileValue(
  value: unknown,
  path: Segment[],
  exprs: CompiledExpressionSite[],
  problems: TemplateProblem[],
  sites: boolean,
): Template {
  if (typeof value === 'string') return compileString(value, path, exprs, problems, sites);
  if (Array.isArray(value)) {
    const items = value.map((v, i) => compileValue(v, [...path, i], exprs, problems, sites));
    return items.every((t) => t.kind === 'literal') ? { kind: 'literal', value } : { kind: 'array', items };
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).map(
      ([k, v]) => [k, compileValue(v, [...path, k], exprs, problems, sites)] as const,
    );
    return entries.every(([, t]) => t.kind === 'literal')
      ? { kind: 'literal', value }
      : { kind: 'object', entries };
  }
  return { kind: 'literal', value };
}

function compileString(
  s: string,
  path: Segment[],
  exprs: CompiledExpressionSite[],
  problems: TemplateProblem[],
  sites: boolean,
): Template {
  let open = s.indexOf(OPEN);
  if (open < 0) return { kind: 'literal', value: s };
  const parts: (string | AnyExpression)[] = [];
  let last = 0;
  let failed = false;
  while (open >= 0) {
    const close = findClose(s, open + OPEN.length);
    if (close < 0) {
      problems.push({
        path,
        offset: open,
        raw: s.slice(open),
        message: 'unterminated expression: missing }}',
      });
      return { kind: 'literal', value: s };
    }
    const raw = s.slice(open, close + CLOSE.length);
    if (open > last) parts.push(s.slice(last, open));
    const content = s.slice(open + OPEN.length, close);
    try {
      const expr = isJsonPath(content) ? compileExpression(content) : compileCel(content);
      exprs.push({ path, offset: open, raw, expr });
      parts.push(expr);
    } catch (err) {
      failed = true;
      if (err instanceof CelCompileError) {
        // Point at the character the problem is at; `raw` (to the end of its line) locates it in the file.
        const at = open + OPEN.length + Math.min(err.at, content.length);
        const lineEnd = s.indexOf('\n', at);
        const end = Math.min(lineEnd < 0 ? s.length : lineEnd, close + CLOSE.length);
        const tail = s.slice(at, end);
        problems.push(
          tail.trim() === ''
            ? { path, offset: open, raw, message: err.message }
            : { path, offset: at, raw: tail, message: err.message },
        );
      } else problems.push({ path, offset: open, raw, message: (err as Error).message });
    }
    last = close + CLOSE.length;
    open = s.indexOf(OPEN, last);
  }
  if (last < s.length) parts.push(s.slice(last));
  if (failed) return { kind: 'literal', value: s };
  if (parts.length === 1 && typeof parts[0] !== 'string') {
    const site = exprs[exprs.length - 1]!;
    return sites
      ? { kind: 'expr', expr: parts[0]!, site: { path, offset: site.offset, raw: site.raw } }
      : { kind: 'expr', expr: parts[0]! };
  }
  return sites ? { kind: 'text', parts, site: { path } } : { kind: 'text', parts };
}

/** A JSONPath starts with `$` (and an empty expression gets the JSONPath's "empty expression" error). */
function isJsonPath(content: string): boolean {
  const t = content.trimStart();
  return t === '' || t.startsWith('$');
}

/**
 * The `}}` that closes the expression opened before `from`: the first one outside quotes and
 * outside braces opened inside the expression, so a CEL map literal `{"a": {"b": 1}}` or a string
 * holding "}}" does not end it early. -1 when there is none.
 */
function findClose(s: string, from: number): number {
  let depth = 0;
  let quote = '';
  for (let i = from; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '{') depth++;
    else if (c === '}') {
      if (depth === 0 && s[i + 1] === '}') return i;
      if (depth > 0) depth--;
    }
  }
  // An unbalanced quote or brace: fall back to the first `}}`, so the author gets the expression's own error.
  return s.indexOf(CLOSE, from);
}

/** Every expression in a template, in order. */
export function templateExpressions(template: Template): AnyExpression[] {
  const out: AnyExpression[] = [];
  const walk = (t: Template): void => {
    if (t.kind === 'expr') out.push(t.expr);
    else if (t.kind === 'text') for (const p of t.parts) typeof p === 'string' || out.push(p);
    else if (t.kind === 'array') t.items.forEach(walk);
    else if (t.kind === 'object') for (const [, v] of t.entries) walk(v);
  };
  walk(template);
  return out;
}
