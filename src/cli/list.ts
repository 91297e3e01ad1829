import { BackendRegistry } from '../backends/index.js';
import { type ProfileConfig, servedPrefix } from '../config/index.js';
import { ProfileView } from '../front/index.js';
import { createLogger } from '../log.js';
import { secrets } from '../secrets.js';
import { SurfacePolicy, shortName } from '../surface/index.js';
import { parseOptions, UsageError } from './args.js';
import { resolveAutoRegister, resolveConfig } from './config.js';

const options = {
  config: { type: 'string', short: 'c' },
  'auto-register': { type: 'string' },
  json: { type: 'boolean', default: false },
  profile: { type: 'string' },
} as const;

/** Connects to every backend, prints them with their tools, and exits: a quick check of a config. */
export async function listCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseOptions(argv, options);
  if (positionals.length) throw new UsageError(`list takes no arguments, got '${positionals.join(' ')}'`);
  const config = await resolveConfig(values.config);
  const servers = [...config.servers, ...(await resolveAutoRegister(values['auto-register'], config))];
  const profile =
    values.profile === undefined ? undefined : profileView(values.profile, config.profiles ?? []);
  // With --profile, only what that profile serves: its servers and, of their tools, those it keeps —
  // matched, as the running gateway does, against the served name (override, then the length rule).
  const servedAs = (server: (typeof servers)[number], tool: string) =>
    shortName(
      `${servedPrefix(server)}${new SurfacePolicy(server.surface).servedToolName(tool)}`,
      config.surface.maxNameLength,
    );
  const shown = (server: (typeof servers)[number], tool: string) =>
    !profile || profile.allowsBackendTool(server.name, servedAs(server, tool));
  const registry = new BackendRegistry({
    defaultTimeoutMs: config.defaultTimeoutMs,
    logger: createLogger('list', 'warn'),
  });
  try {
    const backends = servers
      .filter((s) => s.enabled && (!profile || profile.allowsServer(s.name)))
      .map((s) => registry.add(s));
    await Promise.all(backends.map((b) => b.whenSettled()));
    const infos = registry.list();
    if (values.json) {
      const withTools = backends.map((b) => ({
        ...b.info(),
        tools: b.toolDefinitions().filter((t) => shown(b.config, t.name)),
      }));
      print(
        `${JSON.stringify({ ...(profile ? { profile: profile.settings } : {}), servers: withTools }, null, 2)}\n`,
      );
    } else {
      if (profile) print(profileHeader(profile));
      for (const backend of backends) {
        const info = backend.info();
        const error = info.lastError ? ` — ${info.lastError}` : '';
        const spoken = info.protocolVersion ? `, MCP ${info.protocolVersion} (${info.era})` : '';
        print(`${info.name} (${info.httpTransport ?? info.transport}, ${info.status}${spoken})${error}\n`);
        for (const tool of backend.toolDefinitions().filter((t) => shown(backend.config, t.name))) {
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

function profileView(name: string, profiles: readonly ProfileConfig[]): ProfileView {
  const settings = profiles.find((p) => p.name === name);
  if (!settings) {
    const known = profiles.map((p) => p.name);
    throw new UsageError(
      `no profile '${name}' in the config${known.length ? `; profiles: ${known.join(', ')}` : ''}`,
    );
  }
  return new ProfileView(settings);
}

function profileHeader(view: ProfileView): string {
  const s = view.settings;
  const mode =
    s.mode === 'search'
      ? 'search mode: find_tools, describe_tool and call_tool over the tools below'
      : 'full list';
  const lists = [
    s.metaTools ? `meta tools: ${s.metaTools.join(', ') || 'none'}` : 'meta tools: as tools.meta',
    s.pipelines ? `pipelines: ${s.pipelines.join(', ') || 'none'}` : 'pipelines: all',
  ];
  return `profile ${s.name} (${mode}); ${lists.join('; ')}\n`;
}

/** Output goes through the redactor: a target or error can quote a ${VAR} value or URL credentials. */
function print(text: string): void {
  process.stdout.write(secrets.redact(text));
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? '';
}
