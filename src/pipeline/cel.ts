// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax
/**
 * Computed expressions: a `${{ }}` whose content does not start with `$` is CEL (the Common
 * Expression Language) over `inputs`, `steps`, `item` and `index`. Compiled once at load (parse,
 * type check, and a walk of the tree for the steps and inputs it reads); evaluated under the
 * budget of cel-env.ts; the value converted to plain JSON.
 */
import { TypeError as CelTypeError, EvaluationError, Optional, ParseError } from '@marcbachmann/cel-js';
import {
  CEL_LIMITS,
  CelLimitError,
  celEnvironment,
  checkProduced,
  PRODUCING_OPS,
  REFUSED_FUNCTIONS,
  withBudget,
} from './cel-env.js';
import { EXPRESSION_ROOTS, type ExpressionRoot, STEP_RESULT_FIELDS } from './expression-roots.js';
import { didYouMean, dq, list, sq } from './suggest.js';

const STEP_FIELDS: readonly string[] = STEP_RESULT_FIELDS;

/** A read of `steps.<id>`, `inputs.<name>` (or all of `inputs`), `item` or `index`, at [start, end) of the source. */
export interface CelRef {
  readonly root: ExpressionRoot;
  readonly step?: string;
  readonly input?: string;
  readonly start: number;
  readonly end: number;
}

export interface CelExpression {
  readonly kind: 'cel';
  /** The expression as written, trimmed. */
  readonly source: string;
  readonly refs: readonly CelRef[];
  /** The type the checker inferred: `bool`, `string`, `int`, `list`, `dyn` … */
  readonly type: string;
  /**
   * For a `dyn` the checker could not narrow, what the root operator still tells: `string` for a
   * `+` with a string literal (CEL has no implicit conversion, so only text + text runs), `number`
   * for `-`, `*`, `/`, `%`. For the load-time data-flow check; undefined when nothing is known.
   */
  readonly shape?: 'string' | 'number';
  readonly program: (ctx: Record<string, unknown>) => unknown;
}

/** A problem for the author, at `at` characters into the source. */
export class CelCompileError extends Error {
  override readonly name = 'CelCompileError';
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(message);
  }
}

/** An evaluation failed: the message names the expression; never worth a retry. */
export class CelEvalError extends Error {
  override readonly name = 'CelEvalError';
}

interface Node {
  op: string;
  args: unknown;
  start: number;
  end: number;
}

const isNode = (v: unknown): v is Node =>
  v !== null && typeof v === 'object' && typeof (v as Node).op === 'string' && 'args' in (v as object);

/** The library's message without its source excerpt (we give a line:column instead). */
function summary(err: unknown): string {
  const e = err as { summary?: unknown; message?: unknown };
  const text = typeof e.summary === 'string' ? e.summary : String(e.message ?? err);
  return text.split('\n')[0]!;
}

export function compileCel(text: string): CelExpression {
  const lead = text.length - text.trimStart().length;
  const source = text.trim();
  if (source.length > CEL_LIMITS.maxSourceLength) {
    throw new CelCompileError(
      `expression is too long (${source.length} characters; at most ${CEL_LIMITS.maxSourceLength})`,
      0,
    );
  }
  const dollar = source.indexOf('$');
  let parsed: ReturnType<typeof celEnvironment.parse>;
  try {
    parsed = celEnvironment.parse(source);
  } catch (err) {
    if (dollar >= 0) {
      throw new CelCompileError(
        'a computed expression reads data without $: write steps.<id>.output, not $.steps.<id>.output (a JSONPath is only the whole ${{ }} content)',
        lead + dollar,
      );
    }
    throw new CelCompileError(`CEL: ${summary(err)}`, lead + errorStart(err));
  }
  const refs: CelRef[] = [];
  walk(parsed.ast as unknown as Node, refs, new Set());
  const checked = parsed.check();
  if (!checked.valid) {
    throw new CelCompileError(`CEL: ${summary(checked.error)}`, lead + errorStart(checked.error));
  }
  const shifted = refs
    .sort((a, b) => a.start - b.start)
    .map((r) => ({ ...r, start: r.start + lead, end: r.end + lead }));
  // The library evaluates the root node itself, outside the evaluator's per-node `run` that the
  // budget hooks: the root's result is size-checked after evaluation, but a root `join()` must be
  // checked before it builds its string, so that one goes inside dyn( ), whose argument goes through
  // `run`. (A source that parses alone is one complete expression: the wrapper cannot change it.)
  const root = parsed.ast as unknown as Node;
  let program: CelExpression['program'] = parsed;
  if (root.op === 'rcall' && (root.args as unknown[])[0] === 'join') {
    const wrapped = celEnvironment.parse(`dyn(\n${source}\n)`);
    wrapped.check();
    program = wrapped;
  } else if (PRODUCING_OPS.has(root.op)) {
    program = (vars) => checkProduced(parsed(vars));
  }
  const type = checked.type ?? 'dyn';
  const shape = type === 'dyn' ? rootShape(root) : undefined;
  return { kind: 'cel', source, refs: shifted, type, ...(shape ? { shape } : {}), program };
}

