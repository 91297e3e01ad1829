/**
 * Data files that sit beside the pipelines — recordings and pipeline tests — read the way pipeline
 * files are: YAML or JSON, checked against their JSON Schema, each problem at file:line:col.
 */
import { parseJsonSource } from './json-source.js';
import { MAX_PIPELINE_BYTES, type ParsedSource, parsePipelineText } from './parse.js';
import { type SchemaProblem, schemaProblems, schemaValidator } from './schema.js';
import type { PipelineIssue } from './types.js';

export type DataFileResult<T> = { ok: true; data: T } | { ok: false; issues: PipelineIssue[] };

/** Parse `text` and check it against schemas/<schema>; every problem at file:line:col. */
export function readDataFile<T>(
  text: string,
  file: string,
  schema: string,
  /** Checks the schema cannot say, run once it passes. */
  more?: (data: T) => SchemaProblem[],
): DataFileResult<T> {
  const parsed = parse(text);
  if ('problems' in parsed) {
    return { ok: false, issues: parsed.problems.map((p) => ({ file, ...p.position, message: p.message })) };
  }
  const { source } = parsed;
  let problems = schemaProblems(schemaValidator(schema), source.data);
  if (problems.length === 0 && more) problems = more(source.data as T);
  if (problems.length > 0) {
    return {
      ok: false,
      issues: problems.map((p) => ({ file, ...source.locate(p.path, p.at), message: p.message })),
    };
  }
  return { ok: true, data: source.data as T };
}

type Parsed =
  | { source: ParsedSource }
  | { problems: { position: { line: number; column: number }; message: string }[] };

function parse(text: string): Parsed {
  if (Buffer.byteLength(text, 'utf8') <= MAX_PIPELINE_BYTES) {
    const result = parsePipelineText(text);
    return result.ok ? { source: result.source } : { problems: result.problems };
  }
  // A recording of a big run can pass the pipeline size limit; it is JSON, which has no alias bombs.
  const json = parseJsonSource(text);
  if (json) return { source: json };
  try {
    const data: unknown = JSON.parse(text);
    const start = { line: 1, column: 1 };
    return { source: { text, data, position: () => start, locate: () => start, locateIn: () => start } };
  } catch (err) {
    return {
      problems: [{ position: { line: 1, column: 1 }, message: `not valid JSON: ${(err as Error).message}` }],
    };
  }
}
