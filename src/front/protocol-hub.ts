import type {
  CompleteRequest,
  CompleteResult,
  GetPromptRequest,
  GetPromptResult,
  LoggingLevel,
  LoggingMessageNotification,
  Prompt,
  ReadResourceRequest,
  ReadResourceResult,
  Resource,
  ResourceTemplateType as ResourceTemplate,
  ServerCapabilities,
  ServerNotification,
} from '@modelcontextprotocol/server';
import type { Access, AccessTarget } from '../auth/index.js';
import type { BackendNotification, BackendRegistry, BackendStatus } from '../backends/index.js';
import type { Logger } from '../log.js';
import { AggregatedLists, type ListVisibility, type ShownTo } from './aggregated-lists.js';
import { type HubSession, notifySession, type SessionNotifier } from './hub-session.js';
import { LogLevels } from './log-levels.js';
import type { NameClashes } from './name-clashes.js';
import { PAGE_SIZE } from './paging.js';
import { complete, getPrompt, type RouteContext, readResource } from './routed-requests.js';
import { ServedNames } from './served-names.js';
import { Subscriptions } from './subscriptions.js';

export type { HubSession, SessionNotifier } from './hub-session.js';

export interface ProtocolHubOptions {
  registry: BackendRegistry;
  logger: Logger;
  pageSize?: number;
  /** How backend names and URIs are served (`prefix:`); `<server>__` / `mcpgw://` for all without it. */
  names?: ServedNames;
  /** Where names not served because of a clash are reported. */
  clashes?: NameClashes;
  /** The servers' resource and prompt filters (src/surface). */
  visible?: ListVisibility;
}

/**
 * Everything of MCP besides tools, aggregated over the backends and shared by every client session:
 * resources, resource templates and prompts (listed from every ready backend, cached until a backend
 * says its list changed or a backend comes or goes: aggregated-lists.ts), reads, prompt gets and
 * completions (routed-requests.ts), subscriptions (subscriptions.ts), and logging in both directions
 * (log-levels.ts). Names and URIs map back to backends as resource-uri.ts describes. The hub holds the
 * sessions and routes what the backends send to them.
 */
export class ProtocolHub {
  private readonly registry: BackendRegistry;
  private readonly logger: Logger;
  private readonly sessions = new Set<HubSession>();
  private readonly lists: AggregatedLists;
  private readonly subscriptions: Subscriptions;
  private readonly logLevels: LogLevels;
  /** Capabilities each backend declared when last ready, to know what its going away changes. */
  private readonly declared = new Map<string, ServerCapabilities>();
  private readonly offRegistry: () => void;
  /** Told of every list change broadcast to the sessions (the modern HTTP leg's bus). */
  private readonly listeners = new Set<(n: ServerNotification) => void>();

  constructor(options: ProtocolHubOptions) {
    this.registry = options.registry;
    this.logger = options.logger;
    this.lists = new AggregatedLists(
      this.registry,
      this.logger,
      options.pageSize ?? PAGE_SIZE,
      options.names ?? new ServedNames(this.registry, () => []),
      options.clashes,
      options.visible,
    );
    this.subscriptions = new Subscriptions(this.registry, this.lists, this.logger);
    this.logLevels = new LogLevels(this.registry, this.sessions, this.logger);
    const onNotification = (server: string, n: BackendNotification) => this.onNotification(server, n);
    const onStatus = (server: string, status: BackendStatus) => this.onStatus(server, status);
    this.registry.on('notification', onNotification);
    this.registry.on('status', onStatus);
    this.offRegistry = () => {
      this.registry.off('notification', onNotification);
      this.registry.off('status', onStatus);
    };
  }

  /**
   * A session joins: a client's server, or a sink that stands for many clients (the modern fronts'
   * subscriptions/listen streams: listen-subscriptions.ts).
   */
  attach(server: SessionNotifier): HubSession {
    const session: HubSession = { server, subscriptions: new Set(), logLevel: undefined };
    this.sessions.add(session);
    return session;
  }

  /** The session ended: drop its subscriptions (unsubscribing backends nobody else watches). */
  detach(session: HubSession): void {
    this.sessions.delete(session);
    for (const uri of [...session.subscriptions]) void this.subscriptions.unsubscribe(session, uri);
    if (session.logLevel !== undefined) void this.logLevels.apply();
  }

  close(): void {
    this.offRegistry();
    this.sessions.clear();
    this.subscriptions.clear();
  }

  // ── from clients to backends ─────────────────────────────────────────────

  /** `access`: the caller's, under `http.auth.rules`; each list shows only what it allows. */
  listResources(
    cursor: string | undefined,
    access?: Access,
  ): Promise<{ resources: Resource[]; nextCursor?: string }> {
    return this.lists.listResources(cursor, shownTo(access, 'resource'));
  }

  listTemplates(
    cursor: string | undefined,
    access?: Access,
  ): Promise<{ resourceTemplates: ResourceTemplate[]; nextCursor?: string }> {
    return this.lists.listTemplates(cursor, shownTo(access, 'resource'));
  }

