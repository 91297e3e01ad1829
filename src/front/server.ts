import {
  type CallToolRequest,
  type CallToolResult,
  type Implementation,
  ProtocolError,
  ProtocolErrorCode,
  Server,
  type ServerContext,
  type ServerRequest,
} from '@modelcontextprotocol/server';
import { GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import { telemetry } from '../observability/index.js';
import { secrets } from '../secrets.js';
import { clientRequester } from './client-bridge.js';
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
  /** Caching hints put on list results for modern clients (legacy clients get none). */
  listHints?: () => ListHints;
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
  if (options.hub) serveProtocol(server, options.hub, { gate, hints, perRequest: options.perRequest });

  server.setRequestHandler('tools/list', async () => {
    await options.ready?.();
    return { tools: table.list(), ...hints?.() };
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
    const progressToken = request.params._meta?.progressToken;
    const ctx: CallContext = {
      signal: extra.mcpReq.signal,
      transport,
      era,
      trace,
      // A 2026-07-28 server cannot send requests to its client: what a backend asks during the call is
      // refused for now (no requester); bridging it as input_required is the next step.
      ...(options.hub && era === 'legacy' ? { requester: clientRequester(server, extra) } : {}),
      progress:
        progressToken === undefined
          ? undefined
          : (p) => {
              extra.mcpReq
                .notify({ method: 'notifications/progress', params: { progressToken, ...p } })
                .catch((err) => logger.debug(`progress for ${name} not delivered: ${String(err)}`));
            },
    };
    try {
      const result = await tool.call(request.params.arguments ?? {}, ctx);
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

/** The client info a 2026-07-28 request carries in its `_meta` envelope (no handshake gives it). */
function envelopeClientInfo(extra: ServerContext): Implementation | undefined {
  const envelope = extra.mcpReq.envelope as Record<string, unknown> | undefined;
  return envelope?.['io.modelcontextprotocol/clientInfo'] as Implementation | undefined;
}
