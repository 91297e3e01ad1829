/**
 * `${{ $… }}` expressions: a JSONPath compiled once when a pipeline loads, evaluated against
 * `{ inputs, steps, item, index }` while it runs. Paths go through jsonpath-plus with script
 * evaluation off; filter and script expressions are refused at compile time, so no user text is
 * ever evaluated as code.
 */
import { JSONPath } from 'jsonpath-plus';
import { EXPRESSION_ROOTS, type ExpressionRoot, STEP_RESULT_FIELDS } from './expression-roots.js';
import { didYouMean, dq, list, sq } from './suggest.js';

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

/**
 * A definite path yields its value or undefined; any other path yields an array of every match.
 * `root` is the whole context (`$`).
 */
export function evaluatePath(expr: Expression, root: object): unknown {
  if (expr.plain) {
    const segs = expr.segments;
    // The fast path, with jsonpath-plus's own rule for following a property.
    let value: unknown = root;
    for (let i = 1; i < segs.length; i++) {
      if (!value || !Object.hasOwn(value as object, segs[i]!)) return undefined;
      value = (value as Record<string, unknown>)[segs[i]!];
    }
    return value;
  }
  const matches = JSONPath({ path: expr.source, json: root, eval: false, wrap: true }) as unknown[];
  return expr.definite ? matches[0] : matches;
}
