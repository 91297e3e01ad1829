/**
 * Pipeline tests (`<name>.test.yaml`): which pipeline, which recording, which inputs, and what must
 * hold of the run result — each check a JSONPath and one of equals / contains / matches / length /
 * exists. Reading a test file and judging a result are here; running one is the CLI's.
 */
import { JSONPath } from 'jsonpath-plus';
import { type DataFileResult, readDataFile } from './data-file.js';
import { canonicalJson } from './recording.js';
import type { SchemaProblem } from './schema.js';

export const MATCHERS = ['equals', 'contains', 'matches', 'length', 'exists'] as const;
export type Matcher = (typeof MATCHERS)[number];

export interface Expectation {
  path: string;
  equals?: unknown;
  contains?: unknown;
  matches?: string;
  length?: number;
  exists?: boolean;
}

export interface PipelineTest {
  pipeline: string;
  description?: string;
  inputs?: Record<string, unknown>;
  recording: string;
  expect: Expectation[];
}

export interface ExpectationResult {
  path: string;
  matcher: Matcher;
  expected: unknown;
  /** What the path selected; absent when it selected nothing. */
  actual?: unknown;
  ok: boolean;
  /** Why it failed, for a person: `expected 3, got 2`. */
  message?: string;
}

/** A test file's text → PipelineTest, checked against schemas/pipeline-test.schema.json. */
export function parsePipelineTest(text: string, file: string): DataFileResult<PipelineTest> {
  return readDataFile<PipelineTest>(text, file, 'pipeline-test.schema.json', (data) => {
    const problems: SchemaProblem[] = [];
    data.expect.forEach((exp, i) => {
      const given = MATCHERS.filter((m) => Object.hasOwn(exp, m));
      if (given.length !== 1) {
        problems.push({
          path: ['expect', i],
          at: 'value',
          message: `expect[${i}]: give exactly one of ${MATCHERS.join(', ')}${given.length ? ` (got ${given.join(', ')})` : ''}`,
        });
      }
      const pathProblem = checkPath(exp.path);
      if (pathProblem)
        problems.push({
          path: ['expect', i, 'path'],
          at: 'value',
          message: `expect[${i}].path: ${pathProblem}`,
        });
      if (exp.matches !== undefined) {
        try {
          new RegExp(exp.matches, 'u');
        } catch (err) {
          problems.push({
            path: ['expect', i, 'matches'],
            at: 'value',
            message: `expect[${i}].matches: ${(err as Error).message}`,
          });
        }
      }
    });
    return problems;
  });
}

/** Filters and scripts are refused, as in pipeline expressions. */
function checkPath(path: string): string | undefined {
  if (/[?()`]/.test(path.replace(/'[^']*'|"[^"]*"/g, '')))
    return 'script and filter expressions are not allowed';
  try {
    JSONPath.toPathArray(path);
  } catch {
    return `cannot parse JSONPath "${path}"`;
  }
  return undefined;
}

/** What `path` selects in `root`: its value for a plain path, a list for a wildcard, .., slice or union. */
export function select(root: unknown, path: string): unknown {
  const found = JSONPath({ path, json: root as object, eval: false, wrap: true }) as unknown[];
  const definite = !/\*|\.\.|\[[^\]]*[,:][^\]]*\]/.test(path.replace(/'[^']*'|"[^"]*"/g, ''));
  return definite ? found[0] : found;
}

/** Whether the run result holds what `exp` says. */
export function checkExpectation(exp: Expectation, root: unknown): ExpectationResult {
  const matcher = MATCHERS.find((m) => Object.hasOwn(exp, m)) ?? 'exists';
  const expected = matcher === 'exists' && !Object.hasOwn(exp, 'exists') ? true : exp[matcher];
  const actual = select(root, exp.path);
  const base = { path: exp.path, matcher, expected, ...(actual !== undefined ? { actual } : {}) };
  const fail = (message: string): ExpectationResult => ({ ...base, ok: false, message });
  const got = actual === undefined ? 'nothing' : show(actual);
  switch (matcher) {
    case 'exists':
      return (actual !== undefined) === expected
        ? { ...base, ok: true }
        : fail(expected ? 'expected a value, got nothing' : `expected nothing, got ${got}`);
    case 'equals':
      return canonicalJson(actual) === canonicalJson(expected) && actual !== undefined
        ? { ...base, ok: true }
        : fail(`expected ${show(expected)}, got ${got}`);
    case 'contains':
      return contains(actual, expected)
        ? { ...base, ok: true }
        : fail(`expected to contain ${show(expected)}, got ${got}`);
    case 'matches':
      return typeof actual === 'string' && new RegExp(String(expected), 'u').test(actual)
        ? { ...base, ok: true }
        : fail(`expected a string matching /${String(expected)}/, got ${got}`);
    case 'length': {
      const length = typeof actual === 'string' || Array.isArray(actual) ? actual.length : undefined;
      if (length === expected) return { ...base, ok: true };
      return fail(
        length === undefined
          ? `expected a list or string of length ${expected}, got ${got}`
          : `expected length ${expected}, got ${length}: ${got}`,
      );
    }
  }
}

/** Text in text; an item of a list that contains it; for objects, every expected key contained. */
export function contains(actual: unknown, expected: unknown): boolean {
  if (typeof actual === 'string') return typeof expected === 'string' && actual.includes(expected);
  if (Array.isArray(actual)) return actual.some((item) => covers(item, expected));
  if (isObject(actual)) return isObject(expected) && covers(actual, expected);
  return false;
}

/** `actual` equals `expected`, except that objects need only have the expected keys. */
function covers(actual: unknown, expected: unknown): boolean {
  if (isObject(actual) && isObject(expected)) {
    return Object.entries(expected).every(([k, v]) => Object.hasOwn(actual, k) && covers(actual[k], v));
  }
  return canonicalJson(actual) === canonicalJson(expected);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function show(value: unknown, max = 200): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
