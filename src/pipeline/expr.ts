/**
 * Evaluating `${{ }}` expressions and rendering templates (template.ts) against a run's
 * `{ inputs, steps, item, index, failure }`, and the truthiness of `when`.
 */
import { CelEvalError, evaluateCel } from './cel.js';
import { evaluatePath } from './jsonpath.js';
import type { AnyExpression, Template } from './template.js';

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
  return evaluatePath(expr, ctx);
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
