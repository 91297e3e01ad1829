import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { gatewaySchema } from '../../src/config/schema.js';

/** Every `properties` entry in the schema, with its path. */
function properties(node: unknown, path = '#', out: [string, Record<string, unknown>][] = []) {
  if (node === null || typeof node !== 'object') return out;
  const record = node as Record<string, unknown>;
  if (record.properties && typeof record.properties === 'object') {
    for (const [key, value] of Object.entries(record.properties)) {
      if (typeof value === 'object' && value !== null)
        out.push([`${path}/properties/${key}`, value as Record<string, unknown>]);
    }
  }
  for (const [key, value] of Object.entries(record)) properties(value, `${path}/${key}`, out);
  return out;
}

describe('schemas/gateway.schema.json', () => {
  const schema = gatewaySchema();

  it('is a valid draft-07 schema', () => {
    const ajv = new Ajv({ strict: false });
    expect(ajv.validateSchema(schema), JSON.stringify(ajv.errors)).toBe(true);
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
  });

  it('describes every setting, for editors', () => {
    const undescribed = properties(schema)
      .filter(([path]) => !path.includes('/allOf/') && !path.includes('/not/'))
      .filter(([, value]) => typeof value.description !== 'string' && typeof value.$ref !== 'string')
      .map(([path]) => path);
    expect(undescribed).toEqual([]);
  });
});
