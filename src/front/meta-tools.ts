import type { BackendRegistry } from '../backends/index.js';
import type { BackendInfo } from '../backends/types.js';
import type { GatewayConfig } from '../config/index.js';
import { parseDuration, servedPrefix, serverConfigFromInput } from '../config/index.js';
import { errorMessage, GatewayError } from '../errors.js';
import type { Surface, SurfaceReport } from '../surface/index.js';
import { approveTool } from './approve-tool.js';
import { serverRowFor } from './caller-view.js';
import type { SharedRegistrations } from './cluster-sync.js';
import { describeClash } from './name-clashes.js';
import { checkHttpRegistration, checkRuntimeCount } from './register-policy.js';
import type { NameClash } from './served-names.js';
import type { CallContext, ServedTool } from './served-tool.js';
import { jsonResult } from './served-tool.js';
import { readParams, requireString } from './tool-args.js';

export interface MetaToolDeps {
  registry: BackendRegistry;
  /** The live config; read on every call so a reload is seen. */
  config: () => GatewayConfig;
  /**
   * The names of each backend not served because another holder of the name wins (served-names.ts),
   * once every list has been built.
   */
  nameClashes?: () => Promise<(server: string) => NameClash[]>;
  /** Filters and pins (src/surface): call_backend is refused what they hide; list_servers shows them. */
  surface?: Surface;
  /** Builds the tool table, so that pins have seen the backends' latest lists. */
  listTools?: () => unknown;
  /** With `cluster.redis`: registrations shared by every replica, capped across the cluster. */
  shared?: SharedRegistrations;
  /** The name a backend tool is served as, for a restricted caller's rules (`tools` globs) in list_servers. */
  servedName?: (server: string, tool: string) => string;
}

/** How long register_server waits for a new backend's first connection before answering. */
const REGISTER_WAIT_MS = 15_000;

const globLists = (what: string) => ({
  type: 'object',
  description: `${what}: include and/or exclude, lists of globs`,
  properties: {
    include: { type: 'array', items: { type: 'string' } },
    exclude: { type: 'array', items: { type: 'string' } },
  },
});

/** register_server's tool surface settings, as in gateway.yaml (docs/guides/surface.md). */
const SURFACE_INPUT = {
  tools: {
    ...globLists("Which of its tools clients see (globs on the backend's tool names)"),
    properties: {
      ...globLists('').properties,
      overrides: {
        type: 'object',
        description: 'Per backend tool name: {name, title, description} served instead',
        additionalProperties: { type: 'object' },
      },
    },
  },
  resources: globLists('Which of its resources clients see (globs on URIs)'),
  prompts: globLists('Which of its prompts clients see'),
  pin: { type: 'boolean', description: 'Withhold a tool whose definition changes until approved' },
};

const durationSchema = {
  description: 'A duration: "10s", "500ms", "2m" or a number of milliseconds',
  type: ['string', 'number'],
};

export function backendMetaTools(deps: MetaToolDeps): ServedTool[] {
  return [
    registerServer(deps),
    removeServer(deps),
    listServers(deps),
    callBackend(deps),
    ...(deps.surface ? [approveTool(deps.surface, deps.config)] : []),
  ];
}

