/**
 * The JSON Schemas in schemas/, each compiled once, and AJV errors turned into messages for the author,
 * each with the key path it is about and whether to point at that key or its value.
 * `patternErrorMessage` is the keyword yaml-language-server shows too, so editor and CLI agree.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type AnySchemaObject, type ErrorObject, type ValidateFunction } from 'ajv';
import { pointerToPath } from '../config/index.js';
import { didYouMean, dq, list } from './suggest.js';
import type { Segment } from './template.js';

const SCHEMA_URL = new URL('../../schemas/pipeline.schema.json', import.meta.url);

export interface SchemaProblem {
  path: Segment[];
  at: 'key' | 'value';
  message: string;
}

/** The schema as shipped in schemas/pipeline.schema.json. */
export function pipelineSchema(): AnySchemaObject {
  return JSON.parse(readFileSync(SCHEMA_URL, 'utf8')) as AnySchemaObject;
}

const validators = new Map<string, ValidateFunction>();

/** schemas/<name>, compiled once. */
export function schemaValidator(name: string): ValidateFunction {
  let validate = validators.get(name);
  if (!validate) {
    const schema = JSON.parse(
      readFileSync(new URL(`../../schemas/${name}`, import.meta.url), 'utf8'),
    ) as AnySchemaObject;
    const ajv = new Ajv({
      allErrors: true,
      strict: true,
      allowUnionTypes: true,
      verbose: true,
      logger: false,
    });
    ajv.addKeyword({ keyword: 'patternErrorMessage', schemaType: 'string' });
    validate = ajv.compile(schema);
    validators.set(name, validate);
  }
  return validate;
}

/** Every schema problem in `data`, in document order of AJV's walk, without duplicates. */
export function checkPipelineSchema(data: unknown): SchemaProblem[] {
  return schemaProblems(schemaValidator('pipeline.schema.json'), data);
}

/** Every problem `validate` (any schema compiled like the pipeline one) finds in `data`. */
export function schemaProblems(validate: ValidateFunction, data: unknown): SchemaProblem[] {
  if (validate(data)) return [];
  const problems: SchemaProblem[] = [];
  const seen = new Set<string>();
  for (const err of validate.errors ?? []) {
    const problem = toProblem(err, data);
    if (!problem) continue;
    const key = `${problem.path.join('\u0000')}\u0001${problem.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(problem);
  }
  return problems;
}

/** `['steps', 'fetch', 'needs', 0]` → `steps.fetch.needs[0]`; odd keys are quoted. */
export function formatPath(path: readonly Segment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

function labelled(path: readonly Segment[], text: string): string {
  const label = formatPath(path);
  return label === '' ? text : `${label}: ${text}`;
}

function toProblem(err: ErrorObject, data: unknown): SchemaProblem | undefined {
  const path = pointerToPath(err.instancePath, data);
  const parent = (err.parentSchema ?? {}) as AnySchemaObject;
  const custom = typeof parent.patternErrorMessage === 'string' ? parent.patternErrorMessage : undefined;
  const params = err.params as Record<string, unknown>;
  if (err.propertyName !== undefined) {
    // An invalid key under `propertyNames` (a step id, an input name).
    const key = err.propertyName;
    const what = path[0] === 'steps' ? 'step id' : path[0] === 'inputs' ? 'input name' : 'key';
    return {
      path: [...path, key],
      at: 'key',
      message: labelled(path, `invalid ${what} ${dq(key)}: ${custom ?? err.message ?? 'invalid'}`),
    };
  }
  switch (err.keyword) {
    case 'propertyNames':
      return undefined; // reported through the inner error above
    case 'if':
      return undefined; // a step without `pipeline` needs `server` and `tool`: the `required` error says which
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const allowed = Object.keys((parent.properties ?? {}) as object);
      const hint = didYouMean(key, allowed);
      const rest = hint === '' && allowed.length > 0 ? `; allowed keys: ${list(allowed)}` : '';
      return {
        path: [...path, key],
        at: 'key',
        message: labelled(path, `unknown key ${dq(key)}${hint}${rest}`),
      };
    }
    case 'required':
      return {
        path,
        at: 'key',
        message: labelled(path, `missing required key ${dq(String(params.missingProperty))}`),
      };
    case 'type': {
      const types = String(params.type).split(',');
      return { path, at: 'value', message: labelled(path, `must be ${types.map(withArticle).join(' or ')}`) };
    }
    case 'enum':
      return {
        path,
        at: 'value',
        message: labelled(
          path,
          `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
        ),
      };
    case 'pattern':
      return { path, at: 'value', message: labelled(path, custom ?? `must match ${String(params.pattern)}`) };
    case 'uniqueItems':
      return {
        path: [...path, Number(params.i)],
        at: 'value',
        message: labelled(path, `lists the same item twice (items ${params.j} and ${params.i})`),
      };
    case 'minProperties':
      return { path, at: 'value', message: labelled(path, 'must not be empty') };
    default:
      return { path, at: 'value', message: labelled(path, err.message ?? `fails ${err.keyword}`) };
  }
}

function withArticle(type: string): string {
  const name = type === 'object' ? 'mapping' : type === 'array' ? 'list' : type;
  return /^[aeiou]/.test(name) ? `an ${name}` : `a ${name}`;
}
