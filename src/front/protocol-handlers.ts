import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CompleteRequestSchema,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ReadResourceRequestSchema,
  type ServerCapabilities,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type { ProtocolHub } from './protocol-hub.js';
import type { RequestGate } from './request-gate.js';

/**
 * What the gateway declares besides tools. Fixed for the session, as MCP capabilities are: backends
 * come and go, so the gateway always serves these lists (empty when no backend has any), and a
 * request for a backend that lacks the capability fails with an error naming it.
 */
export const PROTOCOL_CAPABILITIES: ServerCapabilities = {
  resources: { subscribe: true, listChanged: true },
  prompts: { listChanged: true },
  completions: {},
  logging: {},
};

/** Serves resources, prompts, completions and logging on one session's server through the hub. */
export function serveProtocol(server: Server, hub: ProtocolHub, gate?: RequestGate): void {
  const session = hub.attach(server);
  // Each request through the gate, when there is one: shutdown waits for them and refuses new ones.
  const gated = <T>(what: string, fn: () => Promise<T>): Promise<T> => (gate ? gate.run(what, fn) : fn());
  server.setRequestHandler(ListResourcesRequestSchema, (req) =>
    gated('resources/list', () => hub.listResources(req.params?.cursor)),
  );
  server.setRequestHandler(ListResourceTemplatesRequestSchema, (req) =>
    gated('resources/templates/list', () => hub.listTemplates(req.params?.cursor)),
  );
  server.setRequestHandler(ReadResourceRequestSchema, (req, extra) =>
    gated('resources/read', () => hub.readResource(req.params, extra.signal)),
  );
  server.setRequestHandler(SubscribeRequestSchema, (req, extra) =>
    gated('resources/subscribe', async () => {
      await hub.subscribe(session, req.params.uri, extra.signal);
      return {};
    }),
  );
  server.setRequestHandler(UnsubscribeRequestSchema, async (req) => {
    await hub.unsubscribe(session, req.params.uri);
    return {};
  });
  server.setRequestHandler(ListPromptsRequestSchema, (req) =>
    gated('prompts/list', () => hub.listPrompts(req.params?.cursor)),
  );
  server.setRequestHandler(GetPromptRequestSchema, (req, extra) =>
    gated('prompts/get', () => hub.getPrompt(req.params, extra.signal)),
  );
  server.setRequestHandler(CompleteRequestSchema, (req, extra) =>
    gated('completion/complete', () => hub.complete(req.params, extra.signal)),
  );
  // Replaces the SDK's own handler: the level also goes to the backends, and the hub filters.
  server.setRequestHandler(SetLevelRequestSchema, async (req) => {
    await hub.setLevel(session, req.params.level);
    return {};
  });
  const previousOnClose = server.onclose;
  server.onclose = () => {
    hub.detach(session);
    previousOnClose?.();
  };
}
