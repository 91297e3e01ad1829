import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  type CallToolRequest,
  CallToolRequestSchema,
  type CallToolResult,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type ServerNotification,
  type ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';
import { GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import { telemetry } from '../observability/index.js';
import { secrets } from '../secrets.js';
import { clientRequester } from './client-bridge.js';
import { NAMESPACE_SEPARATOR, PIPELINE_TOOL_PREFIX } from './naming.js';
import { PROTOCOL_CAPABILITIES, serveProtocol } from './protocol-handlers.js';
import type { ProtocolHub } from './protocol-hub.js';
import type { RequestGate } from './request-gate.js';
import type { CallContext, FrontTransport } from './served-tool.js';
import { errorResult } from './served-tool.js';
import type { ToolTable } from './tool-table.js';

export interface FrontServerOptions {
  table: ToolTable;
  transport: FrontTransport;
  version: string;
  logger: Logger;
  /** Resources, prompts, completions, logging and backend-to-client requests; tools only without it. */
  hub?: ProtocolHub;
  /** Resolves when tools/list may answer: the startup grace (see startup-grace.ts) is over. */
  ready?: () => Promise<void>;
  /** Counts requests in flight for shutdown's drain, and refuses new ones once shutdown began. */
  gate?: RequestGate;
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
  if (options.hub) serveProtocol(server, options.hub, gate);

  server.setRequestHandler(ListToolsRequestSchema, async () => {
    await options.ready?.();
    return { tools: table.list() };
  });

  server.setRequestHandler(CallToolRequestSchema, (request, extra) =>
    telemetry.toolCall(
      {
        tool: request.params.name,
        args: request.params.arguments,
        meta: request.params._meta,
        headers: extra.requestInfo?.headers,
        session: extra.sessionId,
        transport,
        client: server.getClientVersion(),
      },
      (trace) =>
        gate
          ? gate.run('tools/call', () => callTool(request, extra, trace))
          : callTool(request, extra, trace),
    ),
  );

  async function callTool(
    request: CallToolRequest,
    extra: RequestHandlerExtra<ServerRequest, ServerNotification>,
    trace: unknown,
  ): Promise<CallToolResult> {
    const { name } = request.params;
    const tool = await table.resolve(name, extra.signal);
    if (!tool) {
      throw new McpError(
        ErrorCode.InvalidParams,
        `Unknown tool: ${name}. tools/list shows the tools served.`,
      );
    }
    const progressToken = request.params._meta?.progressToken;
    const ctx: CallContext = {
      signal: extra.signal,
      transport,
      trace,
      ...(options.hub ? { requester: clientRequester(server, extra) } : {}),
      progress:
        progressToken === undefined
          ? undefined
          : (p) => {
              extra
                .sendNotification({ method: 'notifications/progress', params: { progressToken, ...p } })
                .catch((err) => logger.debug(`progress for ${name} not delivered: ${String(err)}`));
            },
    };
    try {
      const result = await tool.call(request.params.arguments ?? {}, ctx);
      // A backend's result, and a pipeline's output, are data and go back unchanged; what the gateway
      // says itself (list_servers, register_server, a failed run's report) never shows a secret.
      return isData(name, result) ? result : secrets.redactDeep(result);
    } catch (err) {
      // The gateway's own failures are tool failures the model can read and act on; an McpError from a
      // backend is that backend's protocol answer and crosses the wire unchanged.
      if (err instanceof GatewayError) {
        const data = secrets.redactDeep({ code: err.code, ...safeData(err.data) });
        return errorResult(secrets.redact(err.message), data);
      }
      if (err instanceof McpError) throw err;
      logger.error(
        `tool ${name} failed unexpectedly: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
        telemetry.logFields(trace),
      );
      return errorResult(
        secrets.redact(`${name} failed: ${err instanceof Error ? err.message : String(err)}`),
      );
    }
  }

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
 * backend's result (`<server>__<tool>`, where server names hold no "__" and "pipeline" is reserved,
 * and call_backend, which returns it unchanged), and a pipeline run that succeeded (its output is
 * made of backend results). A failed run's report carries the gateway's error messages: not data.
 */
function isData(tool: string, result: CallToolResult): boolean {
  if (tool === 'call_backend') return true;
  if (tool === 'route_pipeline' || tool.startsWith(PIPELINE_TOOL_PREFIX)) return result.isError !== true;
  return tool.includes(NAMESPACE_SEPARATOR);
}

/** Error data that is JSON and small: drop anything that is not plain data. */
function safeData(data: Record<string, unknown>): Record<string, unknown> {
  try {
    return JSON.parse(JSON.stringify(data)) as Record<string, unknown>;
  } catch {
    return {};
  }
}