function registerServer(deps: MetaToolDeps): ServedTool {
  return {
    definition: {
      name: 'register_server',
      title: 'Register an MCP server',
      description:
        'Add a backend MCP server at runtime: a local program (command + args, spoken to over stdio) or a ' +
        'Streamable HTTP url. Answers with its status and tools once it has connected. Over HTTP only ' +
        'what the gateway config allows (http.allow_commands, http.allow_url_hosts) is accepted.',
      inputSchema: {
        type: 'object',
        properties: {
          name: { type: 'string', description: 'Server name: letters, digits, - and _, no "__"' },
          command: { type: 'string', description: 'Program to start (stdio backend)' },
          args: {
            description: 'Arguments: an array, or one string split like a shell would',
            anyOf: [{ type: 'array', items: { type: 'string' } }, { type: 'string' }],
          },
          env: { type: 'object', additionalProperties: { type: 'string' }, description: 'Extra environment' },
          cwd: { type: 'string', description: 'Working directory' },
          url: { type: 'string', description: 'Streamable HTTP endpoint (http backend)' },
          headers: { type: 'object', additionalProperties: { type: 'string' }, description: 'HTTP headers' },
          transport: {
            type: 'string',
            enum: ['streamable-http', 'sse'],
            description:
              'HTTP transport for a url: unset tries Streamable HTTP and falls back to the deprecated HTTP+SSE on a 4xx; streamable-http never falls back; sse uses only HTTP+SSE',
          },
          description: { type: 'string' },
          timeout: durationSchema,
          protocol: {
            type: 'string',
            enum: ['auto', 'modern', 'legacy'],
            description:
              'MCP era spoken to it: auto (default; server/discover, then 2025 handshake), modern, legacy',
          },
          retry_on_crash: {
            description:
              'Retry a call in flight when the process dies: true/false, or tool names (may use *) to true/false',
            type: ['boolean', 'object'],
            additionalProperties: { type: 'boolean' },
          },
          prefix: {
            type: 'string',
            description:
              'Put before its tool and prompt names; default "<name>__". "" serves its names and resource URIs unchanged',
          },
          ...SURFACE_INPUT,
        },
        required: ['name'],
      },
    },
    async call(args, ctx) {
      const config = deps.config();
      const input = { ...args, name: requireString(args, 'name', 'register_server') };
      const serverConfig = serverConfigFromInput(input, { kind: 'runtime' }, config.baseDir);
      // Over HTTP the caller is not necessarily this machine's user: only what the config allows.
      if (ctx.transport === 'http') await checkHttpRegistration(input, serverConfig, config.http);
      // Counted right before adding, with no await in between, so concurrent calls cannot overshoot;
      // the limit is read again in case a reload changed it during the DNS lookup above.
      const runtime = deps.registry.list().filter((info) => info.source.kind === 'runtime').length;
      const max = deps.config().limits.maxRuntimeBackends;
      checkRuntimeCount(runtime, max);
      checkPrefixFree(deps.registry, serverConfig);
      // In a cluster the name and the cap are the cluster's: taken atomically in Redis first.
      const shared = deps.shared;
      if (shared) await shared.reserve(input.name, args, max);
      let backend: ReturnType<BackendRegistry['add']>;
      try {
        backend = deps.registry.add(serverConfig);
      } catch (err) {
        await shared?.drop(input.name).catch(() => {});
        throw err;
      }
      await backend.whenSettled(Math.max(serverConfig.timeoutMs ?? 0, REGISTER_WAIT_MS));
      const info = backend.info();
      if (info.status === 'failed') {
        // A backend that cannot start is an error for the caller, not a zombie entry retrying forever.
        await deps.registry.remove(info.name);
        await shared?.drop(info.name).catch(() => {});
        throw new GatewayError(
          'BACKEND_UNAVAILABLE',
          `server '${info.name}' failed to start: ${info.lastError}`,
          {
            server: info.name,
            stderr: info.stderrTail,
          },
        );
      }
      if (shared) {
        try {
          await shared.confirm(info.name, args);
        } catch (err) {
          await deps.registry.remove(info.name).catch(() => {});
          throw err;
        }
      }
      return jsonResult({ server: publicInfo(info), tools: backend.toolDefinitions() });
    },
  };
}

