/**
 * The types the load-time data-flow check reasons with: the JSON value kinds, arrays of a type,
 * objects with known properties, unions, and `any` for "nothing is known". Made from JSON Schema
 * (a tool's input and output schemas, a pipeline's inputs), turned back into JSON Schema (a
 * pipeline's derived output schema), and compared: can a value of this type feed that parameter?
 */

export type JsonSchema = Record<string, unknown>;

export type FlowType =
  | { readonly kind: 'any' }
  | { readonly kind: 'string' | 'number' | 'integer' | 'boolean' | 'null' }
  | { readonly kind: 'array'; readonly items: FlowType }
  | {
      readonly kind: 'object';
      readonly properties: Readonly<Record<string, FlowType>>;
      /** Properties not listed: their type, or false when the schema allows none. */
      readonly additional: FlowType | false;
    }
  | { readonly kind: 'union'; readonly of: readonly FlowType[] };

export const ANY: FlowType = { kind: 'any' };
export const STRING: FlowType = { kind: 'string' };
export const NUMBER: FlowType = { kind: 'number' };
export const INTEGER: FlowType = { kind: 'integer' };
export const BOOLEAN: FlowType = { kind: 'boolean' };
export const NULL: FlowType = { kind: 'null' };

export const arrayOf = (items: FlowType): FlowType => ({ kind: 'array', items });

export function objectOf(properties: Record<string, FlowType>, additional: FlowType | false = ANY): FlowType {
  return { kind: 'object', properties, additional };
}

/** One type from several: `any` absorbs the rest, nested unions are flattened, duplicates of a kind merged. */
export function unionOf(types: readonly FlowType[]): FlowType {
  const flat: FlowType[] = [];
  for (const t of types) {
    if (t.kind === 'any') return ANY;
    for (const m of t.kind === 'union' ? t.of : [t]) {
      const same = flat.find((f) => f.kind === m.kind);
      if (!same) flat.push(m);
      else if (m.kind === 'array' && same.kind === 'array') {
        flat[flat.indexOf(same)] = arrayOf(unionOf([same.items, m.items]));
      } else if (m.kind === 'object' && same.kind === 'object' && m !== same) {
        // Two object shapes: keep what both say only loosely; a check then finds nothing certain.
        flat[flat.indexOf(same)] = objectOf({});
      }
    }
  }
  if (flat.length === 0) return ANY;
  return flat.length === 1 ? flat[0]! : { kind: 'union', of: flat };
}

const MAX_DEPTH = 32;
/**
 * Schema nodes read per `fromSchema` call. A backend's schema is not trusted: `$ref`s that branch back
 * to the root would otherwise unfold exponentially; past the budget the rest is `any`.
 */
const MAX_SCHEMA_NODES = 5_000;
const PRIMITIVES = new Set(['string', 'number', 'integer', 'boolean', 'null']);

interface Budget {
  left: number;
}

/**
 * A JSON Schema as a FlowType. Reads `type` (one or a list), `const`, `enum`, `anyOf`/`oneOf`,
 * `items`/`prefixItems`, `properties`, `additionalProperties`, `nullable` and local `$ref`s; what it
 * does not read (formats, patterns, bounds, `allOf`, `not`, `if`) only narrows values, so leaving
 * it out can miss a problem but never invents one. No `type` means any value.
 */
export function fromSchema(schema: unknown): FlowType {
  return readSchema(schema, schema, 0, { left: MAX_SCHEMA_NODES });
}

function readSchema(schema: unknown, root: unknown, depth: number, budget: Budget): FlowType {
  if (depth > MAX_DEPTH || --budget.left < 0) return ANY;
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return ANY;
  const s = schema as JsonSchema;
  if (typeof s.$ref === 'string') return readSchema(resolveRef(s.$ref, root), root, depth + 1, budget);
  if ('const' in s) return typeOfValue(s.const, depth);
  if (Array.isArray(s.enum) && s.enum.length > 0) return unionOf(s.enum.map((v) => typeOfValue(v, depth)));
  const alternatives = Array.isArray(s.anyOf) ? s.anyOf : Array.isArray(s.oneOf) ? s.oneOf : undefined;
  if (alternatives && s.type === undefined) {
    return unionOf(alternatives.map((a) => readSchema(a, root, depth + 1, budget)));
  }
  const kinds = typeof s.type === 'string' ? [s.type] : Array.isArray(s.type) ? s.type : [];
  if (kinds.length === 0) return ANY;
  const types: FlowType[] = [];
  for (const kind of kinds) {
    if (typeof kind !== 'string') return ANY;
    if (PRIMITIVES.has(kind)) types.push({ kind } as FlowType);
    else if (kind === 'array') types.push(arrayOf(itemsOf(s, root, depth, budget)));
    else if (kind === 'object') types.push(objectFrom(s, root, depth, budget));
    else return ANY;
  }
  if (s.nullable === true) types.push(NULL);
  return unionOf(types);
}

function itemsOf(s: JsonSchema, root: unknown, depth: number, budget: Budget): FlowType {
  if (Array.isArray(s.prefixItems)) {
    const rest =
      s.items === false || s.items === undefined ? [] : [readSchema(s.items, root, depth + 1, budget)];
    return unionOf([...s.prefixItems.map((i) => readSchema(i, root, depth + 1, budget)), ...rest]);
  }
  if (Array.isArray(s.items)) return unionOf(s.items.map((i) => readSchema(i, root, depth + 1, budget)));
  return readSchema(s.items, root, depth + 1, budget);
}

