// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax
/**
 * Pipeline text → a CompiledPipeline, or every problem in it with its line and column. Runs each
 * check even when an earlier one failed (on whatever parts have the right shape), so an author sees
 * all problems at once.
 */
import { parseDuration } from '../config/index.js';
import { formatAt } from '../errors.js';
import { compileInputs } from './compile-inputs.js';
import { conditionTypeProblem } from './expr.js';
import { analyzeGraph, type DependencyEdge } from './graph.js';
import { Collector, type Data, isObject, sorted, type Where } from './issue-collector.js';
import { type ParsedSource, type Position, parsePipelineText } from './parse.js';
import { checkPipelineSchema } from './schema.js';
import {
  checkDuration,
  checkInputRef,
  checkPipelineStep,
  checkTools,
  compiledStep,
  reportGraph,
  type Section,
  type StepDraft,
} from './step-checks.js';
import { didYouMean, sq } from './suggest.js';
import {
  type CompiledTemplate,
  compileTemplate,
  expressionRefs,
  type Segment,
  type Template,
  type TemplateSite,
} from './template.js';
import type { CompiledPipeline, CompiledStep, KnownTools, PipelineIssue } from './types.js';

export {
  DEFAULT_RETRY_BACKOFF_MS,
  DEFAULT_RETRY_FACTOR,
  DEFAULT_RETRY_MAX_BACKOFF_MS,
} from './step-checks.js';

export const DEFAULT_CONCURRENCY = 8;
/** The name `route_pipeline` uses for a pipeline sent inline; no file may take it. */
export const CUSTOM_SCENARIO = 'custom';

export interface ValidateOptions {
  /** Put in every issue, for `file:line:col` messages. */
  file?: string;
  /** The file name's stem, which `name` must equal (pipelines loaded from a folder). */
  expectedName?: string;
  /** When given, steps naming an unknown server or tool are errors. */
  knownTools?: KnownTools;
  /** The servers to list in "unknown server" messages when `knownTools` is a function. */
  knownServers?: readonly string[];
}

export type ValidationResult =
  | { ok: true; pipeline: CompiledPipeline; warnings: PipelineIssue[] }
  | { ok: false; issues: PipelineIssue[]; warnings: PipelineIssue[] };

/** `file:line:col: message`, the form editors and terminals make clickable. */
export function formatIssue(issue: PipelineIssue): string {
  return formatAt(issue, issue.message);
}

export function validatePipelineText(text: string, options: ValidateOptions = {}): ValidationResult {
  const parsed = parsePipelineText(text);
  if (!parsed.ok) {
    const out = new Collector(undefined, options.file);
    for (const p of parsed.problems) out.error(p.position, p.message);
    return { ok: false, issues: sorted(out.issues), warnings: [] };
  }
  const source = parsed.source;
  const out = new Collector(source, options.file);
  for (const w of parsed.warnings) out.warn(w.position, w.message);
  for (const p of checkPipelineSchema(source.data)) out.error({ path: p.path }, p.message, p.at);
  const data = source.data;
  if (!isObject(data)) {
    if (out.issues.length === 0) out.error({ line: 1, column: 1 }, 'a pipeline must be a mapping');
    return { ok: false, issues: sorted(out.issues), warnings: out.warnings };
  }
  const compiled = compile(data, out, options, siteLocator(source));
  if (out.issues.length > 0 || !compiled) {
    return { ok: false, issues: sorted(out.issues), warnings: sorted(out.warnings) };
  }
  return { ok: true, pipeline: compiled, warnings: sorted(out.warnings) };
}

/**
 * Positions of template sites, for problems found after load (the data-flow type check). Holds the
 * parsed source, so a compiled pipeline keeps it while it is served.
 */
function siteLocator(source: ParsedSource): (site: TemplateSite) => Position {
  return (site) =>
    site.raw !== undefined && site.offset !== undefined
      ? source.locateIn(site.path, site.offset, site.raw)
      : source.locate(site.path, 'value');
}

/** `on_failure` steps' whole section has this deadline, from when it starts. */
export const COMPENSATION_GRACE_MS = 30_000;

