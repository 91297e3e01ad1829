/** A pipeline's `inputs:` → the JSON Schema its runs are checked against; defaults checked by it. */
import { Ajv } from 'ajv';
import { type Collector, isObject } from './issue-collector.js';
import type { InputSchema, InputsSchema } from './types.js';

let schemaChecker: Ajv | undefined;

export function compileInputs(
  raw: unknown,
  out: Collector,
): { names: string[]; properties: Record<string, InputSchema>; schema: InputsSchema } {
  const properties: Record<string, InputSchema> = {};
  const required: string[] = [];
  const defaults: Record<string, unknown> = {};
  const entries = isObject(raw) ? Object.entries(raw) : [];
  for (const [name, spec] of entries) {
    if (!isObject(spec)) continue;
    const { required: req, ...property } = spec;
    Object.defineProperty(properties, name, {
      value: property,
      enumerable: true,
      writable: true,
      configurable: true,
    });
    if (req === true || (req === undefined && !('default' in spec))) required.push(name);
    if ('default' in spec) defaults[name] = spec.default;
  }
  const schema: InputsSchema = { type: 'object', properties, required, additionalProperties: false };
  if (entries.length > 0 && out.issues.length === 0) {
    schemaChecker ??= new Ajv({ allErrors: true, strict: false, logger: false });
    try {
      const check = schemaChecker.compile({ ...schema, required: [] });
      if (!check(defaults)) {
        for (const err of check.errors ?? []) {
          const inputName = err.instancePath.split('/')[1];
          if (inputName === undefined) continue;
          const allowed =
            err.keyword === 'enum' ? (err.params as { allowedValues: unknown[] }).allowedValues : [];
          const text =
            err.keyword === 'enum'
              ? `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`
              : (err.message ?? 'does not match the input');
          out.error({ path: ['inputs', inputName, 'default'] }, `inputs.${inputName}.default: ${text}`);
        }
      }
    } catch (err) {
      out.error({ path: ['inputs'] }, `inputs: not a valid JSON Schema: ${(err as Error).message}`, 'key');
    }
  }
  return { names: entries.filter(([, s]) => isObject(s)).map(([n]) => n), properties, schema };
}