const ARITHMETIC = new Set(['-', '*', '/', '%']);

function rootShape(root: Node): CelExpression['shape'] {
  if (ARITHMETIC.has(root.op)) return 'number';
  if (root.op === '+' && Array.isArray(root.args)) {
    const literal = root.args.some((a) => isNode(a) && a.op === 'value' && typeof a.args === 'string');
    if (literal) return 'string';
  }
  return undefined;
}

function errorStart(err: unknown): number {
  const range = (err as { range?: { start?: unknown } } | undefined)?.range;
  return typeof range?.start === 'number' ? range.start : 0;
}

/** Macros whose first argument names a variable bound in the others. */
const BINDING_MACROS = new Set(['map', 'filter', 'all', 'exists', 'exists_one', 'bind']);

/**
 * Collect the reads of the four roots, and refuse what cannot be checked statically: `steps`
 * without `.id` (its dependencies would be unknown), a step result field that does not exist, a
 * bound variable shadowing a root, refused functions.
 */
function walk(node: Node, refs: CelRef[], bound: ReadonlySet<string>, parent?: Node): void {
  const { op, args } = node;
  if (op === 'id') {
    const name = args as string;
    if (bound.has(name) || !(EXPRESSION_ROOTS as readonly string[]).includes(name)) return;
    const root = name as ExpressionRoot;
    if (root === 'steps') {
      const id = parent?.op === '.' || parent?.op === '.?' ? ((parent.args as [Node, string])[1] ?? '') : '';
      if (!id)
        throw new CelCompileError('steps must be followed by .<id>, like steps.fetch.output', node.start);
      refs.push({ root, step: id, start: node.start, end: parent!.end });
    } else if (root === 'inputs') {
      const name = parent?.op === '.' || parent?.op === '.?' ? (parent.args as [Node, string])[1] : undefined;
      refs.push(
        name !== undefined
          ? { root, input: name, start: node.start, end: parent!.end }
          : { root, start: node.start, end: node.end },
      );
    } else refs.push({ root, start: node.start, end: node.end });
    return;
  }
  if (op === '.' || op === '.?') {
    const [target, field] = args as [Node, string];
    // steps.<id>.<field>: the field must be one a step result has.
    if (
      isNode(target) &&
      (target.op === '.' || target.op === '.?') &&
      isNode((target.args as [Node])[0]) &&
      (target.args as [Node])[0].op === 'id' &&
      (target.args as [Node])[0].args === 'steps' &&
      !bound.has('steps') &&
      !STEP_FIELDS.includes(field)
    ) {
      throw new CelCompileError(
        `unknown step result field ${sq(field)}${didYouMean(field, STEP_FIELDS, sq)}; fields: ${list([...STEP_FIELDS])}`,
        target.end + 1,
      );
    }
    walk(target, refs, bound, node);
    return;
  }
  if (op === 'call' || op === 'rcall') {
    const name = (args as unknown[])[0] as string;
    const refused = REFUSED_FUNCTIONS.get(name);
    if (refused) throw new CelCompileError(refused, node.start);
    const receiver = op === 'rcall' ? ((args as unknown[])[1] as Node) : undefined;
    const callArgs = ((op === 'rcall' ? (args as unknown[])[2] : (args as unknown[])[1]) ?? []) as Node[];
    if (receiver) walk(receiver, refs, bound, node);
    let inner = bound;
    if (op === 'rcall' && BINDING_MACROS.has(name) && callArgs[0]?.op === 'id') {
      const variable = callArgs[0].args as string;
      if ((EXPRESSION_ROOTS as readonly string[]).includes(variable)) {
        throw new CelCompileError(
          `${dq(variable)} names an expression variable; choose another name for the ${name}() variable`,
          callArgs[0].start,
        );
      }
      inner = new Set([...bound, variable]);
      // cel.bind(x, value, expr): `value` sees the outer scope.
      if (name === 'bind' && callArgs[1]) walk(callArgs[1], refs, bound, node);
      for (const a of callArgs.slice(name === 'bind' ? 2 : 1)) walk(a, refs, inner, node);
      return;
    }
    for (const a of callArgs) if (isNode(a)) walk(a, refs, inner, node);
    return;
  }
  // Every other node: walk whatever nodes its arguments hold (lists, map entries, operands).
  const stack: unknown[] = [args];
  while (stack.length > 0) {
    const v = stack.pop();
    if (isNode(v)) walk(v, refs, bound, node);
    else if (Array.isArray(v)) stack.push(...v);
  }
}

