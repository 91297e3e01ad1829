/** A run's inputs checked against the pipeline's `inputs`, defaults filled in; errors name the input. */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { didYouMean, list, sq } from './suggest.js';
import type { CompiledPipeline } from './types.js';

export type InputsResult = { ok: true; inputs: Record<string, unknown> } | { ok: false; errors: string[] };

export interface PrepareInputsOptions {
  /** Convert strings to the declared types ("10" → 10), for inputs typed on a command line. */
  coerce?: boolean;
}

const ajvs: { plain?: Ajv; coerce?: Ajv } = {};
const cache = new WeakMap<CompiledPipeline, { plain?: ValidateFunction; coerce?: ValidateFunction }>();

function validatorFor(pipeline: CompiledPipeline, coerce: boolean): ValidateFunction {
  let entry = cache.get(pipeline);
  if (!entry) {
    entry = {};
    cache.set(pipeline, entry);
  }
  const key = coerce ? 'coerce' : 'plain';
  let fn = entry[key];
  if (!fn) {
    ajvs[key] ??= new Ajv({
      allErrors: true,
      useDefaults: true,
      coerceTypes: coerce,
      strict: false,
      logger: false,
    });
    fn = ajvs[key].compile(pipeline.inputsSchema);
    entry[key] = fn;
  }
  return fn;
}

/** Validate `raw` (undefined and null mean no inputs) without touching it; the result has defaults applied. */
export function prepareInputs(
  pipeline: CompiledPipeline,
  raw: unknown,
  options: PrepareInputsOptions = {},
): InputsResult {
  const data = raw === undefined || raw === null ? {} : structuredClone(raw);
  const validate = validatorFor(pipeline, options.coerce === true);
  if (validate(data)) return { ok: true, inputs: data as Record<string, unknown> };
  const names = Object.keys(pipeline.inputsSchema.properties);
  const errors = [...new Set((validate.errors ?? []).map((e) => inputMessage(e, names)))];
  return { ok: false, errors };
}

function inputMessage(err: ErrorObject, names: string[]): string {
  const params = err.params as Record<string, unknown>;
  const path = err.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');
  if (path === '') {
    if (err.keyword === 'required') return `missing required input ${sq(String(params.missingProperty))}`;
    if (err.keyword === 'additionalProperties') {
      const name = String(params.additionalProperty);
      const known = names.length > 0 ? `; inputs: ${list(names)}` : '; the pipeline takes no inputs';
      return `unknown input ${sq(name)}${didYouMean(name, names, sq)}${known}`;
    }
    if (err.keyword === 'type') return 'inputs must be an object';
  }
  if (err.keyword === 'required') return `input ${sq(path)} is missing ${sq(String(params.missingProperty))}`;
  if (err.keyword === 'enum') {
    const allowed = (params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ');
    return `input ${sq(path)} must be one of ${allowed}`;
  }
  return `input ${sq(path)} ${err.message ?? `fails ${err.keyword}`}`;
}
