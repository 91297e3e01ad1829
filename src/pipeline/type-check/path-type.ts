/**
 * The type of a `${{ }}` value: a JSONPath walked through the schema of what it reads (a step's
 * output schema, the pipeline's inputs, a for_each item), or what a CEL expression plainly yields.
 */
import type { CelExpression } from '../cel.js';
import type { Expression } from '../jsonpath.js';
import type { AnyExpression, Template } from '../template.js';
import {
  ANY,
  arrayOf,
  BOOLEAN,
  type FlowType,
  INTEGER,
  NULL,
  NUMBER,
  objectOf,
  STRING,
  typeOfValue,
  unionOf,
} from './flow-type.js';

/** A value's type and how much to trust it. */
export interface Typed {
  readonly type: FlowType;
  /** Known only in part (through a union, or guessed from an operator): a mismatch is a warning. */
  readonly loose: boolean;
  /** Where the type came from, for messages: "sqlite.read_query's outputSchema". */
  readonly from?: string;
  /**
   * The path went where its schema says nothing ("'count' is not described by …"), or where the
   * schema says nothing can be ("… has no property 'count'"): the type is any, and this says why.
   */
  readonly undescribed?: { readonly message: string; readonly none: boolean };
}

const unknown: Typed = { type: ANY, loose: false };

/** What the type of each root is, for one place in the pipeline. */
export interface PathScope {
  inputs: FlowType;
  /** `$.steps.<id>.output` of each step, with where it came from; undefined = nothing known. */
  stepOutput(id: string): Typed | undefined;
  /**
   * Set when the step runs once per item (its output, text and content are arrays); `nullable`:
   * with on_error: continue a failed item's output is null.
   */
  forEach(id: string): { nullable: boolean } | undefined;
  /** `$.item` in a for_each step's args. */
  item?: Typed;
}

const FAILURE = objectOf({ step: STRING, error: STRING, status: STRING });

/** The fields of `$.steps.<id>` other than output. */
const RESULT_FIELDS: Readonly<Record<string, FlowType>> = {
  status: STRING,
  text: STRING,
  content: arrayOf(ANY),
  isError: BOOLEAN,
  error: STRING,
  attempts: INTEGER,
  durationMs: NUMBER,
};

export function typeOfExpression(expr: AnyExpression, scope: PathScope): Typed {
  return expr.kind === 'cel' ? typeOfCel(expr) : typeOfPath(expr, scope);
}

/** A whole-string expression has its value's type; a text is a string; a literal what it holds. */
export function typeOfTemplate(template: Template, scope: PathScope): Typed {
  switch (template.kind) {
    case 'literal':
      return { type: typeOfValue(template.value), loose: false };
    case 'text':
      return { type: STRING, loose: false };
    case 'expr':
      return typeOfExpression(template.expr, scope);
    case 'array': {
      const items = template.items.map((t) => typeOfTemplate(t, scope));
      // A whole-string expression that selects nothing is null in a list.
      const mayBeNull = template.items.some((t) => t.kind === 'expr');
      const types = items.map((i) => i.type);
      return {
        type: arrayOf(unionOf(mayBeNull ? [...types, { kind: 'null' }] : types)),
        loose: items.some((i) => i.loose),
      };
    }
    case 'object': {
      const properties: Record<string, FlowType> = {};
      let loose = false;
      for (const [key, t] of template.entries) {
        const typed = typeOfTemplate(t, scope);
        loose ||= typed.loose;
        Object.defineProperty(properties, key, { value: typed.type, enumerable: true });
      }
      return { type: objectOf(properties, false), loose };
    }
  }
}

const CEL_TYPES: Readonly<Record<string, FlowType>> = {
  string: STRING,
  bool: BOOLEAN,
  int: INTEGER,
  uint: INTEGER,
  double: NUMBER,
  null_type: { kind: 'null' },
  'google.protobuf.Timestamp': STRING,
  'google.protobuf.Duration': STRING,
};

/** What the CEL checker inferred (`list<string>`, `map<string, int>` …), or the root operator's plain hint. */
function typeOfCel(expr: CelExpression): Typed {
  const from = 'the expression';
  const parsed = celType(expr.type);
  if (parsed.kind !== 'any') return { type: parsed, loose: false, from };
  if (expr.shape === 'string') return { type: STRING, loose: false, from };
  // Arithmetic on values of unknown type is a number, or a duration or timestamp: likely, not sure.
  if (expr.shape === 'number') return { type: NUMBER, loose: true, from };
  return unknown;
}

export function celType(name: string): FlowType {
  const t = name.trim();
  if (Object.hasOwn(CEL_TYPES, t)) return CEL_TYPES[t]!;
  const list = /^list(?:<(.*)>)?$/.exec(t);
  if (list) return arrayOf(list[1] !== undefined ? celType(list[1]) : ANY);
  const map = /^map(?:<\s*string\s*,(.*)>)?$/.exec(t);
  if (map) return objectOf({}, map[1] !== undefined ? celType(map[1]) : ANY);
  if (t.startsWith('map')) return objectOf({});
  return ANY;
}

