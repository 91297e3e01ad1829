import type { Server, ServerCapabilities } from '@modelcontextprotocol/server';
import type { ProtocolHub } from './protocol-hub.js';
import type { RequestGate } from './request-gate.js';
import type { ListHints } from './server.js';

export interface ServeProtocolOptions {
  /** Counts requests for shutdown's drain and refuses new ones once shutdown began. */
  gate?: RequestGate | undefined;
  /** Caching hints for list results (modern clients only). */
  hints?: (() => ListHints) | undefined;
  /** A server for one modern HTTP request: it holds no hub session (subscriptions, log level). */
  perRequest?: boolean | undefined;
}

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
export function serveProtocol(server: Server, hub: ProtocolHub, options: ServeProtocolOptions = {}): void {
  const { gate, hints } = options;
  // Each request through the gate, when there is one: shutdown waits for them and refuses new ones.
  const gated = <T>(what: string, fn: () => Promise<T>): Promise<T> => (gate ? gate.run(what, fn) : fn());
  const hinted = async <T extends object>(list: Promise<T>): Promise<T> => ({
    ...(await list),
    ...hints?.(),
  });
  server.setRequestHandler('resources/list', (req) =>
    gated('resources/list', () => hinted(hub.listResources(req.params?.cursor))),
  );
  server.setRequestHandler('resources/templates/list', (req) =>
    gated('resources/templates/list', () => hinted(hub.listTemplates(req.params?.cursor))),
  );
  server.setRequestHandler('resources/read', (req, extra) =>
    gated('resources/read', () => hub.readResource(req.params, extra.mcpReq.signal)),
  );
  server.setRequestHandler('prompts/list', (req) =>
    gated('prompts/list', () => hinted(hub.listPrompts(req.params?.cursor))),
  );
  server.setRequestHandler('prompts/get', (req, extra) =>
    gated('prompts/get', () => hub.getPrompt(req.params, extra.mcpReq.signal)),
  );
  server.setRequestHandler('completion/complete', (req, extra) =>
    gated('completion/complete', () => hub.complete(req.params, extra.mcpReq.signal)),
  );
  if (options.perRequest) return;
  // Subscriptions and the log level belong to a session (legacy, or a modern stdio connection).
  const session = hub.attach(server);
  server.setRequestHandler('resources/subscribe', (req, extra) =>
    gated('resources/subscribe', async () => {
      await hub.subscribe(session, req.params.uri, extra.mcpReq.signal);
      return {};
    }),
  );
  server.setRequestHandler('resources/unsubscribe', async (req) => {
    await hub.unsubscribe(session, req.params.uri);
    return {};
  });
  // Replaces the SDK's own handler: the level also goes to the backends, and the hub filters.
  server.setRequestHandler('logging/setLevel', async (req) => {
    await hub.setLevel(session, req.params.level);
    return {};
  });
  const previousOnClose = server.onclose;
  server.onclose = () => {
    hub.detach(session);
    previousOnClose?.();
  };
}
