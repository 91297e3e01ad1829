/**
 * `${{ <JSONPath> }}` expressions: compiled once when a pipeline loads, evaluated against
 * `{ inputs, steps, item, index }` while it runs. Paths go through jsonpath-plus with script
 * evaluation off; filter and script expressions are refused at compile time, so no user text is
 * ever evaluated as code.
 */
import { JSONPath } from 'jsonpath-plus';
import { CelCompileError, CelEvalError, type CelExpression, compileCel, evaluateCel } from './cel.js';
import { didYouMean, dq, list, sq } from './suggest.js';

export type Segment = string | number;

export const EXPRESSION_ROOTS = ['inputs', 'steps', 'item', 'index', 'failure'] as const;
export type ExpressionRoot = (typeof EXPRESSION_ROOTS)[number];

/** The fields of `$.steps.<id>`. */
export const STEP_RESULT_FIELDS = [
  'status',
  'output',
  'text',
  'content',
  'isError',
  'error',
  'attempts',
  'durationMs',
] as const;

/** A JSONPath expression (`${{ $.… }}`). */
export interface Expression {
  readonly kind: 'path';
  /** The path as written, trimmed. */
  readonly source: string;
  /** jsonpath-plus's path array, starting with `$`. */
  readonly segments: readonly string[];
  readonly root: ExpressionRoot;
  /** `$.steps.<id>…`: the step it reads. */
  readonly step?: string;
  /** `$.inputs.<name>…`: the input it reads. */
  readonly input?: string;
  /** Selects at most one value (no wildcard, descent, slice or union): evaluates to it or undefined. Otherwise always an array. */
  readonly definite: boolean;
  /** Only property names and indexes: evaluated by a direct walk, without jsonpath-plus. */
  readonly plain: boolean;
}

/** What a `${{ }}` holds: a JSONPath when its content starts with `$`, else a CEL expression. */
export type AnyExpression = Expression | CelExpression;

export class ExpressionError extends Error {
  override readonly name = 'ExpressionError';
}

const SCRIPT_MESSAGE = 'script and filter expressions are not allowed';
const SLICE_RE = /^(-?\d*):(-?\d*):?(\d*)$/;

function isPlainSegment(seg: string): boolean {
  if (seg === '' || seg === '*' || seg === '..' || seg === '^' || seg === '~' || seg === '$') return false;
  const c = seg[0];
  if (c === '@' || c === '`' || c === '(' || c === '?') return false;
  return !seg.includes(',') && !SLICE_RE.test(seg);
}

/** Bound jsonpath-plus's global path cache, which grows with every distinct path it sees. */
let uncachedCompiles = 0;
function boundJsonPathCache(): void {
  if (++uncachedCompiles % 5_000 === 0) JSONPath.cache = {};
}

/** Compile the JSONPath inside `${{ }}`; throws ExpressionError with a message for the author. */
export function compileExpression(text: string): Expression {
  const source = text.trim();
  if (source === '') throw new ExpressionError('empty expression');
  if (source.includes('?(') || source.includes('(') || source.includes('`')) {
    throw new ExpressionError(SCRIPT_MESSAGE);
  }
  if (!source.startsWith('$')) {
    throw new ExpressionError(
      `expression must be a JSONPath starting with $, like $.inputs.name; got ${dq(source)}`,
    );
  }
  let segments: string[];
  try {
    boundJsonPathCache();
    segments = JSONPath.toPathArray(source);
  } catch {
    throw new ExpressionError(`cannot parse JSONPath ${dq(source)}`);
  }
  // jsonpath-plus yields null for a segment it cannot read (`$.inputs#0`).
  if (segments.some((seg) => typeof seg !== 'string')) {
    throw new ExpressionError(`cannot parse JSONPath ${dq(source)}`);
  }
  if (segments[0] !== '$') {
    throw new ExpressionError(
      `expression must be a JSONPath starting with $, like $.inputs.name; got ${dq(source)}`,
    );
  }
  for (let i = 1; i < segments.length; i++) {
    const seg = segments[i]!;
    if (seg === '$' || seg === '^') {
      throw new ExpressionError(
        `the root ($) and parent (^) operators are only allowed at the start of a path`,
      );
    }
    // `@` is the current node and `?` starts a filter: only meaningful in the script and filter
    // expressions refused above (jsonpath-plus would otherwise fail on them at run time).
    if (seg.startsWith('@') || seg.startsWith('?')) throw new ExpressionError(SCRIPT_MESSAGE);
  }
  const first = segments[1];
  if (
    first === undefined ||
    !isPlainSegment(first) ||
    !(EXPRESSION_ROOTS as readonly string[]).includes(first)
  ) {
    const hint =
      first !== undefined && isPlainSegment(first)
        ? didYouMean(first, EXPRESSION_ROOTS, (s) => `$.${s}`)
        : '';
    throw new ExpressionError(`expression must start with $.inputs, $.steps.<id>, $.item or $.index${hint}`);
  }
  const root = first as ExpressionRoot;
  const rest = segments.slice(2);
  let step: string | undefined;
  let input: string | undefined;
  if (root === 'steps') {
    const id = rest[0];
    if (id === undefined || !isPlainSegment(id))
      throw new ExpressionError('expression must name a step: $.steps.<id>');
    step = id;
    const field = rest[1];
    if (
      field !== undefined &&
      isPlainSegment(field) &&
      !(STEP_RESULT_FIELDS as readonly string[]).includes(field)
    ) {
      throw new ExpressionError(
        `unknown step result field ${sq(field)}${didYouMean(field, STEP_RESULT_FIELDS, sq)}; fields: ${list([...STEP_RESULT_FIELDS])}`,
      );
    }
  } else if (root === 'inputs') {
    const name = rest[0];
    if (name !== undefined && isPlainSegment(name)) input = name;
  } else if (rest.length > 0 && root === 'index') {
    throw new ExpressionError('$.index is a number; it has no properties');
  }
  const plain = rest.every(isPlainSegment);
  return {
    kind: 'path',
    source,
    segments,
    root,
    step,
    input,
    definite: plain || rest.every(isPlainOrName),
    plain,
  };
}

