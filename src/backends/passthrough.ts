import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  type ClientCapabilities,
  CreateMessageRequestSchema,
  type CreateMessageResult,
  ElicitRequestSchema,
  type ElicitResult,
  ErrorCode,
  ListRootsRequestSchema,
  type ListRootsResult,
  McpError,
  PromptListChangedNotificationSchema,
  ResourceListChangedNotificationSchema,
  ResourceUpdatedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type { BackendClientRequest, BackendNotification, ClientRequester } from './types.js';

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

/**
 * The requesters of a backend's calls in flight, newest last. A request a backend sends to the client
 * carries nothing that ties it to a call (over stdio there is no such field at all), so it goes to the
 * session of the most recently started call still running; it is refused when no call is running or
 * that call has no client to ask (a pipeline step).
 */
export class RequesterStack {
  private readonly entries: { requester: ClientRequester | undefined }[] = [];

  /** Adds the requester of a call that starts; the returned function removes it when the call ends. */
  push(requester: ClientRequester | undefined): () => void {
    const entry = { requester };
    this.entries.push(entry);
    return () => {
      const at = this.entries.indexOf(entry);
      if (at >= 0) this.entries.splice(at, 1);
    };
  }

  current(): ClientRequester | undefined {
    return this.entries.at(-1)?.requester;
  }
}

export interface PassthroughHooks {
  server: string;
  requesters: RequesterStack;
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
    const requester = hooks.requesters.current();
    if (!requester) {
      throw new McpError(
        ErrorCode.InvalidRequest,
        `mcp-gateway: ${method} from server '${hooks.server}' came while no tool call of a client was running on it (or the latest call was a pipeline step); the gateway forwards such requests only to the client whose call is running`,
      );
    }
    return requester({ server: hooks.server, method, ...(params ? { params } : {}) }, { signal });
  };
  // The SDK Client checks each answer against the method's result schema before it goes back.
  client.setRequestHandler(
    CreateMessageRequestSchema,
    async (request, extra) =>
      (await forward('sampling/createMessage', request.params, extra.signal)) as CreateMessageResult,
  );
  client.setRequestHandler(
    ElicitRequestSchema,
    async (request, extra) =>
      (await forward('elicitation/create', request.params, extra.signal)) as ElicitResult,
  );
  client.setRequestHandler(
    ListRootsRequestSchema,
    async (request, extra) => (await forward('roots/list', request.params, extra.signal)) as ListRootsResult,
  );
  client.setNotificationHandler(ResourceListChangedNotificationSchema, () =>
    hooks.notify({ kind: 'resourcesChanged' }),
  );
  client.setNotificationHandler(PromptListChangedNotificationSchema, () =>
    hooks.notify({ kind: 'promptsChanged' }),
  );
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, ({ params }) =>
    hooks.notify({ kind: 'resourceUpdated', uri: params.uri }),
  );
}
