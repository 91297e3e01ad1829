import { BackendRegistry } from '../backends/index.js';
import { createLogger } from '../log.js';
import { secrets } from '../secrets.js';
import { parseOptions, UsageError } from './args.js';
import { resolveAutoRegister, resolveConfig } from './config.js';

const options = {
  config: { type: 'string', short: 'c' },
  'auto-register': { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

/** Connects to every backend, prints them with their tools, and exits: a quick check of a config. */
export async function listCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseOptions(argv, options);
  if (positionals.length) throw new UsageError(`list takes no arguments, got '${positionals.join(' ')}'`);
  const config = await resolveConfig(values.config);
  const servers = [...config.servers, ...(await resolveAutoRegister(values['auto-register'], config))];
  const registry = new BackendRegistry({
    defaultTimeoutMs: config.defaultTimeoutMs,
    logger: createLogger('list', 'warn'),
  });
  try {
    const backends = servers.filter((s) => s.enabled).map((s) => registry.add(s));
    await Promise.all(backends.map((b) => b.whenSettled()));
    const infos = registry.list();
    if (values.json) {
      const withTools = backends.map((b) => ({ ...b.info(), tools: b.toolDefinitions() }));
      print(`${JSON.stringify({ servers: withTools }, null, 2)}\n`);
    } else {
      for (const backend of backends) {
        const info = backend.info();
        const error = info.lastError ? ` — ${info.lastError}` : '';
        const spoken = info.protocolVersion ? `, MCP ${info.protocolVersion} (${info.era})` : '';
        print(`${info.name} (${info.httpTransport ?? info.transport}, ${info.status}${spoken})${error}\n`);
        for (const tool of backend.toolDefinitions()) {
          print(`  ${tool.name}${tool.description ? ` — ${firstLine(tool.description)}` : ''}\n`);
        }
      }
      if (infos.length === 0) print('No servers configured.\n');
    }
    return infos.some((i) => i.status !== 'ready') ? 1 : 0;
  } finally {
    await registry.close();
  }
}

/** Output goes through the redactor: a target or error can quote a ${VAR} value or URL credentials. */
function print(text: string): void {
  process.stdout.write(secrets.redact(text));
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? '';
}
