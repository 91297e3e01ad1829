import {
  type AuthInfo,
  type CallToolRequest,
  type CallToolResult,
  type Implementation,
  LOG_LEVEL_META_KEY,
  type LoggingLevel,
  ProtocolError,
  ProtocolErrorCode,
  Server,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { type Access, callerLabel, callerOf } from '../auth/index.js';
import type { CallerCredential } from '../backends/index.js';
import { bridgedCall, type InputBridge } from '../bridge/index.js';
import { GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import { telemetry } from '../observability/index.js';
import { secrets } from '../secrets.js';
import { callTargets, describeTarget, listedTarget } from './access-check.js';
import { clientRequester } from './client-bridge.js';
import { LOGGING_LEVELS } from './log-levels.js';

import { PIPELINE_TOOL_PREFIX } from './naming.js';
import type { SessionTable } from './profile-table.js';
import { PROTOCOL_CAPABILITIES, serveProtocol } from './protocol-handlers.js';
import type { ProtocolHub } from './protocol-hub.js';
import type { RequestGate } from './request-gate.js';
import type { CallContext, FrontTransport, ProtocolEra, ServedTool } from './served-tool.js';
import { errorResult } from './served-tool.js';

export interface FrontServerOptions {
  /** The shared tool table, or a profile's view of it. */
  table: SessionTable;
  transport: FrontTransport;
  version: string;
  logger: Logger;
  /** Resources, prompts, completions, logging and backend-to-client requests; tools only without it. */
  hub?: ProtocolHub;
  /** Resolves when tools/list may answer: the startup grace (see startup-grace.ts) is over. */
  ready?: () => Promise<void>;
  /** Counts requests in flight for shutdown's drain, and refuses new ones once shutdown began. */
  gate?: RequestGate;
  /** The era this server speaks; default legacy. */
  era?: ProtocolEra;
  /**
   * Whether the server lives for one request only (modern HTTP): it then neither joins the hub's
   * sessions nor listens for table changes — the HTTP front tells listening clients of changes itself.
   */
  perRequest?: boolean;
  /**
   * Parks what a backend asks during a modern client's call and hands it to the client as
   * input_required (src/bridge); without it such requests are refused.
   */
  bridge?: InputBridge;
  /** Caching hints put on list results for modern clients (legacy clients get none). */
  listHints?: () => ListHints;
  /** What the caller of a request may use (`http.auth.rules`); everything without it. */
  access?: (authInfo: AuthInfo | undefined) => Access;
}

/** `ttlMs` / `cacheScope` of a 2026-07-28 list result. */
export interface ListHints {
  ttlMs: number;
  cacheScope: 'private' | 'public';
}

const INSTRUCTIONS =
  'mcp-gateway: one endpoint for many MCP servers. Backend tools are served as <server>__<tool>; ' +
  'list_servers shows the backends, call_backend calls any of their tools, route_pipeline runs a ' +
  'declarative multi-step pipeline (list_pipelines shows them). Backend prompts are served as ' +
  '<server>__<prompt>, backend resources as mcpgw://<server>/<the backend URI>.';

/**
 * One MCP server as one client session sees it. Sessions share the tool table; each has its own SDK
 * Server because an SDK Server speaks over exactly one transport.
 */
export function createFrontServer(options: FrontServerOptions): Server {
  const { table, transport, logger } = options;
  const era = options.era ?? 'legacy';
  const hints = era === 'modern' ? options.listHints : undefined;
  const server = new Server(
    { name: 'mcp-gateway', version: options.version },
    {
      capabilities: {
        tools: { listChanged: true },
        logging: {},
        ...(options.hub ? PROTOCOL_CAPABILITIES : {}),
      },
      instructions: INSTRUCTIONS,
    },
  );
  const gate = options.gate;
  if (options.hub) {
    const { perRequest, bridge, access } = options;
    serveProtocol(server, options.hub, { gate, hints, perRequest, era, bridge, access });
  }

  server.setRequestHandler('tools/list', async (_request, extra) => {
    await options.ready?.();
    const access = options.access?.(extra.http?.authInfo);
    const tools = table.list();
    if (!access || access.unrestricted) return { tools, ...hints?.() };
    const allowed = tools.filter((t) => {
      const served = table.get(t.name);
      return served !== undefined && access.allows(listedTarget(t.name, served));
    });
    return { tools: allowed, ...hints?.() };
  });

  server.setRequestHandler('tools/call', (request, extra) =>
    telemetry.toolCall(
      {
        tool: request.params.name,
        args: request.params.arguments,
        meta: request.params._meta,
        headers: extra.http?.req?.headers,
        session: extra.sessionId,
        transport,
        client: server.getClientVersion() ?? envelopeClientInfo(extra),
        caller: callerLabel(callerOf(extra.http?.authInfo)),
      },
      (trace) =>
        gate
          ? gate.run('tools/call', () => callTool(request, extra, trace))
          : callTool(request, extra, trace),
    ),
  );

  async function callTool(
    request: CallToolRequest,
    extra: ServerContext,
    trace: unknown,
  ): Promise<CallToolResult> {
    const { name } = request.params;
    const tool = await table.resolve(name, extra.mcpReq.signal);
    if (!tool) {
      throw new ProtocolError(
        ProtocolErrorCode.InvalidParams,
        `Unknown tool: ${name}. tools/list shows the tools served.`,
      );
    }
    const access = options.access?.(extra.http?.authInfo);
    if (access && !access.unrestricted) {
      const targets = callTargets(name, tool, request.params.arguments);
      // Search mode's call_tool reaches the tool it names: the rules must allow that one too.
      const inner = request.params.arguments?.name;
      const reached = tool.backend === undefined && typeof inner === 'string' && table.searchTarget?.(inner);
      if (name === 'call_tool' && reached) {
        const innerArgs = request.params.arguments?.arguments;
        targets.push(...callTargets(inner as string, reached, innerArgs));
      }
      const denied = targets.find((t) => !access.allows(t));
      if (denied) {
        const who = callerLabel(callerOf(extra.http?.authInfo)) ?? 'this caller';
        logger.info(`refused ${name} to ${who}: ${describeTarget(denied)} is not allowed`);
        return errorResult(`${name}: ${describeTarget(denied)} is not allowed for ${who}`, {
          code: 'ACCESS_DENIED',
        });
      }
    }
    const progressToken = request.params._meta?.progressToken;
    const progressTo =
      (ctx: ServerContext) =>
      (p: { progress: number; total?: number; message?: string }): void => {
        ctx.mcpReq
          .notify({ method: 'notifications/progress', params: { progressToken, ...p } })
          .catch((err) => logger.debug(`progress for ${name} not delivered: ${String(err)}`));
      };
    // A 2026-07-28 request asks for log messages in its `_meta`; there is no session level to set.
    const logLevel = era === 'modern' ? requestLogLevel(extra) : undefined;
    const ctx: CallContext = {
      signal: extra.mcpReq.signal,
      transport,
      era,
      trace,
      ...(logLevel ? { logLevel } : {}),
      ...credentialOf(extra.http?.authInfo),
      // Only a restricted caller's: the tools that list tools then leave out what it may not see.
      ...(access && !access.unrestricted ? { access } : {}),
      ...(options.hub && era === 'legacy'
        ? { requester: clientRequester(server, extra, options.bridge?.maxRounds) }
        : {}),
      progress: progressToken === undefined ? undefined : progressTo(extra),
    };
    const args = request.params.arguments ?? {};
    // A 2026-07-28 client cannot be sent requests: what a backend asks during its call is parked and
    // handed to it as input_required (src/bridge); without a bridge it is refused.
    const bridge = options.hub && era === 'modern' ? options.bridge : undefined;
    const run = (): Promise<object> =>
      bridge
        ? bridgedCall(bridge, {
            name,
            args,
            extra,
            progress: ctx.progress,
            start: (requester, signal, progress) =>
              tool.call(args, { ...ctx, signal, requester, ...(ctx.progress ? { progress } : {}) }),
          })
        : tool.call(args, ctx);
    // The backend's log messages during the call go on this request's stream, at or above its level.
    const untap =
      logLevel && tool.backend !== undefined && options.hub
        ? await options.hub.tapLogs(tool.backend, logLevel, (params) => {
            extra.mcpReq
              .notify({ method: 'notifications/message', params })
              .catch((err) => logger.debug(`a log message for ${name} not delivered: ${String(err)}`));
          })
        : undefined;
    try {
      const outcome = await run();
      // The backend asked for input: the client answers and retries (src/bridge).
      if (isInputRequired(outcome)) return outcome as CallToolResult;
      const result = outcome as CallToolResult;
      // A backend's result, and a pipeline's output, are data and go back unchanged; what the gateway
      // says itself (list_servers, register_server, a failed run's report) never shows a secret.
      return isData(name, tool, result) ? result : secrets.redactDeep(result);
    } catch (err) {
      // The gateway's own failures are tool failures the model can read and act on; an ProtocolError from a
      // backend is that backend's protocol answer and crosses the wire unchanged.
      if (err instanceof GatewayError) {
        const data = secrets.redactDeep({ code: err.code, ...safeData(err.data) });
        return errorResult(secrets.redact(err.message), data);
      }
      if (err instanceof ProtocolError) throw err;
      logger.error(
        `tool ${name} failed unexpectedly: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
        telemetry.logFields(trace),
      );
      return errorResult(
        secrets.redact(`${name} failed: ${err instanceof Error ? err.message : String(err)}`),
      );
    } finally {
      untap?.();
    }
  }

  if (options.perRequest) return server;
  const onChanged = () => {
    server.sendToolListChanged().catch(() => {
      // Not connected yet or already closed: nothing to tell.
    });
  };
  table.on('changed', onChanged);
  const previousOnClose = server.onclose;
  server.onclose = () => {
    table.off('changed', onChanged);
    previousOnClose?.();
  };
  return server;
}

/**
 * Whether a successful result is data rather than the gateway's own words (see secrets.ts): a
 * backend tool's result (and call_backend's, which returns it unchanged), and a pipeline run that
 * succeeded (its output is made of backend results). A failed run's report carries the gateway's
 * error messages: not data.
 */
function isData(name: string, served: ServedTool, result: CallToolResult): boolean {
  if (served.backend !== undefined || name === 'call_backend') return true;
  if (name === 'route_pipeline' || name.startsWith(PIPELINE_TOOL_PREFIX)) return result.isError !== true;
  return false;
}

/** Error data that is JSON and small: drop anything that is not plain data. */
function safeData(data: Record<string, unknown>): Record<string, unknown> {
  try {
    return JSON.parse(JSON.stringify(data)) as Record<string, unknown>;
  } catch {
    return {};
  }
}

function isInputRequired(result: object): boolean {
  return (result as { resultType?: unknown }).resultType === 'input_required';
}

/** The log level a 2026-07-28 request asks for in its `_meta` envelope, if a valid one. */
function requestLogLevel(extra: ServerContext): LoggingLevel | undefined {
  const envelope = extra.mcpReq.envelope as Record<string, unknown> | undefined;
  const level = envelope?.[LOG_LEVEL_META_KEY];
  return typeof level === 'string' && LOGGING_LEVELS.includes(level as LoggingLevel)
    ? (level as LoggingLevel)
    : undefined;
}

/** The client info a 2026-07-28 request carries in its `_meta` envelope (no handshake gives it). */
function envelopeClientInfo(extra: ServerContext): Implementation | undefined {
  const envelope = extra.mcpReq.envelope as Record<string, unknown> | undefined;
  return envelope?.['io.modelcontextprotocol/clientInfo'] as Implementation | undefined;
}

/** The caller's OAuth token and its audience, for backends marked `forward_caller_token`. */
function credentialOf(authInfo: AuthInfo | undefined): { credential?: CallerCredential } {
  const caller = callerOf(authInfo);
  if (!authInfo || caller?.kind !== 'oauth') return {};
  return { credential: { token: authInfo.token, audience: caller.audience ?? [] } };
}
