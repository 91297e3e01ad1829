/**
 * The one CEL environment computed pipeline expressions run in: the variables `inputs`, `steps`,
 * `item`, `index`; the gateway's few extra functions; mixed int/double arithmetic; and a work
 * budget enforced on every evaluated node. Built once per process (building an Environment is
 * the expensive part of @marcbachmann/cel-js).
 *
 * CEL itself cannot reach JavaScript: field access reads own properties of plain data only, and
 * a call can only name a function registered here or built into the library — never a value.
 */
import { Environment, EvaluationError } from '@marcbachmann/cel-js';

/** Compile-time bounds: the source text and the parser's structural limits. */
export const CEL_LIMITS = {
  /** Characters of one expression's source. */
  maxSourceLength: 4_000,
  maxAstNodes: 1_000,
  /** Nesting of calls, selections, indexes and literals. */
  maxDepth: 32,
  maxListElements: 256,
  maxMapEntries: 256,
  maxCallArguments: 16,
} as const;

/** Run-time bounds of one evaluation. */
export const CEL_BUDGET = {
  /** Expression nodes evaluated (each step of a map/filter/exists counts its body's nodes). */
  maxNodes: 1_000_000,
  /** Wall-clock time, checked every 1,024 nodes: a guard for costly single operations on big data. */
  maxMs: 1_000,
  /** Characters of any string an operation produces (selections of existing data are not counted). */
  maxStringLength: 4 * 1024 * 1024,
  /** Items of any list or map an operation produces. */
  maxItems: 100_000,
} as const;

/** Functions that are refused at load: `matches` runs a backtracking regex (catastrophic on hostile patterns). */
export const REFUSED_FUNCTIONS: ReadonlyMap<string, string> = new Map([
  ['matches', 'matches() is not available: a regular expression can take exponential time'],
  [
    'gateway_probe',
    'unknown function gateway_probe()', // internal: how the budget hook finds the evaluator
  ],
]);

/** A bound was hit while evaluating; never retried. */
export class CelLimitError extends Error {
  override readonly name = 'CelLimitError';
}

// -- the budget --------------------------------------------------------------------------------

interface Budget {
  nodes: number;
  deadline: number;
  exceeded: CelLimitError | undefined;
}
const budget: Budget = { nodes: 0, deadline: 0, exceeded: undefined };

/** Ops whose result is a new value (selections `.`, `[]`, `id` and `?:` pass existing data through). */
export const PRODUCING_OPS: ReadonlySet<string> = new Set(['+', 'call', 'rcall', 'list', 'map']);

function fail(error: CelLimitError): never {
  budget.exceeded ??= error;
  throw error;
}

/** Throws when a produced string or list is over its bound; returns the value. */
export function checkProduced<T>(value: T): T {
  if (typeof value === 'string') {
    if (value.length > CEL_BUDGET.maxStringLength) {
      fail(
        new CelLimitError(
          `a string of ${value.length} characters is over the limit of ${CEL_BUDGET.maxStringLength}`,
        ),
      );
    }
  } else if (Array.isArray(value)) {
    if (value.length > CEL_BUDGET.maxItems) {
      fail(new CelLimitError(`a list of ${value.length} items is over the limit of ${CEL_BUDGET.maxItems}`));
    }
  }
  return value;
}

interface AstLike {
  op: string;
  args: unknown;
  evaluate(ev: unknown, ast: AstLike, ctx: unknown): unknown;
}

/**
 * `list.join(sep)` done here rather than by the library, so the joined length is checked before a
 * string is built: a list of many references to one big string would otherwise allocate its product.
 */
function runJoin(ev: { run(ast: AstLike, ctx: unknown): unknown }, ast: AstLike, ctx: unknown): unknown {
  const [, receiver, argAsts] = ast.args as [string, AstLike, AstLike[]];
  const list = ev.run(receiver, ctx);
  const sep = argAsts.length > 0 ? ev.run(argAsts[0]!, ctx) : '';
  if (!Array.isArray(list) || typeof sep !== 'string' || argAsts.length > 1) {
    return ast.evaluate(ev, ast, ctx); // the library's own overload resolution and error
  }
  let length = sep.length * Math.max(0, list.length - 1);
  for (const item of list) {
    if (typeof item !== 'string') {
      throw new EvaluationError('join(): the list must hold only strings; convert items with string(x)');
    }
    length += item.length;
  }
  if (length > CEL_BUDGET.maxStringLength) {
    fail(
      new CelLimitError(
        `join() would make a string of ${length} characters, over the limit of ${CEL_BUDGET.maxStringLength}`,
      ),
    );
  }
  return list.join(sep);
}

function hookEvaluator(ev: { run: (ast: AstLike, ctx: unknown) => unknown }): void {
  ev.run = function run(this: typeof ev, ast: AstLike, ctx: unknown): unknown {
    if (++budget.nodes > CEL_BUDGET.maxNodes) {
      fail(new CelLimitError(`the expression did more than ${CEL_BUDGET.maxNodes} steps of work`));
    }
    if ((budget.nodes & 1023) === 0 && performance.now() > budget.deadline) {
      fail(new CelLimitError(`the expression ran for more than ${CEL_BUDGET.maxMs} ms`));
    }
    if (ast.op === 'rcall' && (ast.args as unknown[])[0] === 'join') return runJoin(this, ast, ctx);
    const value = ast.evaluate(this, ast, ctx);
    if (PRODUCING_OPS.has(ast.op)) checkProduced(value);
    return value;
  };
}