  listPrompts(
    cursor: string | undefined,
    access?: Access,
  ): Promise<{ prompts: Prompt[]; nextCursor?: string }> {
    return this.lists.listPrompts(cursor, shownTo(access, 'prompt'));
  }

  /** What a read or subscription (`resource`), a completion (`template`, `prompt`) or a prompts/get reaches. */
  accessTarget(kind: 'resource' | 'template' | 'prompt', key: string): Promise<AccessTarget | undefined> {
    return this.lists.accessTarget(kind, key);
  }

  /** Resources and prompts served, counted by backend. */
  countsByServer(): Promise<{ resources: Map<string, number>; prompts: Map<string, number> }> {
    return this.lists.countsByServer();
  }

  readResource(params: ReadResourceRequest['params'], route: RouteContext): Promise<ReadResourceResult> {
    return readResource(this.registry, this.lists, params, route);
  }

  getPrompt(params: GetPromptRequest['params'], route: RouteContext): Promise<GetPromptResult> {
    return getPrompt(this.registry, this.lists, params, route);
  }

  complete(params: CompleteRequest['params'], signal: AbortSignal): Promise<CompleteResult> {
    return complete(this.registry, this.lists, params, signal);
  }

  /** Which backend serves a shared name may have changed (gateway.yaml reordered): lists afresh. */
  /**
   * A message from the gateway itself to every session that set a log level (`logger`
   * `gateway/<name>`), such as a tool definition that changed (src/surface).
   */
  gatewayLog(level: 'info' | 'warning', name: string, data: string): void {
    this.logLevels.forward('gateway', { level, logger: name, data });
  }

  namesChanged(): void {
    this.lists.invalidate('resources', 'templates', 'prompts');
    this.broadcast({ method: 'notifications/resources/list_changed' });
    this.broadcast({ method: 'notifications/prompts/list_changed' });
  }

  /** Builds the lists not cached, so that every name clash is known (list_servers). */
  warmLists(): Promise<void> {
    return this.lists.warm();
  }

  subscribe(session: HubSession, uri: string, signal: AbortSignal): Promise<void> {
    return this.subscriptions.subscribe(session, uri, signal);
  }

  /** Never fails for the client: a backend that is gone has nothing left to unsubscribe. */
  unsubscribe(session: HubSession, uri: string): Promise<void> {
    return this.subscriptions.unsubscribe(session, uri);
  }

  /**
   * Records the session's level and sets every backend to the most verbose level any session asked
   * for; each session then gets only the messages at or above its own level.
   */
  setLevel(session: HubSession, level: LoggingLevel): Promise<void> {
    return this.logLevels.setLevel(session, level);
  }

  /**
   * A 2026-07-28 request asked for log messages at `level` (in its `_meta`) and runs on backend
   * `server`: that backend's messages go to `deliver` until the returned function is called.
   */
  tapLogs(
    server: string,
    level: LoggingLevel,
    deliver: (message: LoggingMessageNotification['params']) => void,
  ): Promise<() => void> {
    return this.logLevels.tap(server, level, deliver);
  }

  // ── from backends to clients ─────────────────────────────────────────────

  private onNotification(server: string, n: BackendNotification): void {
    switch (n.kind) {
      case 'resourcesChanged':
        this.lists.invalidate('resources', 'templates');
        this.broadcast({ method: 'notifications/resources/list_changed' });
        return;
      case 'promptsChanged':
        this.lists.invalidate('prompts');
        this.broadcast({ method: 'notifications/prompts/list_changed' });
        return;
      case 'resourceUpdated':
        this.subscriptions.updated(server, n.uri);
        return;
      case 'log':
        this.logLevels.forward(server, n.params);
        return;
    }
  }

  /** A backend came, went or reconnected: its resources and prompts come or go with it. */
  private onStatus(server: string, status: BackendStatus): void {
    const now = this.registry.get(server)?.capabilities();
    if (now) this.declared.set(server, now);
    const caps = now ?? this.declared.get(server);
    if (status === 'closed') this.declared.delete(server);
    this.lists.invalidate('resources', 'templates', 'prompts');
    if (caps?.resources) this.broadcast({ method: 'notifications/resources/list_changed' });
    if (caps?.prompts) this.broadcast({ method: 'notifications/prompts/list_changed' });
    if (status !== 'ready') return;
    // A new connection knows nothing of the level or the subscriptions of the last one.
    this.logLevels.restore(server);
    this.subscriptions.resubscribe(server);
  }

  /** Calls `listener` with each notification broadcast to every session; returns how to stop. */
  addListener(listener: (n: ServerNotification) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private broadcast(notification: ServerNotification): void {
    for (const session of this.sessions) notifySession(session, notification, this.logger);
    for (const listener of this.listeners) listener(notification);
  }
}

/** A list filter for one caller's Access; none when it is unrestricted. */
function shownTo(access: Access | undefined, kind: 'resource' | 'prompt'): ShownTo | undefined {
  if (!access || access.unrestricted) return undefined;
  return kind === 'resource'
    ? (server, uri, own) => access.allows({ kind: 'resource', server, uri, own })
    : (server, name, own) => access.allows({ kind: 'prompt', server, name, own });
}