const SLICE_OR_UNION = /^-?\d*:-?\d*(?::\d*)?$|,/;

/** The type a JSONPath selects: walked from its root; a path that is not definite yields an array of matches. */
export function typeOfPath(expr: Expression, scope: PathScope): Typed {
  const segs = expr.segments.slice(2);
  let start: Typed;
  switch (expr.root) {
    case 'inputs':
      start = { type: scope.inputs, loose: false, from: "the pipeline's inputs" };
      break;
    case 'index':
      return { type: INTEGER, loose: false };
    case 'item':
      start = scope.item ?? unknown;
      break;
    case 'failure':
      start = { type: FAILURE, loose: false };
      break;
    case 'steps': {
      const id = segs.shift()!;
      const field = segs.shift();
      start = field === undefined ? unknown : stepField(id, field, scope);
      break;
    }
  }
  const walked = walk(start, segs);
  return expr.definite ? walked : { ...walked, type: arrayOf(walked.type) };
}

function stepField(id: string, field: string, scope: PathScope): Typed {
  const each = scope.forEach(id);
  if (field === 'output') {
    const output = scope.stepOutput(id);
    if (!output) return unknown;
    if (!each) return output;
    return { ...output, type: arrayOf(each.nullable ? unionOf([output.type, NULL]) : output.type) };
  }
  const type = Object.hasOwn(RESULT_FIELDS, field) ? RESULT_FIELDS[field]! : ANY;
  const perItem = each && (field === 'text' || field === 'content');
  return { type: perItem ? arrayOf(type) : type, loose: false, from: 'the step result' };
}

/**
 * Follows path segments through a type. A wildcard or slice moves into the items (the wrapping
 * array is added by the caller); `..`, `~` and unions of names give up (any) or name a key (string).
 */
function walk(start: Typed, segs: readonly string[]): Typed {
  let type = start.type;
  let loose = start.loose;
  let at = '';
  for (const seg of segs) {
    if (type.kind === 'any') break;
    if (seg === '..') return { ...start, type: ANY, loose };
    if (seg === '~') return { ...start, type: STRING, loose };
    const next = step(type, seg);
    if (next.none !== undefined) {
      const what = `${start.from ?? 'its schema'}`;
      const message = next.none
        ? `${what} has no ${sqName(seg)}${at ? ` in ${at}` : ''}${listProps(type)}`
        : `${what} does not describe ${sqName(seg)}${at ? ` in ${at}` : ''}`;
      return { ...start, type: ANY, loose, undescribed: { message, none: next.none } };
    }
    loose ||= next.loose;
    type = next.type;
    at = at ? `${at}.${seg}` : seg;
  }
  return { ...start, type, loose };
}

function sqName(seg: string): string {
  return `'${seg}'`;
}

function listProps(type: FlowType): string {
  if (type.kind !== 'object') return '';
  const names = Object.keys(type.properties);
  return names.length ? ` (it has ${names.map(sqName).join(', ')})` : '';
}

interface Step {
  type: FlowType;
  loose: boolean;
  /** Set when the schema does not describe the segment: true = it cannot be there, false = it says nothing. */
  none?: boolean;
}

function step(type: FlowType, seg: string): Step {
  switch (type.kind) {
    case 'array':
      if (seg === '*' || /^-?\d+$/.test(seg) || SLICE_OR_UNION.test(seg))
        return { type: type.items, loose: false };
      return { type: ANY, loose: false };
    case 'object': {
      if (seg === '*' || SLICE_OR_UNION.test(seg)) {
        const all = Object.values(type.properties);
        return { type: unionOf(type.additional === false ? all : [...all, type.additional]), loose: true };
      }
      if (Object.hasOwn(type.properties, seg)) return { type: type.properties[seg]!, loose: false };
      if (type.additional === false) return { type: ANY, loose: false, none: true };
      if (type.additional.kind !== 'any') return { type: type.additional, loose: false };
      // An open object: only a schema that lists properties has said what it holds.
      return Object.keys(type.properties).length > 0
        ? { type: ANY, loose: false, none: false }
        : { type: ANY, loose: false };
    }
    case 'union': {
      // A path into a union goes into each member it can; a value of another kind selects nothing.
      const into = type.of.filter((t) => t.kind === 'object' || t.kind === 'array' || t.kind === 'any');
      if (into.length === 0) return { type: ANY, loose: true };
      const steps = into.map((t) => step(t, seg));
      return { type: unionOf(steps.map((s) => s.type)), loose: true };
    }
    default:
      // A property of a string or number: selects nothing.
      return { type: ANY, loose: false };
  }
}
