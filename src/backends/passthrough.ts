import type {
  Client,
  ClientCapabilities,
  CreateMessageResult,
  ElicitResult,
  ListRootsResult,
} from '@modelcontextprotocol/client';
import { type CallRequesters, takeRelatedId } from './call-routing.js';
import { CallTaggingHttpTransport } from './http-call-transport.js';
import type { BackendClientRequest, BackendNotification } from './types.js';

/**
 * What the gateway declares to every backend: exactly what it can forward to a client. Form-mode
 * elicitation only (URL mode would also need notifications/elicitation/complete passed back), and
 * roots without listChanged (a client's roots/list_changed is not relayed).
 */
export const BACKEND_CLIENT_CAPABILITIES: ClientCapabilities = {
  sampling: {},
  elicitation: { form: {} },
  roots: {},
};

export interface PassthroughHooks {
  server: string;
  requesters: CallRequesters;
  /** Called with each forwarded notification of this connection. */
  notify(notification: BackendNotification): void;
}

/**
 * Wires one backend Client for what the gateway passes through besides tools: the backend's requests
 * to the client (sampling, elicitation, roots) and its resource and prompt notifications. The Client
 * must have been created with {@link BACKEND_CLIENT_CAPABILITIES}.
 */
export function attachPassthrough(client: Client, hooks: PassthroughHooks): void {
  const forward = async (
    method: BackendClientRequest['method'],
    params: Record<string, unknown> | undefined,
    signal: AbortSignal,
  ): Promise<Record<string, unknown>> => {
    // The transport's mark of the call (see call-routing.ts) goes no further than here.
    const { relatedId, params: clean } = takeRelatedId(params);
    const transport = client.transport;
    // Only our HTTP transport tells which call a request belongs to; any other transport (stdio) cannot.
    const requester =
      transport instanceof CallTaggingHttpTransport
        ? hooks.requesters.related(hooks.server, method, transport, relatedId)
        : hooks.requesters.unrelated(hooks.server, method);
    return requester.request(
      { server: hooks.server, method, ...(clean ? { params: clean } : {}) },
      { signal },
    );
  };
  // The SDK Client checks each answer against the method's result schema before it goes back.
  client.setRequestHandler(
    'sampling/createMessage',
    async (request, ctx) =>
      (await forward('sampling/createMessage', request.params, ctx.mcpReq.signal)) as CreateMessageResult,
  );
  client.setRequestHandler(
    'elicitation/create',
    async (request, ctx) =>
      (await forward('elicitation/create', request.params, ctx.mcpReq.signal)) as ElicitResult,
  );
  client.setRequestHandler(
    'roots/list',
    async (request, ctx) =>
      (await forward('roots/list', request.params, ctx.mcpReq.signal)) as ListRootsResult,
  );
  client.setNotificationHandler('notifications/resources/list_changed', () =>
    hooks.notify({ kind: 'resourcesChanged' }),
  );
  client.setNotificationHandler('notifications/prompts/list_changed', () =>
    hooks.notify({ kind: 'promptsChanged' }),
  );
  client.setNotificationHandler('notifications/resources/updated', ({ params }) =>
    hooks.notify({ kind: 'resourceUpdated', uri: params.uri }),
  );
}
