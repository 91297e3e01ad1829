// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax
/**
 * The data-flow check: every `${{ }}` value a step passes to a tool (or to a pipeline) is typed from
 * what it reads and compared with the parameter it feeds. Pure: it needs a compiled pipeline and the
 * tools' JSON Schemas, nothing live, so `validate`, a reload and a backend connecting all use it.
 */
import type { Template, TemplateSite } from '../template.js';
import type { CompiledPipeline, CompiledStep, PipelineIssue } from '../types.js';
import {
  ANY,
  arrayOf,
  describeType,
  type FlowType,
  fits,
  fromSchema,
  type JsonSchema,
  NULL,
  objectOf,
  STRING,
  toSchema,
  unionOf,
} from './flow-type.js';
import { type PathScope, type Typed, typeOfExpression, typeOfTemplate } from './path-type.js';

/** A tool's schemas as its backend lists them. */
export interface ToolShape {
  readonly inputSchema?: unknown;
  readonly outputSchema?: unknown;
}

export interface TypeCheckEnv {
  /** A tool's schemas; undefined when they are not known (the backend is not connected, or has no such tool). */
  tool(server: string, tool: string): ToolShape | undefined;
  /** The pipeline a `pipeline:` step calls: its inputs are the parameters, its derived output the step's output. */
  pipeline?(name: string): CompiledPipeline | undefined;
}

/**
 * - `TYPE_MISMATCH`: a value's type cannot fit the parameter it feeds (an error when the type is
 *   certain; a warning when it is known only in part, or only some of its values do not fit);
 * - `TYPE_UNCHECKED`: a warning: the value reads a part of an output schema that the schema does
 *   not describe, so whether it fits a typed parameter cannot be told;
 * - `TYPE_NO_SUCH_FIELD`: a warning: the schema says the part read cannot be there, so the value is
 *   always missing.
 */
export type TypeProblemCode = 'TYPE_MISMATCH' | 'TYPE_UNCHECKED' | 'TYPE_NO_SUCH_FIELD';

export interface TypeProblem extends PipelineIssue {
  readonly severity: 'error' | 'warning';
  readonly code: TypeProblemCode;
}

const START = { line: 1, column: 1 };

/** Every type problem in `pipeline`, in file order. */
export function checkDataFlow(pipeline: CompiledPipeline, env: TypeCheckEnv): TypeProblem[] {
  const problems: TypeProblem[] = [];
  const types = new PipelineTypes(env);
  const sections = [pipeline, ...(pipeline.onFailure ? [pipeline.onFailure] : [])];
  for (const section of sections) {
    for (const step of section.steps.values()) checkStep(step, pipeline, types, problems);
  }
  if (pipeline.output) {
    const scope = types.scope(pipeline);
    visit(pipeline.output, undefined, '', scope, (site, typed, label) => {
      if (typed.undescribed?.none) {
        const at = locate(pipeline, site, START);
        problems.push(
          problem(pipeline, at, 'warning', 'TYPE_NO_SUCH_FIELD', noSuch(label, typed), undefined),
        );
      }
    });
  }
  return problems.sort((a, b) => a.line - b.line || a.column - b.column);
}

/** The type of a pipeline's output, as far as the tools' schemas tell. */
export function deriveOutputType(pipeline: CompiledPipeline, env: TypeCheckEnv): FlowType {
  return new PipelineTypes(env).output(pipeline);
}

/** A pipeline's output as JSON Schema (`{}` where nothing is known). */
export function deriveOutputSchema(pipeline: CompiledPipeline, env: TypeCheckEnv): JsonSchema {
  return toSchema(deriveOutputType(pipeline, env));
}

/** Types of steps' outputs and pipelines' outputs, each worked out once. */
class PipelineTypes {
  private readonly outputs = new Map<CompiledPipeline, FlowType>();
  private readonly visiting = new Set<CompiledPipeline>();
  private readonly stepOutputs = new Map<CompiledStep, Typed | undefined>();
  /** Schema object → its type: a tool's schemas are read once however many steps call it. */
  private readonly schemas = new WeakMap<object, FlowType>();

  constructor(readonly env: TypeCheckEnv) {}

  typeOf(schema: unknown): FlowType {
    if (schema === null || typeof schema !== 'object') return fromSchema(schema);
    let type = this.schemas.get(schema);
    if (!type) {
      type = fromSchema(schema);
      this.schemas.set(schema, type);
    }
    return type;
  }