function compile(
  data: Data,
  out: Collector,
  options: ValidateOptions,
  locate: (site: TemplateSite) => Position,
): CompiledPipeline | undefined {
  const name = typeof data.name === 'string' ? data.name : undefined;
  if (name !== undefined && options.expectedName !== undefined) {
    if (name !== options.expectedName) {
      out.error(
        { path: ['name'] },
        `name ${sq(name)} must equal the file name's stem ${sq(options.expectedName)}`,
      );
    } else if (name === CUSTOM_SCENARIO) {
      out.error(
        { path: ['name'] },
        `the name 'custom' is reserved for pipelines sent inline to route_pipeline`,
      );
    }
  }

  const inputs = compileInputs(data.inputs, out);
  const stepsData = isObject(data.steps) ? data.steps : {};
  const ids = Object.keys(stepsData);
  const onFailureData = isObject(data.on_failure) ? data.on_failure : undefined;
  const onFailureIds = onFailureData ? Object.keys(onFailureData) : [];
  const edges: DependencyEdge<Where>[] = [];
  // on_failure steps form a graph of their own: reads of main steps are not edges (those are done).
  const onFailureEdges: DependencyEdge<Where>[] = [];
  const usedInputs = new Set<string>();
  let readsAllInputs = false;
  const drafts: StepDraft[] = [];

  const checkSites = (
    compiledTemplate: CompiledTemplate,
    context: { step?: string; section?: Section; itemAllowed: boolean; what: string },
  ): string[] => {
    for (const p of compiledTemplate.problems) out.error({ path: p.path, site: p }, p.message);
    const refs: string[] = [];
    for (const site of compiledTemplate.expressions) {
      for (const ref of expressionRefs(site)) {
        const where: Where = { path: ref.path, site: ref };
        if (ref.root === 'steps' && ref.step !== undefined) {
          if (context.section === 'on_failure') {
            if (onFailureData && Object.hasOwn(onFailureData, ref.step)) {
              onFailureEdges.push({ step: context.step!, dependsOn: ref.step, kind: 'ref', where });
            } else if (!Object.hasOwn(stepsData, ref.step)) {
              const known = [...ids, ...onFailureIds];
              out.error(
                where,
                `${context.what} references unknown step ${sq(ref.step)}${didYouMean(ref.step, known, sq)}`,
              );
            }
          } else if (context.step !== undefined) {
            edges.push({ step: context.step, dependsOn: ref.step, kind: 'ref', where });
          } else if (!Object.hasOwn(stepsData, ref.step)) {
            out.error(
              where,
              `${context.what} references unknown step ${sq(ref.step)}${didYouMean(ref.step, ids, sq)}`,
            );
          }
          if (!refs.includes(ref.step)) refs.push(ref.step);
        } else if (ref.root === 'inputs') {
          checkInputRef(ref, inputs.names, out);
          if (ref.input !== undefined) usedInputs.add(ref.input);
          else readsAllInputs = true;
        } else if ((ref.root === 'item' || ref.root === 'index') && !context.itemAllowed) {
          out.error(where, `${ref.written} is only set in the args of a for_each step`);
        } else if (ref.root === 'failure' && context.section !== 'on_failure') {
          out.error(where, `${ref.written} is only set in on_failure steps`);
        }
      }
    }
    return refs;
  };

  const sections: [Section, Data, DependencyEdge<Where>[]][] = [['steps', stepsData, edges]];
  if (onFailureData) sections.push(['on_failure', onFailureData, onFailureEdges]);
  for (const [section, sectionData, sectionEdges] of sections)
    for (const id of Object.keys(sectionData)) {
      const raw = sectionData[id];
      if (!isObject(raw)) continue;
      const base: Segment[] = [section, id];
      if (section === 'on_failure') {
        if (Object.hasOwn(stepsData, id)) {
          out.error(
            { path: base },
            `step id ${sq(id)} is already used in steps; ids must be unique across steps and on_failure`,
            'key',
          );
        }
      }
      const draft: StepDraft = { id, section, raw, refs: [] };
      drafts.push(draft);
      const refs = new Set<string>();
      const addRefs = (r: string[]) => {
        for (const s of r) refs.add(s);
      };

      if (Array.isArray(raw.needs)) {
        raw.needs.forEach((dep, i) => {
          if (typeof dep === 'string') {
            sectionEdges.push({
              step: id,
              dependsOn: dep,
              kind: 'needs',
              where: { path: [...base, 'needs', i] },
            });
          }
        });
      }
      const hasForEach = raw.for_each !== undefined;
      if (typeof raw.for_each === 'string' || Array.isArray(raw.for_each)) {
        const t = compileTemplate(raw.for_each, [...base, 'for_each'], true);
        addRefs(checkSites(t, { step: id, itemAllowed: false, what: `step ${sq(id)}`, section }));
        if (t.problems.length === 0 && !Array.isArray(raw.for_each) && t.template.kind !== 'expr') {
          out.error(
            { path: [...base, 'for_each'] },
            'for_each must be a list or one ${{ }} expression that yields one',
          );
        }
        draft.forEach = t.template;
      }
      if (typeof raw.when === 'string' || typeof raw.when === 'boolean') {
        const t = compileTemplate(raw.when, [...base, 'when'], true);
        addRefs(checkSites(t, { step: id, itemAllowed: false, what: `step ${sq(id)}`, section }));
        const typeProblem = conditionTypeProblem(t.template);
        if (typeProblem && t.expressions[0]) {
          out.error({ path: [...base, 'when'], site: t.expressions[0] }, typeProblem);
        }
        draft.when = t.template;
      }
      if (isObject(raw.args) || typeof raw.args === 'string') {
        const t = compileTemplate(raw.args, [...base, 'args'], true);
        addRefs(checkSites(t, { step: id, itemAllowed: hasForEach, what: `step ${sq(id)}`, section }));
        if (typeof raw.args === 'string' && t.problems.length === 0 && t.template.kind !== 'expr') {
          out.error(
            { path: [...base, 'args'] },
            'args must be a mapping or one ${{ }} expression that yields one',
          );
        }
        draft.args = t.template;
      }
      draft.refs = [...refs].filter((r) => r !== id && Object.hasOwn(sectionData, r));
      if (raw.concurrency !== undefined && !hasForEach) {
        out.warn({ path: [...base, 'concurrency'] }, 'concurrency only applies to a for_each step', 'key');
      }
      checkPipelineStep(raw, base, out);
      checkDuration(raw.timeout, [...base, 'timeout'], out, true);
      if (isObject(raw.retry)) {
        checkDuration(raw.retry.backoff, [...base, 'retry', 'backoff'], out, false);
        checkDuration(raw.retry.max_backoff, [...base, 'retry', 'max_backoff'], out, false);
      }
    }

  let output: Template | undefined;
  if (data.output !== undefined) {
    const t = compileTemplate(data.output, ['output'], true);
    checkSites(t, { itemAllowed: false, what: 'output' });
    output = t.template;
  }
  checkDuration(data.timeout, ['timeout'], out, true);

  const graph = analyzeGraph(ids, edges);
  const onFailureGraph = onFailureData ? analyzeGraph(onFailureIds, onFailureEdges) : undefined;
  for (const [g, known] of [
    [graph, ids],
    ...(onFailureGraph ? [[onFailureGraph, onFailureIds] as const] : []),
  ] as const)
    reportGraph(g, known, out);

  if (options.knownTools) checkTools(drafts, options.knownTools, options.knownServers, out);

  if (!readsAllInputs) {
    for (const inputName of inputs.names) {
      if (!usedInputs.has(inputName))
        out.warn({ path: ['inputs', inputName] }, `input ${sq(inputName)} is not used`, 'key');
    }
  }

  if (out.issues.length > 0 || name === undefined) return undefined;

  const buildSteps = (section: Section, g: typeof graph): Map<string, CompiledStep> => {
    const steps = new Map<string, CompiledStep>();
    for (const draft of drafts) {
      if (draft.section !== section) continue;
      steps.set(draft.id, compiledStep(draft, g, out));
    }
    return steps;
  };
  const inputsPart = { inputs: inputs.properties, inputsSchema: inputs.schema };
  const concurrency = typeof data.concurrency === 'number' ? data.concurrency : DEFAULT_CONCURRENCY;
  const onFailure: CompiledPipeline | undefined = onFailureGraph
    ? {
        name,
        ...(options.file !== undefined ? { file: options.file } : {}),
        ...inputsPart,
        steps: buildSteps('on_failure', onFailureGraph),
        order: onFailureGraph.order,
        layers: onFailureGraph.layers,
        concurrency,
        timeoutMs: COMPENSATION_GRACE_MS,
        locate,
      }
    : undefined;
  return {
    name,
    ...(typeof data.description === 'string' ? { description: data.description } : {}),
    ...(options.file !== undefined ? { file: options.file } : {}),
    ...inputsPart,
    steps: buildSteps('steps', graph),
    order: graph.order,
    layers: graph.layers,
    ...(output ? { output } : {}),
    concurrency,
    ...(data.timeout !== undefined ? { timeoutMs: parseDuration(data.timeout as string | number) } : {}),
    ...(onFailure ? { onFailure } : {}),
    locate,
  };
}
