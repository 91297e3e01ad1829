/**
 * Pipelines that call pipelines, checked across files: each `pipeline:` step must name a pipeline
 * that exists, give it only inputs it declares and every input it requires, and the calls must not
 * form a cycle. One file alone cannot know any of this, so it runs once the whole folder is read
 * (`loadCatalog`) and for a pipeline sent inline (against the catalog serving).
 */
import { didYouMean, list, sq } from './suggest.js';
import type { CompiledPipeline, CompiledStep, PipelineIssue } from './types.js';

/** Each step that may call, with the section it is in: the main steps, then the on_failure ones. */
function callingSteps(pipeline: CompiledPipeline): { step: CompiledStep; section: string }[] {
  return [
    ...[...pipeline.steps.values()].map((step) => ({ step, section: 'steps' })),
    ...[...(pipeline.onFailure?.steps.values() ?? [])].map((step) => ({ step, section: 'on_failure' })),
  ];
}

/** Most pipelines in one chain of calls, the outermost included; deeper calls fail at run time. */
export const MAX_PIPELINE_DEPTH = 8;

/**
 * A pipeline by name: `undefined` = there is none; `null` = there is one but it does not serve
 * (invalid), so its inputs cannot be checked (its own file reports its problems).
 */
export type PipelineLookup = (name: string) => CompiledPipeline | null | undefined;

/** The problems in `pipeline`'s calls to other pipelines (not cycles: see `callCycles`). */
export function checkPipelineCalls(
  pipeline: CompiledPipeline,
  lookup: PipelineLookup,
  names: readonly string[],
): PipelineIssue[] {
  const issues: PipelineIssue[] = [];
  let section = 'steps';
  const issue = (at: { line: number; column: number }, step: string, message: string) =>
    issues.push({
      ...(pipeline.file !== undefined ? { file: pipeline.file } : {}),
      line: at.line,
      column: at.column,
      step,
      message: `${section}.${step}: ${message}`,
    });
  for (const calling of callingSteps(pipeline)) {
    const { step } = calling;
    section = calling.section;
    const call = step.pipeline;
    if (!call) continue;
    const child = lookup(call.name);
    if (child === undefined) {
      const known = names.filter((n) => n !== pipeline.name);
      issue(
        call,
        step.id,
        `unknown pipeline ${sq(call.name)}${didYouMean(call.name, known, sq)}; pipelines: ${list(known)}`,
      );
      continue;
    }
    if (child === null || call.inputs === undefined) continue;
    const declared = Object.keys(child.inputsSchema.properties);
    for (const given of call.inputs) {
      if (Object.hasOwn(child.inputsSchema.properties, given.name)) continue;
      const known = declared.length ? `; its inputs: ${list(declared)}` : '; it declares no inputs';
      issue(
        given,
        step.id,
        `pipeline ${sq(call.name)} has no input ${sq(given.name)}${didYouMean(given.name, declared, sq)}${known}`,
      );
    }
    const given = new Set(call.inputs.map((i) => i.name));
    const missing = child.inputsSchema.required.filter((name) => !given.has(name));
    if (missing.length > 0) {
      issue(
        call.argsAt,
        step.id,
        `pipeline ${sq(call.name)} needs input${missing.length > 1 ? 's' : ''} ${list(missing.map((m) => sq(m)))} in args`,
      );
    }
  }
  return issues;
}

/**
 * Every cycle of calls among `pipelines`, as problems at each `pipeline:` key on it, in the file of
 * the pipeline making the call: "pipeline call cycle: a -> b -> a" (each file's starting at itself).
 */
export function callCycles(pipelines: readonly CompiledPipeline[]): PipelineIssue[] {
  const byName = new Map(pipelines.map((p) => [p.name, p]));
  const callees = (p: CompiledPipeline): string[] => [
    ...new Set(
      callingSteps(p).flatMap(({ step: s }) =>
        s.pipeline && byName.has(s.pipeline.name) ? [s.pipeline.name] : [],
      ),
    ),
  ];
  // Iterative DFS (white / grey / black): a grey callee closes a cycle along the current path.
  const state = new Map<string, 1 | 2>();
  const cycles: string[][] = [];
  for (const root of byName.keys()) {
    if (state.has(root)) continue;
    const path: string[] = [];
    const stack: { name: string; next: string[] }[] = [];
    const enter = (name: string) => {
      state.set(name, 1);
      path.push(name);
      stack.push({ name, next: callees(byName.get(name)!) });
    };
    enter(root);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const callee = top.next.shift();
      if (callee === undefined) {
        state.set(top.name, 2);
        path.pop();
        stack.pop();
      } else if (state.get(callee) === 1) {
        cycles.push([...path.slice(path.indexOf(callee)), callee]);
      } else if (!state.has(callee)) {
        enter(callee);
      }
    }
  }
  const issues: PipelineIssue[] = [];
  const seen = new Set<string>();
  for (const cycle of cycles) {
    const ring = cycle.slice(0, -1);
    for (let i = 0; i < ring.length; i++) {
      const rotated = [...ring.slice(i), ...ring.slice(0, i), ring[i]!];
      const caller = byName.get(ring[i]!)!;
      const callee = ring[(i + 1) % ring.length]!;
      for (const { step, section } of callingSteps(caller)) {
        if (step.pipeline?.name !== callee) continue;
        const key = `${caller.name}\n${step.id}\n${rotated.join(' ')}`;
        if (seen.has(key)) continue;
        seen.add(key);
        issues.push({
          ...(caller.file !== undefined ? { file: caller.file } : {}),
          line: step.pipeline.line,
          column: step.pipeline.column,
          step: step.id,
          message: `${section}.${step.id}: pipeline call cycle: ${rotated.join(' -> ')}`,
        });
      }
    }
  }
  return issues;
}

/** `pipeline` and every pipeline it calls, directly or not, each once (unknown names left out). */
export function callClosure(
  pipeline: CompiledPipeline,
  resolve: (name: string) => CompiledPipeline | undefined,
): CompiledPipeline[] {
  const out = new Map<string, CompiledPipeline>([[pipeline.name, pipeline]]);
  const queue = [pipeline];
  for (let head = 0; head < queue.length; head++) {
    for (const { step } of callingSteps(queue[head]!)) {
      if (!step.pipeline || out.has(step.pipeline.name)) continue;
      const child = resolve(step.pipeline.name);
      if (!child) continue;
      out.set(child.name, child);
      queue.push(child);
    }
  }
  return [...out.values()];
}
