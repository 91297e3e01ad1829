import { toMermaid } from '../pipeline/index.js';
import { parseOptions, UsageError } from './args.js';
import { resolveConfig } from './config.js';
import { findPipeline, issueLine } from './pipelines.js';

const options = {
  config: { type: 'string', short: 'c' },
} as const;

/** Prints a pipeline's step graph as a Mermaid flowchart. */
export async function graphCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseOptions(argv, options);
  if (positionals.length !== 1) throw new UsageError('graph takes one pipeline: a name or a file');
  const config = await resolveConfig(values.config);
  // Drawing needs no backends: servers are not checked, so a pipeline for another config draws too.
  const entry = await findPipeline(positionals[0]!, config, undefined);
  if (!entry.pipeline) {
    process.stderr.write(`${entry.issues.map((i) => issueLine(i)).join('\n')}\n`);
    return 1;
  }
  process.stdout.write(toMermaid(entry.pipeline));
  return 0;
}