function isPlainOrName(seg: string, i: number, all: readonly string[]): boolean {
  return isPlainSegment(seg) || (seg === '~' && i === all.length - 1);
}

/** What expressions are evaluated against. `steps` holds only the steps that are done. */
export interface ExpressionContext {
  inputs: Record<string, unknown>;
  steps: Record<string, unknown>;
  item?: unknown;
  index?: number;
  /** Only in on_failure steps: `{ step, error, status }` of the run that failed. */
  failure?: unknown;
}

/**
 * A definite path yields its value or undefined; any other path yields an array of every match.
 * A CEL expression yields its value as JSON (throws CelEvalError naming the expression).
 */
export function evaluate(expr: AnyExpression, ctx: ExpressionContext): unknown {
  if (expr.kind === 'cel') return evaluateCel(expr, ctx);
  if (expr.plain) {
    const segs = expr.segments;
    // The fast path, with jsonpath-plus's own rule for following a property.
    let value: unknown = ctx;
    for (let i = 1; i < segs.length; i++) {
      if (!value || !Object.hasOwn(value as object, segs[i]!)) return undefined;
      value = (value as Record<string, unknown>)[segs[i]!];
    }
    return value;
  }
  const matches = JSONPath({ path: expr.source, json: ctx as object, eval: false, wrap: true }) as unknown[];
  return expr.definite ? matches[0] : matches;
}

// ---------------------------------------------------------------------------------------------
// Templates: JSON values whose strings may hold expressions.

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

/**
 * The value of a template. A whole-string expression keeps its JSON type; one that selects
 * nothing is undefined, which drops an object key and becomes null in an array. An embedded
 * expression is interpolated as text (see {@link toText}).
 */
export function render(template: Template, ctx: ExpressionContext): unknown {
  switch (template.kind) {
    case 'literal':
      return template.value;
    case 'expr':
      return evaluate(template.expr, ctx);
    case 'text': {
      let out = '';
      for (const part of template.parts) out += typeof part === 'string' ? part : toText(evaluate(part, ctx));
      return out;
    }
    case 'array':
      return template.items.map((t) => render(t, ctx) ?? null);
    case 'object': {
      const entries: [string, unknown][] = [];
      for (const [key, t] of template.entries) {
        const v = render(t, ctx);
        if (v !== undefined) entries.push([key, v]);
      }
      return Object.fromEntries(entries);
    }
  }
}

/** Interpolation: strings as they are, null and nothing as '', numbers and booleans as written, the rest as JSON. */
export function toText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  return JSON.stringify(value) ?? '';
}

/** `when`: false, null, nothing, 0, NaN, '', 'false' and [] are falsy; everything else is truthy. */
export function isTruthy(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === '' || value === 'false')
    return false;
  if (typeof value === 'number') return value !== 0 && !Number.isNaN(value);
  if (Array.isArray(value)) return value.length > 0;
  return true;
}

/**
 * `when`: a step runs when this is true. A CEL expression standing alone must yield a bool (a
 * string or number there is a mistake worth stopping for); a JSONPath or a text keeps the
 * truthiness rule of {@link isTruthy}.
 */
export function evaluateCondition(template: Template, ctx: ExpressionContext): boolean {
  if (template.kind === 'expr' && template.expr.kind === 'cel') {
    const value = evaluate(template.expr, ctx);
    if (typeof value !== 'boolean') {
      throw new CelEvalError(
        `\${{ ${template.expr.source} }} must yield true or false; it yielded ${value === null ? 'null' : Array.isArray(value) ? 'a list' : `a ${typeof value}`}`,
      );
    }
    return value;
  }
  return isTruthy(render(template, ctx));
}

/** A `when` CEL expression whose type is known at load must be a bool. */
export function conditionTypeProblem(template: Template): string | undefined {
  if (template.kind !== 'expr' || template.expr.kind !== 'cel') return undefined;
  const { type } = template.expr;
  return type === 'bool' || type === 'dyn'
    ? undefined
    : `when must be a condition (true or false); this expression yields ${type}`;
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
