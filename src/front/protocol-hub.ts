import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  type CompleteRequest,
  type CompleteResult,
  CompleteResultSchema,
  ErrorCode,
  type GetPromptRequest,
  type GetPromptResult,
  GetPromptResultSchema,
  ListPromptsResultSchema,
  ListResourcesResultSchema,
  ListResourceTemplatesResultSchema,
  type LoggingLevel,
  McpError,
  type Prompt,
  type ReadResourceRequest,
  type ReadResourceResult,
  ReadResourceResultSchema,
  type Resource,
  type ResourceTemplate,
  ResultSchema,
  type ServerCapabilities,
  type ServerNotification,
} from '@modelcontextprotocol/sdk/types.js';
import type { BackendNotification, BackendRegistry, BackendStatus } from '../backends/index.js';
import { errorMessage, GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import { backendToolName } from './naming.js';
import { collectPages, PAGE_SIZE, paginate } from './paging.js';
import { gatewayUri, parseGatewayUri, parseNamespaced } from './resource-uri.js';

/** One client session as the hub sees it. */
export interface HubSession {
  readonly server: Server;
  /** Gateway URIs this session subscribed to. */
  readonly subscriptions: Set<string>;
  /**
   * Set by the client's logging/setLevel. Unset, the session gets no backend log messages: with many
   * backends behind one endpoint, a client that never asked for logs is not flooded with them.
   */
  logLevel: LoggingLevel | undefined;
}

export interface ProtocolHubOptions {
  registry: BackendRegistry;
  logger: Logger;
  pageSize?: number;
}

type ListKind = 'resources' | 'templates' | 'prompts';
type Capability = 'resources' | 'prompts' | 'completions' | 'subscribe' | 'logging';

const LEVELS: readonly LoggingLevel[] = [
  'debug',
  'info',
  'notice',
  'warning',
  'error',
  'critical',
  'alert',
  'emergency',
];

/**
 * Everything of MCP besides tools, aggregated over the backends and shared by every client session:
 * resources, resource templates and prompts (listed from every ready backend, cached until a backend
 * says its list changed or a backend comes or goes), reads, subscriptions, prompt gets, completions,
 * and logging in both directions. Names and URIs map back to backends as resource-uri.ts describes.
 */
export class ProtocolHub {
  private readonly registry: BackendRegistry;
  private readonly logger: Logger;
  private readonly pageSize: number;
  private readonly sessions = new Set<HubSession>();
  private readonly lists = new Map<ListKind, Promise<unknown[]>>();
  /** Sessions subscribed to each gateway URI; the backend is subscribed while this is not empty. */
  private readonly subscribers = new Map<string, Set<HubSession>>();
  /** The most verbose level any session asked for: what the backends are set to. */
  private backendLevel: LoggingLevel | undefined;
  /** Capabilities each backend declared when last ready, to know what its going away changes. */
  private readonly declared = new Map<string, ServerCapabilities>();
  private readonly offRegistry: () => void;

  constructor(options: ProtocolHubOptions) {
    this.registry = options.registry;
    this.logger = options.logger;
    this.pageSize = options.pageSize ?? PAGE_SIZE;
    const onNotification = (server: string, n: BackendNotification) => this.onNotification(server, n);
    const onStatus = (server: string, status: BackendStatus) => this.onStatus(server, status);
    this.registry.on('notification', onNotification);
    this.registry.on('status', onStatus);
    this.offRegistry = () => {
      this.registry.off('notification', onNotification);
      this.registry.off('status', onStatus);
    };
  }

  attach(server: Server): HubSession {
    const session: HubSession = { server, subscriptions: new Set(), logLevel: undefined };
    this.sessions.add(session);
    return session;
  }

  /** The session ended: drop its subscriptions (unsubscribing backends nobody else watches). */
  detach(session: HubSession): void {
    this.sessions.delete(session);
    for (const uri of [...session.subscriptions]) void this.unsubscribe(session, uri);
    if (session.logLevel !== undefined) void this.applyLevel();
  }

  close(): void {
    this.offRegistry();
    this.sessions.clear();
    this.subscribers.clear();
  }

  // ── lists ────────────────────────────────────────────────────────────────

  async listResources(cursor: string | undefined): Promise<{ resources: Resource[]; nextCursor?: string }> {
    const { items, nextCursor } = paginate(await this.allResources(), cursor, this.pageSize);
    return { resources: items, ...(nextCursor ? { nextCursor } : {}) };
  }

  private allResources(): Promise<Resource[]> {
    return this.cached('resources', () =>
      this.fromBackends('resources', 'resources/list', async (client, server, cursor, timeout) => {
        const page = await client.request(
          { method: 'resources/list', params: cursor === undefined ? {} : { cursor } },
          ListResourcesResultSchema,
          { timeout },
        );
        const items = page.resources.map((r) => ({ ...r, uri: gatewayUri(server, r.uri) }));
        return { items, nextCursor: page.nextCursor };
      }),
    );
  }

  async listTemplates(
    cursor: string | undefined,
  ): Promise<{ resourceTemplates: ResourceTemplate[]; nextCursor?: string }> {
    const all = await this.cached('templates', () =>
      this.fromBackends('resources', 'resources/templates/list', async (client, server, cursor, timeout) => {
        const page = await client.request(
          { method: 'resources/templates/list', params: cursor === undefined ? {} : { cursor } },
          ListResourceTemplatesResultSchema,
          { timeout },
        );
        const items = page.resourceTemplates.map((t) => ({
          ...t,
          uriTemplate: gatewayUri(server, t.uriTemplate),
        }));
        return { items, nextCursor: page.nextCursor };
      }),
    );
    const { items, nextCursor } = paginate(all, cursor, this.pageSize);
    return { resourceTemplates: items, ...(nextCursor ? { nextCursor } : {}) };
  }

  async listPrompts(cursor: string | undefined): Promise<{ prompts: Prompt[]; nextCursor?: string }> {
    const all = await this.cached('prompts', () =>
      this.fromBackends('prompts', 'prompts/list', async (client, server, cursor, timeout) => {
        const page = await client.request(
          { method: 'prompts/list', params: cursor === undefined ? {} : { cursor } },
          ListPromptsResultSchema,
          { timeout },
        );
        const items = page.prompts.map((p) => ({ ...p, name: backendToolName(server, p.name) }));
        return { items, nextCursor: page.nextCursor };
      }),
    );
    const { items, nextCursor } = paginate(all, cursor, this.pageSize);
    return { prompts: items, ...(nextCursor ? { nextCursor } : {}) };
  }

  /** The list of `kind` from the cache, built once per change; a build that missed a backend is not kept. */
  private async cached<T>(kind: ListKind, build: () => Promise<{ items: T[]; complete: boolean }>) {
    let pending = this.lists.get(kind) as Promise<T[]> | undefined;
    if (!pending) {
      const building = build();
      pending = building.then((r) => r.items);
      this.lists.set(kind, pending);
      void building.then(
        (r) => {
          if (!r.complete && this.lists.get(kind) === pending) this.lists.delete(kind);
        },
        () => this.lists.delete(kind),
      );
    }
    return pending;
  }

  private invalidate(...kinds: ListKind[]): void {
    for (const kind of kinds) this.lists.delete(kind);
  }

  /**
   * Every page of one list from every ready backend that declared `capability`, in the registry's
   * order. A backend that fails is left out (and logged) so one bad backend does not hide the rest.
   */
  private async fromBackends<T>(
    capability: 'resources' | 'prompts',
    method: string,
    fetchPage: (
      client: Client,
      server: string,
      cursor: string | undefined,
      timeout: number,
    ) => Promise<{ items: T[]; nextCursor?: string | undefined }>,
  ): Promise<{ items: T[]; complete: boolean }> {
    let complete = true;
    const perServer = await Promise.all(
      this.registry.names().map(async (server) => {
        const backend = this.registry.get(server);
        if (!backend?.capabilities()?.[capability]) return [];
        try {
          return await backend.request(method, ({ client }) =>
            collectPages(
              (cursor) => fetchPage(client, server, cursor, backend.timeoutMs),
              `${server} ${method}`,
            ),
          );
        } catch (err) {
          // A backend declaring resources may still not implement templates.
          if (err instanceof McpError && err.code === ErrorCode.MethodNotFound) return [];
          complete = false;
          this.logger.warn(`${method} of server '${server}' failed: ${errorMessage(err)}`);
          return [];
        }
      }),
    );
    return { items: perServer.flat(), complete };
  }

  // ── requests routed to one backend ───────────────────────────────────────

  async readResource(
    params: ReadResourceRequest['params'],
    signal: AbortSignal,
  ): Promise<ReadResourceResult> {
    const target = await this.resolveUri(params.uri);
    const result = await this.via(target.server, 'resources', 'resources/read', signal, (client, options) =>
      client.request(
        { method: 'resources/read', params: { ...params, uri: target.uri } },
        ReadResourceResultSchema,
        options,
      ),
    );
    return {
      ...result,
      contents: result.contents.map((c) => ({ ...c, uri: gatewayUri(target.server, c.uri) })),
    };
  }

  async getPrompt(params: GetPromptRequest['params'], signal: AbortSignal): Promise<GetPromptResult> {
    const target = parseNamespaced(params.name);
    if (!target) {
      throw new McpError(
        ErrorCode.InvalidParams,
        `Unknown prompt: ${params.name}. Prompts are served as <server>__<prompt>; prompts/list shows them.`,
      );
    }
    const result = await this.via(target.server, 'prompts', 'prompts/get', signal, (client, options) =>
      client.request(
        { method: 'prompts/get', params: { ...params, name: target.name } },
        GetPromptResultSchema,
        options,
      ),
    );
    // Resources embedded in (or linked from) the messages get their gateway URIs, so they can be read.
    const messages = result.messages.map((m) => {
      const c = m.content;
      if (c.type === 'resource')
        return {
          ...m,
          content: { ...c, resource: { ...c.resource, uri: gatewayUri(target.server, c.resource.uri) } },
        };
      if (c.type === 'resource_link')
        return { ...m, content: { ...c, uri: gatewayUri(target.server, c.uri) } };
      return m;
    });
    return { ...result, messages };
  }

  async complete(params: CompleteRequest['params'], signal: AbortSignal): Promise<CompleteResult> {
    const ref = params.ref;
    let server: string;
    let backendRef: CompleteRequest['params']['ref'];
    if (ref.type === 'ref/prompt') {
      const target = parseNamespaced(ref.name);
      if (!target) throw new McpError(ErrorCode.InvalidParams, `Unknown prompt: ${ref.name}`);
      server = target.server;
      backendRef = { ...ref, name: target.name };
    } else {
      const target = parseGatewayUri(ref.uri);
      if (!target) {
        throw new McpError(
          ErrorCode.InvalidParams,
          `Unknown resource template: ${ref.uri}. Templates are served as mcpgw://<server>/<template>; resources/templates/list shows them.`,
        );
      }
      server = target.server;
      backendRef = { ...ref, uri: target.uri };
    }
    return this.via(server, 'completions', 'completion/complete', signal, (client, options) =>
      client.request(
        { method: 'completion/complete', params: { ...params, ref: backendRef } },
        CompleteResultSchema,
        options,
      ),
    );
  }

  async subscribe(session: HubSession, uri: string, signal: AbortSignal): Promise<void> {
    const target = await this.resolveUri(uri);
    const key = gatewayUri(target.server, target.uri);
    if (!this.subscribers.get(key)?.size) {
      await this.via(target.server, 'subscribe', 'resources/subscribe', signal, (client, options) =>
        client.request({ method: 'resources/subscribe', params: { uri: target.uri } }, ResultSchema, options),
      );
    }
    let set = this.subscribers.get(key);
    if (!set) {
      set = new Set();
      this.subscribers.set(key, set);
    }
    set.add(session);
    session.subscriptions.add(key);
  }

  /** Never fails for the client: a backend that is gone has nothing left to unsubscribe. */
  async unsubscribe(session: HubSession, uri: string): Promise<void> {
    const target = parseGatewayUri(uri);
    if (!target) return;
    const key = gatewayUri(target.server, target.uri);
    session.subscriptions.delete(key);
    const set = this.subscribers.get(key);
    if (!set?.delete(session) || set.size > 0) return;
    this.subscribers.delete(key);
    const backend = this.registry.get(target.server);
    if (!backend?.capabilities()?.resources?.subscribe) return;
    try {
      await backend.request('resources/unsubscribe', ({ client, timeoutMs }) =>
        client.request({ method: 'resources/unsubscribe', params: { uri: target.uri } }, ResultSchema, {
          timeout: timeoutMs,
        }),
      );
    } catch (err) {
      this.logger.debug(`unsubscribing ${uri} failed: ${errorMessage(err)}`);
    }
  }

  /**
   * Records the session's level and sets every backend to the most verbose level any session asked
   * for; each session then gets only the messages at or above its own level.
   */
  async setLevel(session: HubSession, level: LoggingLevel): Promise<void> {
    session.logLevel = level;
    await this.applyLevel();
  }

  /** Sets the backends to the most verbose level a session wants, when that changed. */
  private async applyLevel(): Promise<void> {
    const wanted = this.wantedLevel();
    if (wanted === undefined || wanted === this.backendLevel) return;
    this.backendLevel = wanted;
    await Promise.all(this.registry.names().map((server) => this.sendLevel(server, wanted)));
  }

  private wantedLevel(): LoggingLevel | undefined {
    let min: number | undefined;
    for (const s of this.sessions) {
      if (s.logLevel === undefined) continue;
      const at = LEVELS.indexOf(s.logLevel);
      if (min === undefined || at < min) min = at;
    }
    return min === undefined ? undefined : LEVELS[min];
  }

  private async sendLevel(server: string, level: LoggingLevel): Promise<void> {
    const backend = this.registry.get(server);
    if (!backend?.capabilities()?.logging) return;
    try {
      await backend.request('logging/setLevel', ({ client, timeoutMs }) =>
        client.request({ method: 'logging/setLevel', params: { level } }, ResultSchema, {
          timeout: timeoutMs,
        }),
      );
    } catch (err) {
      this.logger.warn(`logging/setLevel on server '${server}' failed: ${errorMessage(err)}`);
    }
  }

  /** A gateway URI, or a backend's own URI that exactly one backend lists (as in a tool's resource link). */
  private async resolveUri(uri: string): Promise<{ server: string; uri: string }> {
    const parsed = parseGatewayUri(uri);
    if (parsed) return parsed;
    const matches = (await this.allResources())
      .map((r) => parseGatewayUri(r.uri))
      .filter((t): t is { server: string; uri: string } => t?.uri === uri);
    const servers = [...new Set(matches.map((m) => m.server))];
    if (servers.length === 1 && matches[0]) return matches[0];
    throw new McpError(
      ErrorCode.InvalidParams,
      servers.length > 1
        ? `Resource ${uri} is served by several backends (${servers.join(', ')}); use mcpgw://<server>/${uri}`
        : `Unknown resource: ${uri}. Resources are served as mcpgw://<server>/<uri>; resources/list shows them.`,
    );
  }

  /**
   * Runs `fn` on backend `server` as one of its requests in flight (a reload's or remove's drain waits
   * for it), once the backend is ready and has declared `capability`; errors are clear McpErrors.
   */
  private async via<T>(
    server: string,
    capability: Capability,
    method: string,
    signal: AbortSignal,
    fn: (client: Client, options: { signal: AbortSignal; timeout: number }) => Promise<T>,
  ): Promise<T> {
    const backend = this.registry.get(server);
    if (!backend) {
      const names = this.registry.names();
      throw new McpError(
        ErrorCode.InvalidParams,
        `${method}: unknown server '${server}'; servers: ${names.length ? names.join(', ') : '(none)'}`,
      );
    }
    try {
      return await backend.request(
        method,
        ({ client, capabilities, signal, timeoutMs }) => {
          const has =
            capability === 'subscribe' ? capabilities.resources?.subscribe : capabilities[capability];
          if (!has) {
            const what = capability === 'subscribe' ? 'resources.subscribe' : capability;
            throw new McpError(
              ErrorCode.InvalidParams,
              `${method}: server '${server}' does not support it (it did not declare the '${what}' capability)`,
            );
          }
          return fn(client, { signal, timeout: timeoutMs });
        },
        { signal },
      );
    } catch (err) {
      if (err instanceof GatewayError)
        throw new McpError(ErrorCode.InternalError, err.message, { code: err.code });
      throw err;
    }
  }

  // ── from backends to clients ─────────────────────────────────────────────

  private onNotification(server: string, n: BackendNotification): void {
    switch (n.kind) {
      case 'resourcesChanged':
        this.invalidate('resources', 'templates');
        this.broadcast({ method: 'notifications/resources/list_changed' });
        return;
      case 'promptsChanged':
        this.invalidate('prompts');
        this.broadcast({ method: 'notifications/prompts/list_changed' });
        return;
      case 'resourceUpdated': {
        const uri = gatewayUri(server, n.uri);
        for (const session of this.subscribers.get(uri) ?? [])
          this.send(session, { method: 'notifications/resources/updated', params: { uri } });
        return;
      }
      case 'log': {
        const { logger, ...rest } = n.params;
        const params = { ...rest, logger: logger ? `${server}/${logger}` : server };
        const at = LEVELS.indexOf(n.params.level);
        for (const session of this.sessions) {
          if (session.logLevel === undefined || at < LEVELS.indexOf(session.logLevel)) continue;
          this.send(session, { method: 'notifications/message', params });
        }
        return;
      }
    }
  }

  /** A backend came, went or reconnected: its resources and prompts come or go with it. */
  private onStatus(server: string, status: BackendStatus): void {
    const backend = this.registry.get(server);
    const now = backend?.capabilities();
    if (now) this.declared.set(server, now);
    const caps = now ?? this.declared.get(server);
    if (status === 'closed') this.declared.delete(server);
    this.invalidate('resources', 'templates', 'prompts');
    if (caps?.resources) this.broadcast({ method: 'notifications/resources/list_changed' });
    if (caps?.prompts) this.broadcast({ method: 'notifications/prompts/list_changed' });
    if (status !== 'ready') return;
    // A new connection knows nothing of the level or the subscriptions of the last one.
    if (this.backendLevel !== undefined) void this.sendLevel(server, this.backendLevel);
    for (const key of this.subscribers.keys()) {
      const target = parseGatewayUri(key);
      if (target?.server !== server || !now?.resources?.subscribe || !backend) continue;
      void backend
        .request('resources/subscribe', ({ client, timeoutMs }) =>
          client.request({ method: 'resources/subscribe', params: { uri: target.uri } }, ResultSchema, {
            timeout: timeoutMs,
          }),
        )
        .catch((err: unknown) => this.logger.warn(`re-subscribing ${key} failed: ${errorMessage(err)}`));
    }
  }

  private broadcast(notification: ServerNotification): void {
    for (const session of this.sessions) this.send(session, notification);
  }

  private send(session: HubSession, notification: ServerNotification): void {
    session.server.notification(notification).catch((err: unknown) => {
      // Not connected yet or already closed: nothing to tell.
      this.logger.debug(`${notification.method} not delivered: ${errorMessage(err)}`);
    });
  }
}
