/**
 * Wires the web console (src/console) to the running gateway: what it shows (backends, tools,
 * pipelines), what it may do (call a tool, start a run) as the caller it authenticated, and the
 * changes it follows. Loaded by `import()` only when `http.console` is on.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthInfo, CallToolResult } from '@modelcontextprotocol/server';
import {
  type Access,
  callerLabel,
  callerOf,
  discoverLoginEndpoints,
  resourceFor,
  scopesSupported,
} from '../auth/index.js';
import type { BackendRegistry } from '../backends/index.js';
import type { GatewayConfig } from '../config/index.js';
import type {
  AuthorizedRequest,
  BackendView,
  ConsoleHandler,
  ConsoleHost,
  ConsoleOAuthClient,
  PipelineView,
  ToolView,
} from '../console/index.js';
import { errorMessage, GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import { telemetry } from '../observability/index.js';
import { type PipelineIssue, servedPipeline, toMermaid } from '../pipeline/index.js';
import { secrets } from '../secrets.js';
import { accessOf, callTargets, listedTarget } from './access-check.js';
import { pipelineToolName } from './naming.js';
import type { PipelineHost } from './pipeline-host.js';
import type { ProtocolHub } from './protocol-hub.js';
import type { RequestGate } from './request-gate.js';
import { errorResult } from './served-tool.js';
import type { ToolTable } from './tool-table.js';

/** The HTTP front's checks, as the console uses them (built in http.ts). */
export interface ConsoleGuard {
  /** Host and Origin only (the page itself); answers a refusal and returns false. */
  checkOrigin(req: IncomingMessage, res: ServerResponse): boolean;
  /** Host, Origin and the token; answers a refusal and returns undefined. */
  authenticate(req: IncomingMessage, res: ServerResponse): Promise<{ authInfo?: AuthInfo } | undefined>;
  /** `oauth` with http.auth, `token` with a static token, `none` on a loopback front without either. */
  mode: 'token' | 'oauth' | 'none';
}

export interface ConsoleSources {
  registry: BackendRegistry;
  table: ToolTable;
  pipelines: PipelineHost;
  hub: ProtocolHub;
  gate: RequestGate;
  config: () => GatewayConfig;
  logger: Logger;
}

export async function loadConsole(sources: ConsoleSources, guard: ConsoleGuard): Promise<ConsoleHandler> {
  const { createConsole } = await import('../console/index.js');
  return createConsole(consoleHost(sources, guard), sources.logger);
}

