import {
  CreateMessageResultSchema,
  CreateMessageResultWithToolsSchema,
  ElicitResultSchema,
  ListRootsResultSchema,
} from '@modelcontextprotocol/core';
import type { Server } from '@modelcontextprotocol/server';
import {
  ProtocolError,
  ProtocolErrorCode,
  type ServerContext,
  type ServerRequest,
} from '@modelcontextprotocol/server';
import type { ClientRequester } from '../backends/index.js';
import { missingCapability } from '../bridge/index.js';

/**
 * How long the gateway waits for a client to answer a forwarded request. A person may be answering
 * an elicitation; the backend's own timeout (and its cancellation, which is passed on) usually ends
 * the wait first.
 */
export const FORWARDED_REQUEST_TIMEOUT_MS = 10 * 60_000;

/**
 * The requester for one tools/call: forwards a backend's sampling, elicitation and roots requests to
 * the client that made the call, as part of that call (over HTTP on the call's own response stream),
 * and refuses them with an ProtocolError when that client did not declare the capability. Each session has
 * its own SDK Server, so the Server is the session's identity.
 */
export function clientRequester(
  server: Server,
  extra: ServerContext,
  maxInputRounds?: number,
): ClientRequester {
  const request: ClientRequester['request'] = async (request, { signal }) => {
    const missing = missingCapability(request, server.getClientCapabilities());
    if (missing) {
      throw new ProtocolError(
        ProtocolErrorCode.InvalidRequest,
        `mcp-gateway: server '${request.server}' sent ${request.method}, but the client that made this tool call did not declare the '${missing}' capability; nothing was forwarded`,
        { server: request.server, method: request.method, capability: missing },
      );
    }
    const outgoing = { method: request.method, params: request.params ?? {} } as ServerRequest;
    const options = { signal, timeout: FORWARDED_REQUEST_TIMEOUT_MS };
    switch (request.method) {
      case 'sampling/createMessage':
        return request.params?.tools === undefined
          ? extra.mcpReq.send(outgoing, CreateMessageResultSchema, options)
          : extra.mcpReq.send(outgoing, CreateMessageResultWithToolsSchema, options);
      case 'elicitation/create':
        return extra.mcpReq.send(outgoing, ElicitResultSchema, options);
      case 'roots/list':
        return extra.mcpReq.send(outgoing, ListRootsResultSchema, options);
    }
  };
  const capabilities = server.getClientCapabilities();
  return {
    session: server,
    request,
    ...(maxInputRounds !== undefined ? { maxInputRounds } : {}),
    ...(capabilities ? { capabilities } : {}),
  };
}
