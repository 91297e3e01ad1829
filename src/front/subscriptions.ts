import type { Client } from '@modelcontextprotocol/client';
import { ResultSchema } from '@modelcontextprotocol/core';
import type { BackendRegistry } from '../backends/index.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import type { AggregatedLists } from './aggregated-lists.js';
import { routeToBackend } from './backend-route.js';
import { type HubSession, notifySession } from './hub-session.js';

/**
 * Resource subscriptions of every session: a backend is subscribed to a URI once, while any session
 * watches it, and re-subscribed when it reconnects; its notifications/resources/updated go to the
 * sessions that subscribed.
 */
export class Subscriptions {
  /**
   * Per served URI: the backend and its own URI, and the sessions subscribed; the backend is
   * subscribed while `sessions` is not empty.
   */
  private readonly subscribers = new Map<
    string,
    { server: string; uri: string; sessions: Set<HubSession> }
  >();

  /**
   * Served URI → the `subscriptions/listen` stream open on a 2026-07-28 backend for it: that era has
   * no resources/subscribe; the updates come on the stream to the same notification handler.
   */
  private readonly listens = new Map<string, { close(): Promise<void> }>();

  constructor(
    private readonly registry: BackendRegistry,
    private readonly lists: AggregatedLists,
    private readonly logger: Logger,
  ) {}

  async subscribe(session: HubSession, uri: string, signal: AbortSignal): Promise<void> {
    const target = await this.lists.resolveUri(uri);
    const key = this.lists.names.uri(target.server, target.uri);
    if (!this.subscribers.get(key)?.sessions.size) {
      await routeToBackend(
        this.registry,
        { server: target.server, capability: 'subscribe', method: 'resources/subscribe', signal },
        (client, options) =>
          client.getProtocolEra() === 'modern'
            ? this.listen(key, client, target.uri)
            : client.request(
                { method: 'resources/subscribe', params: { uri: target.uri } },
                ResultSchema,
                options,
              ),
      );
    }
    let entry = this.subscribers.get(key);
    if (!entry) {
      entry = { ...target, sessions: new Set() };
      this.subscribers.set(key, entry);
    }
    entry.sessions.add(session);
    session.subscriptions.add(key);
  }

  /** Never fails for the client: a backend that is gone has nothing left to unsubscribe. */
  async unsubscribe(session: HubSession, uri: string): Promise<void> {
    const target = this.subscribers.get(uri);
    if (!target) return;
    session.subscriptions.delete(uri);
    if (!target.sessions.delete(session) || target.sessions.size > 0) return;
    this.subscribers.delete(uri);
    const listening = this.listens.get(uri);
    if (listening) {
      this.listens.delete(uri);
      await listening.close().catch(() => {});
      return;
    }
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

  /** Backend `server` says its resource `uri` changed: tells the sessions subscribed to it. */
  updated(server: string, uri: string): void {
    const key = this.lists.names.uri(server, uri);
    const entry = this.subscribers.get(key);
    if (entry?.server !== server) return;
    for (const session of entry.sessions)
      notifySession(
        session,
        { method: 'notifications/resources/updated', params: { uri: key } },
        this.logger,
      );
  }

  /** Backend `server` is ready on a new connection, which knows nothing of the last one's subscriptions. */
  resubscribe(server: string): void {
    const backend = this.registry.get(server);
    const now = backend?.capabilities();
    for (const [key, target] of this.subscribers) {
      if (target.server !== server || !now?.resources?.subscribe || !backend) continue;
      void backend
        .request('resources/subscribe', ({ client, timeoutMs }) =>
          client.getProtocolEra() === 'modern'
            ? this.listen(key, client, target.uri)
            : client.request({ method: 'resources/subscribe', params: { uri: target.uri } }, ResultSchema, {
                timeout: timeoutMs,
              }),
        )
        .catch((err: unknown) => this.logger.warn(`re-subscribing ${key} failed: ${errorMessage(err)}`));
    }
  }

  clear(): void {
    this.subscribers.clear();
    for (const listening of this.listens.values()) void listening.close().catch(() => {});
    this.listens.clear();
  }

  /** Opens (or re-opens, on a new connection) the listen stream for `key` on a 2026-07-28 backend. */
  private async listen(key: string, client: Client, uri: string): Promise<object> {
    const previous = this.listens.get(key);
    this.listens.delete(key);
    if (previous) void previous.close().catch(() => {});
    const subscription = await client.listen({ resourceSubscriptions: [uri] });
    this.listens.set(key, subscription);
    return {};
  }
}