function consoleHost(sources: ConsoleSources, guard: ConsoleGuard): ConsoleHost {
  const { registry, table, pipelines, hub, gate, config, logger } = sources;
  const authOf = (who: AuthorizedRequest) => who.auth as AuthInfo | undefined;
  const accessFor = (who: AuthorizedRequest): Access => accessOf(authOf(who), () => config().http.auth);
  return {
    checkOrigin: (req, res) => guard.checkOrigin(req, res),
    async authorize(req, res) {
      const verdict = await guard.authenticate(req, res);
      if (!verdict) return undefined;
      const caller = callerOf(verdict.authInfo);
      // The console shows every backend's status, errors and stderr, as list_servers does: with
      // http.auth.rules, it opens to the callers a rule lets use list_servers.
      if (
        !accessOf(verdict.authInfo, () => config().http.auth).allows({ kind: 'meta', name: 'list_servers' })
      ) {
        const label = callerLabel(caller);
        res.writeHead(403, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
        res.end(
          JSON.stringify({
            error: `${label ? `'${label}'` : 'this caller'} may not use the console: no rule of http.auth.rules that matches it allows list_servers`,
          }),
        );
        return undefined;
      }
      return {
        whoami: {
          caller: callerLabel(caller) ?? (guard.mode === 'token' ? 'token' : 'local'),
          auth: guard.mode,
        },
        auth: verdict.authInfo,
      };
    },
    async backends() {
      const counts = await hub.countsByServer().catch(() => undefined);
      return registry.list().map(
        (b): BackendView => ({
          name: b.name,
          transport: b.transport,
          status: b.status,
          ...(b.description !== undefined ? { description: b.description } : {}),
          target: b.target,
          ...(b.pid !== undefined ? { pid: b.pid } : {}),
          ...(b.era !== undefined ? { era: b.era } : {}),
          ...(b.protocolVersion !== undefined ? { protocolVersion: b.protocolVersion } : {}),
          restarts: b.restarts,
          ...(b.lastError !== undefined ? { lastError: secrets.redact(b.lastError) } : {}),
          stderrTail: b.stderrTail.map((line) => secrets.redact(line)),
          source: b.source.kind === 'runtime' ? 'runtime' : `${b.source.kind} ${b.source.file}`,
          counts: {
            tools: b.toolCount,
            resources: counts ? (counts.resources.get(b.name) ?? 0) : null,
            prompts: counts ? (counts.prompts.get(b.name) ?? 0) : null,
          },
        }),
      );
    },
    tools(who) {
      const access = accessFor(who);
      return table.list().flatMap((t): ToolView[] => {
        const served = table.get(t.name);
        if (!served || !access.allows(listedTarget(t.name, served))) return [];
        return [
          {
            name: t.name,
            ...(t.title !== undefined ? { title: t.title } : {}),
            ...(t.description !== undefined ? { description: t.description } : {}),
            inputSchema: t.inputSchema as Record<string, unknown>,
            ...(t.outputSchema ? { outputSchema: t.outputSchema as Record<string, unknown> } : {}),
            ...(served.backend !== undefined ? { server: served.backend } : {}),
          },
        ];
      });
    },
    callTool: (who, name, args, signal) => callTool(sources, who, accessFor(who), name, args, signal),
    pipelines(who) {
      const access = accessFor(who);
      return pipelines
        .current()
        .list()
        .filter((e) => access.allows({ kind: 'pipeline', pipeline: e.name }))
        .map((entry): PipelineView => {
          const shown = servedPipeline(entry) ?? entry.pipeline;
          return {
            name: entry.name,
            file: entry.file,
            valid: entry.valid,
            serving: servedPipeline(entry) !== undefined,
            ...(shown?.description !== undefined ? { description: shown.description } : {}),
            ...(shown
              ? {
                  inputsSchema: shown.inputsSchema as unknown as Record<string, unknown>,
                  mermaid: toMermaid(shown),
                }
              : {}),
            steps: shown
              ? [...shown.steps.values()].map((s) => ({
                  id: s.id,
                  target: s.pipeline ? `pipeline ${s.pipeline.name}` : `${s.server}.${s.tool}`,
                  dependsOn: [...s.dependsOn],
                }))
              : [],
            issues: entry.issues.map(issueView),
            warnings: entry.warnings.map(issueView),
          };
        });
    },
    async startRun(who, name, inputs) {
      const access = accessFor(who);
      if (!access.allows({ kind: 'pipeline', pipeline: name }))
        throw new GatewayError('ACCESS_DENIED', `pipeline ${name} is not allowed for this caller`);
      const pipeline = pipelines.resolve(name);
      const running = telemetry.toolCall(
        {
          tool: pipelineToolName(name),
          args: inputs,
          transport: 'http',
          caller: callerLabel(callerOf(authOf(who))),
        },
        (trace) => gate.run('tools/call', () => pipelines.run(pipeline, inputs, { trace })),
      );
      // Bad inputs reject before the run starts; a run itself never rejects (its failures are its result).
      const early = await Promise.race([
        running.then(
          () => undefined,
          (err: unknown) => err,
        ),
        new Promise<undefined>((resolve) => setImmediate(() => resolve(undefined))),
      ]);
      if (early !== undefined) throw early;
      running.catch((err: unknown) => logger.warn(`console run of ${name}: ${errorMessage(err)}`));
    },
    watchRuns: (watcher) => pipelines.watchRuns(watcher),
    onChange(listener) {
      const onStatus = () => listener('backends');
      const onTools = () => listener('tools');
      const offPipelines = pipelines.onChange(() => listener('pipelines'));
      registry.on('status', onStatus);
      registry.on('toolsChanged', onStatus);
      table.on('changed', onTools);
      return () => {
        registry.off('status', onStatus);
        registry.off('toolsChanged', onStatus);
        table.off('changed', onTools);
        offPipelines();
      };
    },
    maxBodyBytes: () => config().limits.maxMessageBytes,
    oauthClient: oauthClientOf(config),
  };
}

/**
 * The console's OAuth client from `http.auth` and `http.console.client_id`, as the config now says;
 * the issuer's endpoints are read once per issuer (again after a failure: it may be down at start).
 */
function oauthClientOf(config: () => GatewayConfig): () => ConsoleOAuthClient | undefined {
  let known:
    | { issuer: string; endpoints: Promise<{ authorizationEndpoint: string; tokenEndpoint: string }> }
    | undefined;
  const endpoints = (issuer: string) => {
    if (known?.issuer !== issuer) {
      const found = discoverLoginEndpoints(issuer);
      known = { issuer, endpoints: found };
      found.catch(() => {
        if (known?.endpoints === found) known = undefined;
      });
    }
    return known.endpoints;
  };
  return () => {
    const { auth, consoleOAuth } = config().http;
    if (!auth || !consoleOAuth) return undefined;
    return {
      issuer: auth.issuer,
      clientId: consoleOAuth.clientId,
      scope: (consoleOAuth.scopes ?? scopesSupported(auth)).join(' '),
      resource: resourceFor(auth, '/mcp'),
      endpoints: () => endpoints(auth.issuer),
    };
  };
}

/**
 * A tool called from the console's "try it" form, as tools/call would: access rules, the request
 * gate (shutdown's drain), telemetry and the audit log; the gateway's own failures as isError results.
 */
async function callTool(
  sources: ConsoleSources,
  who: AuthorizedRequest,
  access: Access,
  name: string,
  args: Record<string, unknown>,
  signal: AbortSignal,
): Promise<CallToolResult> {
  const { table, gate, logger } = sources;
  const caller = callerLabel(callerOf(who.auth as AuthInfo | undefined));
  const tool = await table.resolve(name, signal);
  if (!tool) return errorResult(`Unknown tool: ${name}`, { code: 'TOOL_UNKNOWN' });
  const denied = callTargets(name, tool, args).find((t) => !access.allows(t));
  if (denied)
    return errorResult(`${name} is not allowed for ${caller ?? 'this caller'}`, { code: 'ACCESS_DENIED' });
  try {
    return await telemetry.toolCall({ tool: name, args, transport: 'http', caller }, (trace) =>
      gate.run('tools/call', () =>
        // A restricted caller's access goes with the call, as from server.ts: list_servers and
        // list_pipelines then name only what it may list.
        tool.call(args, {
          signal,
          transport: 'http',
          era: 'modern',
          trace,
          ...(access.unrestricted ? {} : { access }),
        }),
      ),
    );
  } catch (err) {
    if (err instanceof GatewayError) return errorResult(secrets.redact(err.message), { code: err.code });
    logger.debug(`console call of ${name}: ${errorMessage(err)}`);
    // A backend's protocol error: shown as the failure it is.
    return errorResult(secrets.redact(`${name} failed: ${errorMessage(err)}`));
  }
}

function issueView(issue: PipelineIssue) {
  return {
    ...(issue.file !== undefined ? { file: issue.file } : {}),
    line: issue.line,
    column: issue.column,
    message: secrets.redact(issue.message),
    ...(issue.step !== undefined ? { step: issue.step } : {}),
  };
}
