/**
 * What becomes of a step once its dependencies are done, before any call: skipped (a dependency
 * skipped or cancelled and no `when` of its own, or `when` falsy), failed (`when` / `for_each` cannot
 * be evaluated, or `for_each` is not a list), or run — once, or once per `for_each` item.
 */
import { errorMessage } from '../errors.js';
import { type ExpressionContext, evaluateCondition, render } from './expr.js';
import { describe } from './step-call.js';
import type { StepRun } from './step-run.js';
import { sq } from './suggest.js';

export type Gate =
  | { kind: 'skip'; reason: string }
  | { kind: 'fail'; message: string }
  /** `items`: the for_each values; undefined for a single call. */
  | { kind: 'run'; items?: unknown[] };

export function gateStep(r: StepRun, runs: readonly StepRun[], ctx: ExpressionContext): Gate {
  const { step } = r;
  if (!step.when) {
    const blocker = r.deps.find((d) => {
      const status = runs[d]!.status;
      return status === 'skipped' || status === 'cancelled';
    });
    if (blocker !== undefined) {
      return { kind: 'skip', reason: `dependency ${sq(runs[blocker]!.step.id)} was skipped` };
    }
  } else {
    let go: boolean;
    try {
      go = evaluateCondition(step.when, ctx);
    } catch (err) {
      return { kind: 'fail', message: `when: ${errorMessage(err)}` };
    }
    if (!go) return { kind: 'skip', reason: 'when is false' };
  }
  if (!step.forEach) return { kind: 'run' };
  let items: unknown;
  try {
    items = render(step.forEach, ctx);
  } catch (err) {
    return { kind: 'fail', message: `for_each: ${errorMessage(err)}` };
  }
  if (!Array.isArray(items)) {
    return { kind: 'fail', message: `for_each must yield a list; it yielded ${describe(items)}` };
  }
  return { kind: 'run', items };
}