function objectFrom(s: JsonSchema, root: unknown, depth: number, budget: Budget): FlowType {
  const properties: Record<string, FlowType> = {};
  if (s.properties !== null && typeof s.properties === 'object') {
    for (const [name, sub] of Object.entries(s.properties as JsonSchema)) {
      Object.defineProperty(properties, name, {
        value: readSchema(sub, root, depth + 1, budget),
        enumerable: true,
      });
    }
  }
  const hasPatterns = s.patternProperties !== undefined && s.patternProperties !== null;
  const additional =
    s.additionalProperties === false && !hasPatterns
      ? false
      : s.additionalProperties === undefined || s.additionalProperties === true || hasPatterns
        ? ANY
        : readSchema(s.additionalProperties, root, depth + 1, budget);
  return objectOf(properties, additional);
}

/** `#/definitions/x`, `#/$defs/x`: a JSON pointer into the same schema; anything else is unknown. */
function resolveRef(ref: string, root: unknown): unknown {
  if (!ref.startsWith('#')) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(1).split('/').slice(1)) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** The type of a JSON value (written in the file, or a schema's `const` / `enum`); any past 32 levels. */
export function typeOfValue(value: unknown, depth = 0): FlowType {
  if (depth > MAX_DEPTH) return ANY;
  if (value === null) return NULL;
  if (typeof value === 'string') return STRING;
  if (typeof value === 'boolean') return BOOLEAN;
  if (typeof value === 'number') return Number.isInteger(value) ? INTEGER : NUMBER;
  if (Array.isArray(value)) {
    return arrayOf(value.length ? unionOf(value.map((v) => typeOfValue(v, depth + 1))) : ANY);
  }
  if (typeof value === 'object') {
    const properties: Record<string, FlowType> = {};
    for (const [k, v] of Object.entries(value)) {
      Object.defineProperty(properties, k, { value: typeOfValue(v, depth + 1), enumerable: true });
    }
    return objectOf(properties, false);
  }
  return ANY;
}

/** A FlowType as JSON Schema; `any` is `{}`. Object properties are never required: a value may be left out. */
export function toSchema(type: FlowType): JsonSchema {
  switch (type.kind) {
    case 'any':
      return {};
    case 'string':
    case 'number':
    case 'integer':
    case 'boolean':
    case 'null':
      return { type: type.kind };
    case 'array':
      return { type: 'array', items: toSchema(type.items) };
    case 'object': {
      const properties: Record<string, JsonSchema> = {};
      for (const [k, v] of Object.entries(type.properties)) {
        Object.defineProperty(properties, k, { value: toSchema(v), enumerable: true });
      }
      return {
        type: 'object',
        properties,
        ...(type.additional === false
          ? { additionalProperties: false }
          : type.additional.kind === 'any'
            ? {}
            : { additionalProperties: toSchema(type.additional) }),
      };
    }
    case 'union':
      return { anyOf: type.of.map(toSchema) };
  }
}

/** "a string", "an array of strings", "a string or null": for messages. */
export function describeType(type: FlowType, plural = false): string {
  switch (type.kind) {
    case 'any':
      return plural ? 'values' : 'any value';
    case 'null':
      return 'null';
    case 'array':
      return type.items.kind === 'any'
        ? plural
          ? 'arrays'
          : 'an array'
        : `${plural ? 'arrays' : 'an array'} of ${describeType(type.items, true)}`;
    case 'union':
      return type.of.map((t) => describeType(t, plural)).join(' or ');
    default: {
      const word = type.kind;
      if (plural) return word === 'boolean' ? 'booleans' : `${word}s`;
      return `${/^[aeiou]/.test(word) ? 'an' : 'a'} ${word}`;
    }
  }
}

/** Whether a value of type `value` can be given where `param` is asked: surely, surely not, or only some of them. */
export type Fit = 'yes' | 'no' | 'maybe';

export function fits(value: FlowType, param: FlowType): Fit {
  if (value.kind === 'any' || param.kind === 'any') return 'yes';
  if (value.kind === 'union') {
    const each = value.of.map((v) => fits(v, param));
    if (each.every((f) => f === 'yes')) return 'yes';
    return each.every((f) => f === 'no') ? 'no' : 'maybe';
  }
  if (param.kind === 'union') return best(param.of.map((p) => fits(value, p)));
  if (isNumeric(value.kind) && isNumeric(param.kind)) return 'yes';
  if (value.kind !== param.kind) return 'no';
  if (value.kind === 'array' && param.kind === 'array') return fits(value.items, param.items);
  if (value.kind === 'object' && param.kind === 'object') {
    // A property both describe but with types that cannot meet is likely a mistake; the value may
    // still leave it out, so it is not certain.
    for (const [name, v] of Object.entries(value.properties)) {
      const p = Object.hasOwn(param.properties, name) ? param.properties[name]! : param.additional;
      if (p === false || fits(v, p) !== 'yes') return 'maybe';
    }
    return 'yes';
  }
  return 'yes';
}

const isNumeric = (kind: string): boolean => kind === 'number' || kind === 'integer';

function best(all: Fit[]): Fit {
  return all.includes('yes') ? 'yes' : all.includes('maybe') ? 'maybe' : 'no';
}
