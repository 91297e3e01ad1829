import type { ServerNotification } from '@modelcontextprotocol/server';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import type { HubSession, ProtocolHub } from './protocol-hub.js';

/**
 * The resource URIs of a front's open `subscriptions/listen` streams (2026-07-28 clients), held as
 * resource subscriptions in the hub: the backend behind a URI is subscribed (resources/subscribe on a
 * 2025 backend, its own listen stream on a 2026 one) while at least one stream lists it. The streams
 * themselves are the SDK's (its listen router filters each stream by its own URIs), so the front stands
 * in the hub as one sink session whose `notifications/resources/updated` reach that router.
 */
export class ListenSubscriptions {
  private readonly session: HubSession;
  /**
   * Served URI → how many open streams hold it, and whether watching it worked: a stream that lists
   * a URI another is still subscribing waits for that same subscription.
   */
  private readonly watching = new Map<string, { count: number; ready: Promise<boolean> }>();

  constructor(
    private readonly hub: ProtocolHub,
    deliver: (notification: ServerNotification) => void,
    private readonly logger: Logger,
  ) {
    // The hub also broadcasts list changes to every session: the fronts publish those themselves.
    this.session = hub.attach({
      notification: async (n) => {
        if (n.method === 'notifications/resources/updated') deliver(n);
      },
    });
  }

  /**
   * A stream opened listing `uris`: subscribes what nobody listened to yet, before the stream is
   * acknowledged, so an update right after the acknowledgement is not missed. A URI that cannot be
   * subscribed (unknown, or its backend is down) is logged and left out: the stream still opens, and
   * the next stream that lists it tries again. Returns how to release them when the stream ends
   * (idempotent).
   */
  async open(uris: readonly string[], signal: AbortSignal): Promise<() => void> {
    const held: string[] = [];
    await Promise.all(
      [...new Set(uris)].map(async (uri) => {
        let entry = this.watching.get(uri);
        if (!entry) {
          const ready = this.hub.subscribe(this.session, uri, signal).then(
            () => true,
            (err: unknown) => {
              this.logger.info(`subscriptions/listen: ${uri} is not watched: ${errorMessage(err)}`);
              return false;
            },
          );
          entry = { count: 0, ready };
          this.watching.set(uri, entry);
        }
        entry.count++;
        if (await entry.ready) held.push(uri);
        else this.release(uri);
      }),
    );
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const uri of held) this.release(uri);
    };
  }

  close(): void {
    this.watching.clear();
    this.hub.detach(this.session);
  }

  private release(uri: string): void {
    const entry = this.watching.get(uri);
    if (!entry) return;
    entry.count--;
    if (entry.count > 0) return;
    this.watching.delete(uri);
    void entry.ready.then((watched) => {
      if (watched) void this.hub.unsubscribe(this.session, uri);
    });
  }
}

/** The `resourceSubscriptions` of a `subscriptions/listen` request's filter; empty for anything else. */
export function listenedUris(message: unknown): string[] {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return [];
  const { method, params } = message as { method?: unknown; params?: { notifications?: unknown } };
  if (method !== 'subscriptions/listen') return [];
  const uris = (params?.notifications as { resourceSubscriptions?: unknown } | undefined)
    ?.resourceSubscriptions;
  return Array.isArray(uris) ? uris.filter((u): u is string => typeof u === 'string') : [];
}

/** A `subscriptions/listen` request whose `resourceSubscriptions` are `uris` (a copy; the rest kept). */
export function withListenedUris(message: unknown, uris: string[]): unknown {
  const m = message as { params: { notifications: Record<string, unknown> } };
  return {
    ...m,
    params: { ...m.params, notifications: { ...m.params.notifications, resourceSubscriptions: uris } },
  };
}