  scope(pipeline: CompiledPipeline, item?: Typed): PathScope {
    const find = (id: string): CompiledStep | undefined =>
      pipeline.steps.get(id) ?? pipeline.onFailure?.steps.get(id);
    return {
      inputs: this.typeOf(pipeline.inputsSchema),
      stepOutput: (id) => {
        const step = find(id);
        return step ? this.stepOutput(step) : undefined;
      },
      forEach: (id) => {
        const step = find(id);
        if (!step?.forEach) return undefined;
        return { nullable: step.onError === 'continue' };
      },
      ...(item ? { item } : {}),
    };
  }

  stepOutput(step: CompiledStep): Typed | undefined {
    if (this.stepOutputs.has(step)) return this.stepOutputs.get(step);
    const typed = this.stepOutputOnce(step);
    this.stepOutputs.set(step, typed);
    return typed;
  }

  private stepOutputOnce(step: CompiledStep): Typed | undefined {
    if (step.pipeline) {
      const child = this.env.pipeline?.(step.pipeline.name);
      if (!child) return undefined;
      return { type: this.output(child), loose: false, from: `pipeline '${child.name}''s output` };
    }
    if (step.parse === 'text') return { type: STRING, loose: false, from: 'parse: text' };
    if (step.parse === 'json') return undefined;
    const schema = this.env.tool(step.server, step.tool)?.outputSchema;
    if (schema === undefined || schema === null) return undefined;
    return { type: this.typeOf(schema), loose: false, from: `${step.server}.${step.tool}'s outputSchema` };
  }

  output(pipeline: CompiledPipeline): FlowType {
    const known = this.outputs.get(pipeline);
    if (known) return known;
    // Calls cannot form a cycle (refused at load); this guard only keeps a bad input from looping.
    if (this.visiting.has(pipeline)) return ANY;
    this.visiting.add(pipeline);
    let type: FlowType;
    const scope = this.scope(pipeline);
    if (pipeline.output) type = typeOfTemplate(pipeline.output, scope).type;
    else {
      const properties: Record<string, FlowType> = {};
      for (const step of pipeline.steps.values()) {
        const out = scope.stepOutput(step.id)?.type ?? ANY;
        const each = scope.forEach(step.id);
        const value = each ? arrayOf(each.nullable ? unionOf([out, NULL]) : out) : out;
        Object.defineProperty(properties, step.id, { value, enumerable: true });
      }
      type = objectOf(properties, false);
    }
    this.visiting.delete(pipeline);
    this.outputs.set(pipeline, type);
    return type;
  }
}

function checkStep(
  step: CompiledStep,
  pipeline: CompiledPipeline,
  types: PipelineTypes,
  problems: TypeProblem[],
): void {
  const outer = types.scope(pipeline);
  let item: Typed | undefined;
  if (step.forEach) {
    const list = typeOfTemplate(step.forEach, outer);
    item = itemOf(list);
    if (step.forEach.kind === 'expr') {
      const at = locate(pipeline, step.forEach.site, step);
      const fit = fits(list.type, arrayOf(ANY));
      if (fit === 'no') {
        const text = `for_each must yield a list; ${valueText(step.forEach)} is ${describeType(list.type)}${per(list)}`;
        problems.push(
          problem(pipeline, at, list.loose ? 'warning' : 'error', 'TYPE_MISMATCH', text, step.id),
        );
      } else if (list.undescribed?.none) {
        problems.push(
          problem(pipeline, at, 'warning', 'TYPE_NO_SUCH_FIELD', noSuch('for_each', list), step.id),
        );
      }
    }
  }
  if (!step.args) return;
  let params: FlowType | undefined;
  let consumer: string;
  if (step.pipeline) {
    const child = types.env.pipeline?.(step.pipeline.name);
    params = child ? types.typeOf(child.inputsSchema) : undefined;
    consumer = `pipeline '${step.pipeline.name}'`;
  } else {
    const schema = types.env.tool(step.server, step.tool)?.inputSchema;
    params = schema === undefined || schema === null ? undefined : types.typeOf(schema);
    consumer = `${step.server}.${step.tool}`;
  }
  const scope = types.scope(pipeline, item);
  visit(step.args, params, '', scope, (site, typed, label, param, template) => {
    const report = (severity: TypeProblem['severity'], code: TypeProblemCode, message: string) =>
      problems.push(problem(pipeline, locate(pipeline, site, step), severity, code, message, step.id));
    if (typed.undescribed) {
      if (typed.undescribed.none) report('warning', 'TYPE_NO_SUCH_FIELD', noSuch(label, typed));
      else if (param && param.kind !== 'any')
        report(
          'warning',
          'TYPE_UNCHECKED',
          `cannot check ${quoteLabel(label)} (${consumer} takes ${describeType(param)}): ${typed.undescribed.message}`,
        );
      return;
    }
    if (!param) return;
    const fit = fits(typed.type, param);
    if (fit === 'yes') return;
    const takes = `${consumer}'s ${quoteLabel(label)} takes ${describeType(param)}`;
    const is = `${valueText(template)} is ${describeType(typed.type)}${per(typed)}`;
    if (fit === 'no') report(typed.loose ? 'warning' : 'error', 'TYPE_MISMATCH', `${takes}; ${is}`);
    else report('warning', 'TYPE_MISMATCH', `${takes}; ${is}, which may not fit`);
  });
}