/** What a CEL expression is evaluated against; `index` is a CEL int. */
export interface CelContext {
  inputs: Record<string, unknown>;
  steps: Record<string, unknown>;
  item?: unknown;
  index?: number;
  failure?: unknown;
}

export function evaluateCel(expr: CelExpression, ctx: CelContext): unknown {
  const vars = {
    inputs: ctx.inputs,
    steps: ctx.steps,
    item: ctx.item ?? null,
    index: ctx.index === undefined ? 0n : BigInt(ctx.index),
    failure: ctx.failure ?? null,
  };
  let value: unknown;
  try {
    value = withBudget(() => expr.program(vars));
  } catch (err) {
    throw new CelEvalError(`\${{ ${clip(expr.source)} }}: ${describeError(err)}`);
  }
  try {
    return toJson(value, 0);
  } catch (err) {
    throw new CelEvalError(`\${{ ${clip(expr.source)} }}: ${(err as Error).message}`);
  }
}

function clip(source: string): string {
  const one = source.replace(/\s+/g, ' ');
  return one.length > 120 ? `${one.slice(0, 117)}...` : one;
}

function describeError(err: unknown): string {
  if (err instanceof CelLimitError) return err.message;
  if (err instanceof EvaluationError || err instanceof CelTypeError || err instanceof ParseError) {
    const code = (err as { code?: string }).code;
    const text = summary(err);
    if (code === 'no_such_key')
      return `${text} (use has(x.key) or default(x.key, fallback) when it may be absent)`;
    return text;
  }
  // Anything else thrown inside the library (a RangeError for an impossible string, say).
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

const MAX_JSON_DEPTH = 200;

/** A CEL value as plain JSON: ints as numbers, maps as objects, optionals unwrapped; bytes refused. */
function toJson(value: unknown, depth: number): unknown {
  if (depth > MAX_JSON_DEPTH) throw new Error(`the value is nested more than ${MAX_JSON_DEPTH} deep`);
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
      return value;
    case 'bigint':
      return Number(value);
    case 'undefined':
      return undefined;
    case 'object':
      break;
    default:
      throw new Error(`a ${typeof value} is not a JSON value`);
  }
  if (value === null) return null;
  if (Array.isArray(value)) {
    let plain = true;
    for (const v of value) if (v !== null && typeof v === 'object') plain = false;
    if (plain && !value.some((v) => typeof v === 'bigint' || v === undefined)) return value;
    return value.map((v) => toJson(v, depth + 1) ?? null);
  }
  if (value instanceof Optional) return value.hasValue() ? toJson(value.value(), depth + 1) : undefined;
  if (value instanceof Uint8Array) throw new Error('bytes are not a JSON value; use string(b) or b.base64()');
  if (value instanceof Date) return value.toISOString();
  const out: Record<string, unknown> = {};
  const put = (k: unknown, v: unknown) => {
    const j = toJson(v, depth + 1);
    if (j !== undefined)
      Object.defineProperty(out, String(k), {
        value: j,
        enumerable: true,
        writable: true,
        configurable: true,
      });
  };
  if (value instanceof Map) {
    for (const [k, v] of value) put(k, v);
    return out;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    // A uint is an object around a bigint; a type or a duration has no JSON but its text.
    const inner = (value as { valueOf(): unknown }).valueOf();
    return typeof inner === 'bigint' ? Number(inner) : String(value);
  }
  for (const k of Object.keys(value)) put(k, (value as Record<string, unknown>)[k]);
  return out;
}
