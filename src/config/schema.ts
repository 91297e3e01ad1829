/**
 * The gateway's JSON Schema, compiled once, and AJV errors turned into human problems.
 *
 * Messages come from the schema where it has them (`errorMessage`, `patternErrorMessage`: the keys
 * VS Code and yaml-language-server also show), so editor and CLI say the same thing. Constraints the
 * schema only states for editors (exactly one of command/url, server names) are checked in
 * `normalize.ts` with clearer words, and AJV's version of them is dropped here.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type AnySchemaObject, type ErrorObject, type ValidateFunction } from 'ajv';
import { closest, type Problem, pointerToPath, quote, type Segment } from './problems.js';

const SCHEMA_URL = new URL('../../schemas/gateway.schema.json', import.meta.url);

interface Validators {
  gateway: ValidateFunction;
  claudeDesktop: ValidateFunction;
  server: ValidateFunction;
  /** Subschemas whose errors `normalize.ts` reports better (AJV's schemaPath is relative to a $ref). */
  checkedInCode: Set<unknown>;
  /** The `servers` definition, whose `propertyNames` errors are also checked in code. */
  serversSchema: unknown;
  serverSchema: unknown;
}

let compiled: Validators | undefined;

/** The schema as shipped in `schemas/gateway.schema.json`. */
export function gatewaySchema(): AnySchemaObject {
  return JSON.parse(readFileSync(SCHEMA_URL, 'utf8')) as AnySchemaObject;
}

function validators(): Validators {
  if (compiled) return compiled;
  const schema = gatewaySchema();
  const ajv = new Ajv({
    allErrors: true,
    strict: true,
    // `not: {required: [...]}` and `if: {required: [...]}` name properties defined beside them
    strictRequired: false,
    allowUnionTypes: true,
    // ${VAR} expansion yields strings: `port: ${PORT}` must still be a number, `env: {N: 1}` a string
    coerceTypes: true,
    verbose: true,
  });
  ajv.addKeyword({ keyword: 'errorMessage', schemaType: 'string' });
  ajv.addKeyword({ keyword: 'patternErrorMessage', schemaType: 'string' });
  const definitions = schema.definitions as Record<string, AnySchemaObject>;
  const checkedInCode = new Set<unknown>();
  for (const sub of [schema.not, definitions.server?.allOf, definitions.servers?.propertyNames]) {
    collectSchemas(sub, checkedInCode);
  }
  compiled = {
    checkedInCode,
    serversSchema: definitions.servers,
    serverSchema: definitions.server,
    gateway: ajv.compile(schema),
    claudeDesktop: ajv.compile({
      definitions,
      type: 'object',
      errorMessage: 'expected an object with "mcpServers" (the Claude Desktop shape)',
      required: ['mcpServers'],
      properties: { mcpServers: { $ref: '#/definitions/servers' } },
    }),
    server: ajv.compile({ definitions, $ref: '#/definitions/server' }),
  };
  return compiled;
}

function collectSchemas(node: unknown, into: Set<unknown>): void {
  if (node === null || typeof node !== 'object') return;
  into.add(node);
  for (const child of Object.values(node)) collectSchemas(child, into);
}

export type SchemaName = 'gateway' | 'claudeDesktop' | 'server';

/**
 * Validate `data` (coercing scalar types in place) and describe each problem. With
 * `unknownServerKeys: 'warning'`, unknown keys in a server entry are warnings (Claude Desktop files
 * carry other clients' keys); elsewhere they are errors.
 */
export function schemaProblems(
  name: SchemaName,
  data: unknown,
  options: { base?: Segment[]; unknownServerKeys?: 'error' | 'warning' } = {},
): Problem[] {
  const all = validators();
  const validate = all[name];
  if (validate(data)) return [];
  const problems: Problem[] = [];
  for (const error of validate.errors ?? []) {
    // `false` only appears in the editor-only transport checks under server.allOf
    if (all.checkedInCode.has(error.parentSchema) || error.keyword === 'false schema') continue;
    if (error.keyword === 'not' && error.schemaPath === '#/not') continue;
    if (error.keyword === 'propertyNames' && error.parentSchema === all.serversSchema) continue;
    const path = [...(options.base ?? []), ...pointerToPath(error.instancePath, data)];
    const problem = describe(error, path);
    if (
      options.unknownServerKeys === 'warning' &&
      error.keyword === 'additionalProperties' &&
      error.parentSchema === all.serverSchema
    ) {
      problem.text += '; ignored';
      problem.severity = 'warning';
    }
    problems.push(problem);
  }
  return problems;
}

/** Keywords about a value itself, where a schema's `errorMessage` describes the failure. */
const VALUE_KEYWORDS = new Set([
  'type',
  'pattern',
  'enum',
  'const',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
]);

function describe(error: ErrorObject, path: Segment[]): Problem {
  const parent = (error.parentSchema ?? {}) as AnySchemaObject;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const known = Object.keys((parent.properties as Record<string, unknown> | undefined) ?? {});
      const guess = closest(key, known);
      const hint = guess ? ` (did you mean ${quote(guess)}?)` : '';
      return { path: [...path, key], at: 'key', label: path, text: `unknown key ${quote(key)}${hint}` };
    }
    case 'required':
      return { path, text: `missing required key ${quote(String(params.missingProperty))}` };
    case 'propertyNames':
      return {
        path: [...path, String(params.propertyName)],
        at: 'key',
        label: path,
        text: `invalid key ${quote(String(params.propertyName))}`,
      };
  }
  if (VALUE_KEYWORDS.has(error.keyword)) {
    const custom =
      error.keyword === 'pattern' ? (parent.patternErrorMessage ?? parent.errorMessage) : parent.errorMessage;
    if (typeof custom === 'string') return { path, text: custom };
  }
  switch (error.keyword) {
    case 'type':
      return { path, text: `expected ${typeNames(String(params.type))}` };
    case 'enum':
      return {
        path,
        text: `expected one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
      };
    case 'minLength':
      return {
        path,
        text: params.limit === 1 ? 'must not be empty' : `must be at least ${params.limit} characters`,
      };
    case 'minimum':
      return { path, text: `must be at least ${params.limit}` };
    case 'maximum':
      return { path, text: `must be at most ${params.limit}` };
    case 'pattern':
      return { path, text: 'has an invalid form' };
    default:
      // AJV's own words; they describe the constraint, never the value
      return { path, text: error.message ?? `fails "${error.keyword}"` };
  }
}

const TYPE_NAMES: Record<string, string> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
  null: 'nothing',
};

function typeNames(types: string): string {
  return types
    .split(',')
    .map((t) => TYPE_NAMES[t] ?? t)
    .join(' or ');
}
