/**
 * `mcp-gateway tools approve SERVER TOOL` and `tools pending`: the pinned tool definitions of
 * src/surface/pins.ts. The CLI writes the pins file; a running gateway polls it and serves an
 * approved tool again within a second, so no connection to the gateway is needed.
 */
import { approveInFile, pendingInFile } from '../surface/index.js';
import { parseOptions, UsageError } from './args.js';
import { resolveConfig } from './config.js';

const options = { config: { type: 'string', short: 'c' } } as const;

export async function toolsCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseOptions(argv, options);
  const [action, server, tool, ...rest] = positionals;
  const config = await resolveConfig(values.config);
  const file = config.surface.pinsFile;
  if (action === 'pending' && server === undefined) {
    const pending = pendingInFile(file);
    for (const p of pending) process.stdout.write(`${p.server} ${p.tool} (changed ${p.at})\n`);
    if (pending.length === 0) process.stdout.write(`No changed tool waits for approval (${file}).\n`);
    return 0;
  }
  if (action !== 'approve' || server === undefined || tool === undefined || rest.length > 0)
    throw new UsageError('usage: mcp-gateway tools approve SERVER TOOL | tools pending [--config FILE]');
  if (!approveInFile(file, server, tool)) {
    process.stderr.write(
      `No change of tool '${tool}' of server '${server}' waits for approval in ${file}.\n`,
    );
    return 1;
  }
  process.stdout.write(`Approved: tool '${tool}' of server '${server}' is served again (${file}).\n`);
  return 0;
}