/** The type of one item of a for_each list. */
function itemOf(list: Typed): Typed | undefined {
  const t = list.type;
  if (t.kind === 'array') return { ...list, type: t.items };
  if (t.kind === 'union') {
    const items = t.of.filter((m) => m.kind === 'array').map((m) => (m.kind === 'array' ? m.items : ANY));
    return items.length ? { ...list, type: unionOf(items), loose: true } : undefined;
  }
  return undefined;
}

type Position = { line: number; column: number };

/** A site's line and column, when the pipeline came from a file; else `fallback`. */
function locate(pipeline: CompiledPipeline, site: TemplateSite | undefined, fallback: Position): Position {
  if (!site || !pipeline.locate) return { line: fallback.line, column: fallback.column };
  return pipeline.locate(site);
}

type Visitor = (
  site: TemplateSite | undefined,
  typed: Typed,
  label: string,
  param: FlowType | undefined,
  template: Template,
) => void;

/**
 * Walks a template beside the parameter schema it fills: an object's entries against the
 * properties, a list's items against the items. Each expression or text is handed to `visitor`
 * with the parameter it feeds (undefined when no schema says).
 */
function visit(
  template: Template,
  param: FlowType | undefined,
  label: string,
  scope: PathScope,
  visitor: Visitor,
): void {
  switch (template.kind) {
    case 'literal':
      return;
    case 'expr':
      visitor(template.site, typeOfExpression(template.expr, scope), label, param, template);
      return;
    case 'text':
      visitor(template.site, { type: STRING, loose: false }, label, param, template);
      return;
    case 'object':
      for (const [key, t] of template.entries) {
        visit(t, propertyOf(param, key), label ? `${label}.${key}` : key, scope, visitor);
      }
      return;
    case 'array':
      template.items.forEach((t, i) => {
        visit(t, itemsOf(param), `${label}[${i}]`, scope, visitor);
      });
  }
}

function propertyOf(param: FlowType | undefined, key: string): FlowType | undefined {
  if (!param) return undefined;
  if (param.kind === 'object') {
    if (Object.hasOwn(param.properties, key)) return param.properties[key];
    return param.additional === false ? undefined : param.additional;
  }
  if (param.kind === 'union') {
    const options = param.of.map((p) => propertyOf(p, key)).filter((p): p is FlowType => p !== undefined);
    return options.length ? unionOf(options) : undefined;
  }
  return param.kind === 'any' ? ANY : undefined;
}

function itemsOf(param: FlowType | undefined): FlowType | undefined {
  if (!param) return undefined;
  if (param.kind === 'array') return param.items;
  if (param.kind === 'union') {
    const options = param.of.map(itemsOf).filter((p): p is FlowType => p !== undefined);
    return options.length ? unionOf(options) : undefined;
  }
  return param.kind === 'any' ? ANY : undefined;
}

function valueText(template: Template): string {
  if (template.kind === 'expr') return `\${{ ${template.expr.source} }}`;
  return template.kind === 'text' ? 'the text' : 'the value';
}

function per(typed: Typed): string {
  return typed.from ? ` (per ${typed.from})` : '';
}

function quoteLabel(label: string): string {
  return label ? `'${label}'` : 'arguments';
}

function noSuch(label: string, typed: Typed): string {
  return `${label ? `${quoteLabel(label)}: ` : ''}the value is always missing: ${typed.undescribed!.message}`;
}

function problem(
  pipeline: CompiledPipeline,
  at: Position,
  severity: TypeProblem['severity'],
  code: TypeProblemCode,
  message: string,
  step: string | undefined,
): TypeProblem {
  return {
    ...(pipeline.file !== undefined ? { file: pipeline.file } : {}),
    line: at.line,
    column: at.column,
    message,
    ...(step !== undefined ? { step } : {}),
    severity,
    code,
  };
}
