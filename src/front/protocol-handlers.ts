import type { AuthInfo, Server, ServerCapabilities, ServerContext } from '@modelcontextprotocol/server';
import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';
import { type Access, callerLabel, callerOf } from '../auth/index.js';
import type { ClientRequester } from '../backends/index.js';
import { type BridgedMethod, bridgedRequest, type InputBridge } from '../bridge/index.js';
import { describeTarget } from './access-check.js';
import { isPartialList } from './aggregated-lists.js';
import { clientRequester } from './client-bridge.js';
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
  /** The era the session's client speaks: how what a backend asks during a request reaches it. */
  era?: 'legacy' | 'modern' | undefined;
  /** Parks a backend's asks for a 2026-07-28 client as input_required (src/bridge). */
  bridge?: InputBridge | undefined;
  /** What the caller of a request may use (`http.auth.rules`); everything without it. */
  access?: ((authInfo: AuthInfo | undefined) => Access) | undefined;
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
  const accessOf = (extra: ServerContext) => options.access?.(extra.http?.authInfo);
  // A read, get, completion or subscription the caller's rules do not allow is refused before it
  // reaches a backend, naming what and whom, as tools/call's ACCESS_DENIED does.
  const check = async (extra: ServerContext, kind: 'resource' | 'template' | 'prompt', key: string) => {
    const access = accessOf(extra);
    if (!access || access.unrestricted) return;
    const target = await hub.accessTarget(kind, key);
    if (!target || access.allows(target)) return;
    const who = callerLabel(callerOf(extra.http?.authInfo)) ?? 'this caller';
    throw new ProtocolError(
      ProtocolErrorCode.InvalidParams,
      `${describeTarget(target)} is not allowed for ${who}`,
      {
        code: 'ACCESS_DENIED',
      },
    );
  };
  // The hints as of when the list began to be built, not only when it is answered: a list built while
  // a backend connected lacks that backend, and must not be cached for LIST_TTL_MS because the
  // backend got ready meanwhile (a modern client would hold the list without it that long).
  const hinted = async <T extends object>(list: () => Promise<T>): Promise<T> => {
    const before = hints?.();
    const result = await list();
    const after = hints?.();
    const hint = before && after && before.ttlMs < after.ttlMs ? before : after;
    // A list missing a backend whose list failed is not to be kept either.
    return { ...result, ...(hint && isPartialList(result) ? { ...hint, ttlMs: 0 } : hint) };
  };
  server.setRequestHandler('resources/list', (req, extra) =>
    gated('resources/list', () => hinted(() => hub.listResources(req.params?.cursor, accessOf(extra)))),
  );
  server.setRequestHandler('resources/templates/list', (req, extra) =>
    gated('resources/templates/list', () =>
      hinted(() => hub.listTemplates(req.params?.cursor, accessOf(extra))),
    ),
  );
  // What a backend asks during prompts/get or resources/read reaches the client as during a tool call:
  // over the session for a 2025 client, as input_required for a 2026 one (through the bridge).
  const routed = <T>(
    method: BridgedMethod,
    name: string,
    args: unknown,
    extra: ServerContext,
    send: (route: { signal: AbortSignal; requester?: ClientRequester }) => Promise<T>,
  ): Promise<T> => {
    if (options.era === 'modern') {
      if (!options.bridge) return send({ signal: extra.mcpReq.signal });
      return bridgedRequest(options.bridge, {
        method,
        name,
        args,
        extra,
        start: (requester, signal) => send({ signal, requester }),
      }) as Promise<T>;
    }
    const requester = clientRequester(server, extra, options.bridge?.maxRounds);
    return send({ signal: extra.mcpReq.signal, requester });
  };
  server.setRequestHandler('resources/read', (req, extra) =>
    gated('resources/read', async () => {
      await check(extra, 'resource', req.params.uri);
      return routed('resources/read', req.params.uri, {}, extra, (route) =>
        hub.readResource(req.params, route),
      );
    }),
  );
  server.setRequestHandler('prompts/list', (req, extra) =>
    gated('prompts/list', () => hinted(() => hub.listPrompts(req.params?.cursor, accessOf(extra)))),
  );
  server.setRequestHandler('prompts/get', (req, extra) =>
    gated('prompts/get', async () => {
      await check(extra, 'prompt', req.params.name);
      return routed('prompts/get', req.params.name, req.params.arguments ?? {}, extra, (route) =>
        hub.getPrompt(req.params, route),
      );
    }),
  );
  server.setRequestHandler('completion/complete', (req, extra) =>
    gated('completion/complete', async () => {
      const ref = req.params.ref;
      await check(
        extra,
        ref.type === 'ref/prompt' ? 'prompt' : 'template',
        ref.type === 'ref/prompt' ? ref.name : ref.uri,
      );
      return hub.complete(req.params, extra.mcpReq.signal);
    }),
  );
  if (options.perRequest) return;
  // Subscriptions and the log level belong to a session (legacy, or a modern stdio connection).
  const session = hub.attach(server);
  server.setRequestHandler('resources/subscribe', (req, extra) =>
    gated('resources/subscribe', async () => {
      await check(extra, 'resource', req.params.uri);
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
