/**
 * The pipelines in a folder: one entry per *.yaml / *.yml / *.json file (not recursive; pipeline
 * tests and recordings left out), valid or not. Pure data: loading again gives a new Catalog, and
 * `mergeCatalog` carries the last good version of a file that broke into it; watching is someone
 * else's job.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { errorMessage } from '../errors.js';
import { callCycles, checkPipelineCalls } from './pipeline-calls.js';
import type { CompiledPipeline, InputsSchema, KnownTools, PipelineIssue } from './types.js';
import { validatePipelineText } from './validate.js';

export const PIPELINE_EXTENSIONS = ['.yaml', '.yml', '.json'] as const;

export interface CatalogEntry {
  /** The file name's stem: what `route_pipeline` and `pipeline__<name>` use. */
  name: string;
  file: string;
  valid: boolean;
  pipeline?: CompiledPipeline;
  issues: PipelineIssue[];
  warnings: PipelineIssue[];
  /**
   * Set only on an invalid entry, by `mergeCatalog`: the version of this file that was valid before
   * it broke, which keeps serving until the file is fixed or deleted.
   */
  lastGood?: CompiledPipeline;
}

export interface Catalog {
  readonly dir: string;
  /** The entry for `name`, valid or not (of two files with one name, the first in file-name order). */
  get(name: string): CatalogEntry | undefined;
  /** Every file's entry, by name, then file. */
  list(): CatalogEntry[];
}

export interface LoadOptions {
  knownTools?: KnownTools;
  knownServers?: readonly string[];
}

/**
 * Pipeline tests (`x.test.yaml`) and recordings (`x.recording.json`) live beside the pipelines;
 * they are not pipelines (a pipeline's name cannot hold a dot anyway).
 */
const NOT_PIPELINES = /\.(?:test|recording)\.(?:ya?ml|json)$/i;

/** Whether `file` has a pipeline extension and is not a pipeline test or a recording. */
export function isPipelineFile(file: string): boolean {
  return (
    (PIPELINE_EXTENSIONS as readonly string[]).includes(extname(file).toLowerCase()) &&
    !NOT_PIPELINES.test(file)
  );
}

/** Read and validate one pipeline file; the name it must have is its stem. Never throws. */
export async function loadPipelineFile(file: string, options: LoadOptions = {}): Promise<CatalogEntry> {
  const name = basename(file, extname(file));
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return {
      name,
      file,
      valid: false,
      issues: [{ file, line: 1, column: 1, message: `cannot read the file: ${errorMessage(err)}` }],
      warnings: [],
    };
  }
  const result = validatePipelineText(text, { file, expectedName: name, ...options });
  return result.ok
    ? { name, file, valid: true, pipeline: result.pipeline, issues: [], warnings: result.warnings }
    : { name, file, valid: false, issues: result.issues, warnings: result.warnings };
}

/**
 * Load every pipeline file in `dir`. A missing folder is an empty catalog; another read error throws.
 * A symlink to a file counts as a file (a Kubernetes ConfigMap's files are symlinks into `..data/`);
 * a dangling one, or one to a folder, is left out.
 */