function removeServer(deps: MetaToolDeps): ServedTool {
  return {
    definition: {
      name: 'remove_server',
      title: 'Remove an MCP server',
      description:
        'Disconnect a backend and stop serving its tools. Requests still running on it end with an error, ' +
        'at once or, with grace, once they have finished or the grace is over.',
      inputSchema: {
        type: 'object',
        properties: {
          name: { type: 'string', description: 'The server to remove' },
          grace: {
            ...durationSchema,
            description:
              'How long requests in flight on it may go on finishing ("10s", "500ms" or milliseconds; default 0)',
          },
        },
        required: ['name'],
      },
    },
    async call(args) {
      const name = requireString(args, 'name', 'remove_server');
      const graceMs =
        args.grace === undefined ? undefined : readDuration(args.grace, 'remove_server', 'grace');
      if (deps.shared) {
        // Gone from the cluster first, so no replica restarts it; then here, and every replica hears.
        await deps.shared.drop(name);
        if (!deps.registry.get(name))
          return jsonResult({ removed: { name } }, `Removed server '${name}' from the cluster.`);
      }
      const info = await deps.registry.remove(name, { graceMs });
      return jsonResult({ removed: publicInfo(info) }, `Removed server '${name}' (${info.toolCount} tools).`);
    },
  };
}

function listServers(deps: MetaToolDeps): ServedTool {
  return {
    definition: {
      name: 'list_servers',
      title: 'List MCP servers',
      description:
        'Every backend: transport, status (connecting, ready, failed, needs login — with the command to run, closed), tools, last error, where it came from, and a config change still waiting to start (pendingChange).',
      inputSchema: { type: 'object', properties: {} },
    },
    async call(_args, ctx) {
      const clashesOf = (await deps.nameClashes?.()) ?? (() => []);
      const access = ctx.access;
      const shown = deps.registry.list().filter((info) => access?.showsServer?.(info.name) ?? true);
      const servers = shown.map((info) => {
        const backend = deps.registry.get(info.name);
        const clashes = clashesOf(info.name);
        const row = {
          ...publicInfo(info),
          prefix: backend ? servedPrefix(backend.config) : servedPrefix(info),
          ...(clashes.length > 0 ? { nameClashes: clashes } : {}),
          ...deps.surface?.report(info.name),
        };
        // A caller restricted by http.auth.rules is not told of tools it may not list (caller-view.ts).
        return access ? serverRowFor(access, row, deps.servedName) : row;
      });
      const cluster = deps.shared ? await clusterStatus(deps.shared) : undefined;
      return jsonResult(
        { servers, ...(cluster ? { cluster } : {}) },
        formatServers(servers) + (cluster ? formatCluster(cluster) : ''),
      );
    },
  };
}

function callBackend(deps: MetaToolDeps): ServedTool {
  return {
    definition: {
      name: 'call_backend',
      title: 'Call a backend tool',
      description:
        "Call one tool on one backend server and return the backend's result unchanged. " +
        'list_servers shows the servers and their tools.',
      inputSchema: {
        type: 'object',
        properties: {
          server: { type: 'string', description: 'Backend server name' },
          tool: { type: 'string', description: 'Tool name on that server' },
          params: {
            description: 'The tool arguments: an object, or a JSON string of one',
            anyOf: [{ type: 'object' }, { type: 'string' }],
          },
          timeout: durationSchema,
        },
        required: ['server', 'tool'],
      },
    },
    async call(args, ctx: CallContext) {
      const server = requireString(args, 'server', 'call_backend');
      const tool = requireString(args, 'tool', 'call_backend');
      const params = readParams(args.params, 'call_backend');
      const timeout = args.timeout === undefined ? undefined : readDuration(args.timeout, 'call_backend');
      deps.listTools?.();
      deps.surface?.checkCall(server, tool, 'call_backend');
      return deps.registry.callTool(server, tool, params, {
        signal: ctx.signal,
        timeoutMs: timeout,
        onProgress: ctx.progress,
        requester: ctx.requester,
        trace: ctx.trace,
        credential: ctx.credential,
      });
    },
  };
}

