/**
 * The data-flow check over a set of pipeline files: each one that serves (valid, or its last good
 * version) is checked with the others as the pipelines its `pipeline:` steps call.
 */
import { type CatalogEntry, servedPipeline } from '../catalog.js';
import { checkDataFlow, type TypeCheckEnv, type TypeProblem } from './check.js';

/** An environment whose `pipeline:` lookups find the first serving entry of that name. */
export function catalogTypeEnv(entries: readonly CatalogEntry[], tool: TypeCheckEnv['tool']): TypeCheckEnv {
  const byName = new Map<string, NonNullable<ReturnType<typeof servedPipeline>>>();
  for (const entry of entries) {
    const pipeline = servedPipeline(entry);
    if (pipeline && !byName.has(entry.name)) byName.set(entry.name, pipeline);
  }
  return { tool, pipeline: (name) => byName.get(name) };
}

/** File → its type problems, for every entry that serves and has some. */
export function checkCatalogTypes(
  entries: readonly CatalogEntry[],
  tool: TypeCheckEnv['tool'],
): Map<string, TypeProblem[]> {
  const env = catalogTypeEnv(entries, tool);
  const out = new Map<string, TypeProblem[]>();
  for (const entry of entries) {
    const pipeline = servedPipeline(entry);
    if (!pipeline) continue;
    const problems = checkDataFlow(pipeline, env);
    if (problems.length > 0) out.set(entry.file, problems);
  }
  return out;
}