/** Run `fn` (one evaluation) under a fresh budget; a limit hit anywhere inside wins over the result. */
export function withBudget<T>(fn: () => T): T {
  budget.nodes = 0;
  budget.deadline = performance.now() + CEL_BUDGET.maxMs;
  budget.exceeded = undefined;
  let value: T;
  try {
    value = fn();
  } catch (err) {
    // `exists`/`all` absorb errors of single items; the budget's error must still end the run.
    throw budget.exceeded ?? err;
  }
  if (budget.exceeded) throw budget.exceeded;
  return value;
}

// -- extra functions ---------------------------------------------------------------------------

const num = (v: unknown): number => (typeof v === 'bigint' ? Number(v) : (v as number));

function fixed(value: unknown, digits: unknown): string {
  const d = Number(digits);
  if (!Number.isInteger(d) || d < 0 || d > 20) {
    throw new EvaluationError(`fixed(x, digits): digits must be 0 to 20; got ${String(digits)}`);
  }
  return num(value).toFixed(d);
}

interface MacroAst {
  args: AstLike[];
}
interface Checker {
  check(ast: AstLike, ctx: unknown): unknown;
  getType(name: string): unknown;
}
interface Evaluator {
  tryEval(ast: AstLike, ctx: unknown): unknown;
  run(ast: AstLike, ctx: unknown): unknown;
}

/** Errors of selecting what is not there: `default()` turns these into its fallback. */
const ABSENT_CODES = new Set(['no_such_key', 'index_out_of_bounds']);

/** `default(expr, fallback)`: expr's value, or fallback when expr selects a missing key or index, or is null. */
function defaultMacro({ args }: MacroAst) {
  return {
    args,
    async: false,
    typeCheck(checker: Checker, macro: MacroAst, ctx: unknown) {
      checker.check(macro.args[0]!, ctx);
      checker.check(macro.args[1]!, ctx);
      return checker.getType('dyn');
    },
    evaluate(ev: Evaluator, macro: MacroAst, ctx: unknown) {
      const value = ev.tryEval(macro.args[0]!, ctx);
      if (value instanceof Error) {
        if (budget.exceeded || !ABSENT_CODES.has((value as { code?: string }).code ?? '')) throw value;
        return ev.run(macro.args[1]!, ctx);
      }
      return value === null || value === undefined ? ev.run(macro.args[1]!, ctx) : value;
    },
  };
}

function build(): Environment {
  const env = new Environment({
    unlistedVariablesAreDyn: false,
    homogeneousAggregateLiterals: false,
    enableOptionalTypes: true,
    limits: {
      maxAstNodes: CEL_LIMITS.maxAstNodes,
      maxDepth: CEL_LIMITS.maxDepth,
      maxListElements: CEL_LIMITS.maxListElements,
      maxMapEntries: CEL_LIMITS.maxMapEntries,
      maxCallArguments: CEL_LIMITS.maxCallArguments,
    },
  })
    .registerVariable('inputs', 'map')
    .registerVariable('steps', 'map')
    .registerVariable('item', 'dyn')
    .registerVariable('index', 'int')
    // Only set in on_failure steps (validate.ts refuses it elsewhere): { step, error, status }.
    .registerVariable('failure', 'map');

  // Numbers from JSON are doubles and literals like `2` are ints; CEL refuses to mix them, which
  // would make `inputs.limit * 2` an error. Mixed arithmetic gives a double, as in JSON.
  for (const op of ['+', '-', '*', '/'] as const) {
    const f = (a: unknown, b: unknown): number => {
      const x = num(a);
      const y = num(b);
      return op === '+' ? x + y : op === '-' ? x - y : op === '*' ? x * y : x / y;
    };
    env.registerOperator(`double ${op} int`, f);
    env.registerOperator(`int ${op} double`, f);
  }
  env.registerOperator('double % double', (a: number, b: number) => a % b);
  env.registerOperator('double % int', (a: number, b: bigint) => a % Number(b));
  env.registerOperator('int % double', (a: bigint, b: number) => Number(a) % b);

  env.registerFunction('fixed(double, int): string', fixed);
  env.registerFunction('fixed(int, int): string', fixed);
  env.registerFunction('string.lower(): string', (s: string) => s.toLowerCase());
  env.registerFunction('string.upper(): string', (s: string) => s.toUpperCase());
  env.registerFunction('default(ast, ast): dyn', defaultMacro as never);

  let evaluator: { run: (ast: AstLike, ctx: unknown) => unknown } | undefined;
  env.registerFunction('gateway_probe(): bool', function (this: typeof evaluator) {
    evaluator = this;
    return true;
  });
  env.evaluate('gateway_probe()');
  if (!evaluator || typeof evaluator.run !== 'function') {
    // The budget relies on the evaluator's per-node `run`; a library change must fail loudly here.
    throw new Error('@marcbachmann/cel-js: cannot install the evaluation budget');
  }
  hookEvaluator(evaluator);
  return env;
}

export const celEnvironment: Environment = build();