export async function loadCatalog(dir: string, options: LoadOptions = {}): Promise<Catalog> {
  let names: string[];
  try {
    const dirents = await readdir(dir, { withFileTypes: true });
    const candidates = dirents.filter((d) => (d.isFile() || d.isSymbolicLink()) && isPipelineFile(d.name));
    const isFile = await Promise.all(
      candidates.map((d) =>
        d.isFile()
          ? true
          : stat(join(dir, d.name)).then(
              (s) => s.isFile(),
              () => false,
            ),
      ),
    );
    names = candidates.filter((_, i) => isFile[i]).map((d) => d.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') names = [];
    else throw err;
  }
  names.sort();
  const entries = await Promise.all(names.map((n) => loadPipelineFile(join(dir, n), options)));
  const byName = new Map<string, CatalogEntry>();
  for (const entry of entries) {
    const first = byName.get(entry.name);
    if (!first) {
      byName.set(entry.name, entry);
      continue;
    }
    // Two files, one name (a.yaml and a.json): the first in file-name order wins; the other is listed invalid.
    entry.valid = false;
    delete entry.pipeline;
    entry.issues.unshift({
      file: entry.file,
      line: 1,
      column: 1,
      message: `pipeline '${entry.name}' is already defined by ${first.file}`,
    });
  }
  checkCalls(entries, byName);
  return catalogOf(dir, entries);
}

/**
 * The checks one file cannot make alone: each `pipeline:` step names a pipeline of the folder and
 * gives it the right inputs, and no calls form a cycle. A file failing them is invalid, with the
 * problems at its own `pipeline:` keys.
 */
function checkCalls(entries: readonly CatalogEntry[], byName: ReadonlyMap<string, CatalogEntry>): void {
  const names = [...byName.keys()];
  const lookup = (name: string) => {
    const entry = byName.get(name);
    return entry ? (entry.pipeline ?? null) : undefined;
  };
  const valid = entries.filter((e) => e.pipeline && byName.get(e.name) === e);
  const problems = new Map<CatalogEntry, PipelineIssue[]>();
  for (const entry of valid) problems.set(entry, checkPipelineCalls(entry.pipeline!, lookup, names));
  for (const issue of callCycles(valid.map((e) => e.pipeline!))) {
    const entry = valid.find((e) => e.file === issue.file);
    if (entry) problems.get(entry)!.push(issue);
  }
  for (const [entry, issues] of problems) {
    if (issues.length === 0) continue;
    entry.valid = false;
    delete entry.pipeline;
    entry.issues.push(...issues);
    entry.issues.sort((a, b) => a.line - b.line || a.column - b.column);
  }
}

/** A Catalog of these entries: by name the first in file-name order, listed by name, then file. */
function catalogOf(dir: string, entries: readonly CatalogEntry[]): Catalog {
  const byName = new Map<string, CatalogEntry>();
  for (const entry of [...entries].sort((a, b) => compare(a.file, b.file))) {
    if (!byName.has(entry.name)) byName.set(entry.name, entry);
  }
  const listed = [...entries].sort((a, b) => a.name.localeCompare(b.name) || a.file.localeCompare(b.file));
  return {
    dir,
    get: (name) => byName.get(name),
    list: () => [...listed],
  };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The pipeline an entry serves: its own when valid, else the last good version of its file, if any. */
export function servedPipeline(entry: CatalogEntry): CompiledPipeline | undefined {
  return entry.valid ? entry.pipeline : entry.lastGood;
}

/**
 * `next` (a folder just read again) with the last good version of every file that broke kept
 * serving: an invalid entry whose file served a pipeline in `previous` — its own, or the last good
 * version `previous` had kept — gets that pipeline as `lastGood`. It is keyed by file: a deleted file
 * takes its pipeline with it, and a renamed one is a deletion plus a new file. Only the entry that
 * holds its name gets one (of `a.yaml` and `a.json`, the first); a valid entry is taken as it is.
 * Pure: neither catalog is changed, and the same inputs give the same result.
 */
export function mergeCatalog(previous: Catalog, next: Catalog): Catalog {
  const served = new Map<string, CompiledPipeline>();
  for (const entry of previous.list()) {
    const pipeline = previous.get(entry.name) === entry ? servedPipeline(entry) : undefined;
    if (pipeline) served.set(entry.file, pipeline);
  }
  const entries = next.list().map((entry): CatalogEntry => {
    const { lastGood: _stale, ...fresh } = entry;
    if (entry.valid) return fresh;
    const lastGood = next.get(entry.name)?.file === entry.file ? served.get(entry.file) : undefined;
    return lastGood ? { ...fresh, lastGood } : fresh;
  });
  return catalogOf(next.dir, entries);
}

/** What `list_pipelines` shows for one pipeline. */
export interface PipelineSummary {
  name: string;
  description?: string;
  file?: string;
  valid: boolean;
  /** `{}`-like for an invalid file. */
  inputsSchema: InputsSchema;
  /** `server` and `tool` are '' for a step that runs the pipeline `pipeline`. */
  steps: {
    id: string;
    server: string;
    tool: string;
    pipeline?: string;
    needs: string[];
    for_each: boolean;
  }[];
  issues: PipelineIssue[];
  /**
   * The file is invalid, but the last good version of it keeps serving (until the file is fixed or
   * deleted); the description, inputs and steps shown are that version's.
   */
  servingLastGood?: true;
}

export function summarize(source: CatalogEntry | CompiledPipeline): PipelineSummary {
  const entry: CatalogEntry | undefined = 'valid' in source ? source : undefined;
  const pipeline: CompiledPipeline | undefined = entry ? servedPipeline(entry) : (source as CompiledPipeline);
  const file = entry?.file ?? pipeline?.file;
  const summary: PipelineSummary = {
    name: entry?.name ?? pipeline!.name,
    ...(pipeline?.description !== undefined ? { description: pipeline.description } : {}),
    ...(file !== undefined ? { file } : {}),
    valid: entry ? entry.valid : true,
    inputsSchema: { type: 'object', properties: {}, required: [], additionalProperties: false },
    steps: [],
    issues: entry?.issues ?? [],
    ...(entry && !entry.valid && entry.lastGood ? { servingLastGood: true as const } : {}),
  };
  if (pipeline) {
    summary.inputsSchema = pipeline.inputsSchema;
    summary.steps = [...pipeline.steps.values()].map((s) => ({
      id: s.id,
      server: s.server,
      tool: s.tool,
      ...(s.pipeline ? { pipeline: s.pipeline.name } : {}),
      needs: [...s.dependsOn],
      for_each: s.forEach !== undefined,
    }));
  }
  return summary;
}