/** Two servers with one prefix would serve their names in one namespace: refused, as in gateway.yaml. */
function checkPrefixFree(registry: BackendRegistry, config: { name: string; prefix?: string }): void {
  const prefix = servedPrefix(config);
  const owner = registry
    .names()
    .find((name) => name !== config.name && servedPrefix(registry.get(name)?.config ?? { name }) === prefix);
  if (owner === undefined) return;
  throw new GatewayError(
    'PARAMS_INVALID',
    `register_server: prefix ${JSON.stringify(prefix)} is already the prefix of server '${owner}'; no two servers may share a prefix`,
    { server: config.name, field: 'prefix' },
  );
}

function readDuration(value: unknown, tool: string, key = 'timeout'): number {
  try {
    if (typeof value !== 'string' && typeof value !== 'number')
      throw new Error('expected a string or number');
    return parseDuration(value);
  } catch (err) {
    throw new GatewayError('PARAMS_INVALID', `${tool}: '${key}' ${errorMessage(err)}`, { tool });
  }
}

/** list_servers output: everything but internals; BackendInfo already holds no secrets. */
function publicInfo(info: BackendInfo): Record<string, unknown> {
  return { ...info };
}

function formatServers(servers: Record<string, unknown>[]): string {
  if (servers.length === 0) return 'No servers are registered.';
  return servers
    .map((s) => {
      const error = s.lastError ? `\n    last error: ${String(s.lastError)}` : '';
      const change = s.pendingChange as { status: string; error?: string } | undefined;
      const pending = change
        ? `\n    pending config change (${change.status}; this instance serves meanwhile)${change.error ? `: ${change.error}` : ''}`
        : '';
      const tools = Array.isArray(s.tools) && s.tools.length ? `\n    tools: ${s.tools.join(', ')}` : '';
      const clashes = ((s.nameClashes ?? []) as NameClash[]).map((c) => `\n    ${describeClash(c)}`).join('');
      return `${String(s.name)} [${String(s.httpTransport ?? s.transport)}] ${String(s.status)} — ${String(s.toolCount)} tools${tools}${error}${pending}${clashes}${formatSurface(s)}`;
    })
    .join('\n');
}

/** list_servers' text for the surface: renamed tools, hidden ones, changed definitions. */
function formatSurface(s: Record<string, unknown>): string {
  const r = s as SurfaceReport;
  const lines: string[] = [];
  for (const [tool, served] of Object.entries(r.renamed ?? {})) lines.push(`served as ${served}: ${tool}`);
  if (r.hidden?.length) lines.push(`hidden by filters: ${r.hidden.join(', ')}`);
  for (const c of r.definitionChanges ?? [])
    lines.push(`definition of ${c.tool} changed at ${c.at}${c.withheld ? ' (withheld until approved)' : ''}`);
  for (const u of r.unknownOverrides ?? [])
    lines.push(`override of unknown tool ${u.tool}${u.didYouMean ? ` (did you mean ${u.didYouMean}?)` : ''}`);
  return lines.map((l) => `\n    ${l}`).join('');
}

type ClusterView = Awaited<ReturnType<SharedRegistrations['status']>> | { replica?: string; error: string };

/** Every replica's config status (a reload one refused shows here on all), or why it is unknown. */
async function clusterStatus(shared: SharedRegistrations): Promise<ClusterView> {
  try {
    return await shared.status();
  } catch (err) {
    return { error: errorMessage(err) };
  }
}

function formatCluster(cluster: ClusterView): string {
  if ('error' in cluster) return `\ncluster: ${cluster.error}`;
  const lines = cluster.replicas.map((r) => {
    const config = r.config === 'ok' ? 'config ok' : `config reload REFUSED: ${(r.issues ?? []).join('; ')}`;
    return `  ${r.replica}${r.replica === cluster.replica ? ' (this one)' : ''}: ${config}${r.draining ? ', draining' : ''}`;
  });
  return `\ncluster (${cluster.replicas.length} replicas):\n${lines.join('\n')}`;
}
