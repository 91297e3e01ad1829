#!/usr/bin/env node
import { createLogger } from '../log.js';
import { UsageError } from './args.js';
import { ConfigLoadError } from './config.js';
import { HELP } from './usage.js';
import { VERSION } from './version.js';

type Command = (argv: string[]) => Promise<number>;

/** Subcommands load lazily so `--help` and `validate` do not pay for the whole gateway. */
const COMMANDS: Record<string, () => Promise<Command>> = {
  serve: async () => (await import('./serve.js')).serveCommand,
  list: async () => (await import('./list.js')).listCommand,
  validate: async () => (await import('./validate.js')).validateCommand,
  run: async () => (await import('./run.js')).runCommand,
  graph: async () => (await import('./graph.js')).graphCommand,
  test: async () => (await import('./test.js')).testCommand,
  tools: async () => (await import('./tools.js')).toolsCommand,
  login: async () => (await import('./login.js')).loginCommand,
};

export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (first === '--version' || first === '-v') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const named = first !== undefined && !first.startsWith('-');
  const name = named ? first : 'serve';
  const load = COMMANDS[name];
  if (!load) throw new UsageError(`unknown command '${name}'; commands: ${Object.keys(COMMANDS).join(', ')}`);
  const command = await load();
  return command(named ? rest : argv);
}

const logger = createLogger('cli');
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`mcp-gateway: ${err.message}\nRun 'mcp-gateway --help' for usage.\n`);
      process.exitCode = 2;
    } else if (err instanceof ConfigLoadError) {
      process.stderr.write(`${err.lines.join('\n')}\n`);
      process.exitCode = 1;
    } else {
      logger.error(err instanceof Error ? err.message : String(err));
      process.exitCode = 1;
    }
  },
);
