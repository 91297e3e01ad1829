import type { JSONRPCMessage, RequestId, Transport } from '@modelcontextprotocol/server';
import { listenedUris } from './listen-subscriptions.js';

/** What the stdio front does when a client's listen stream names resource URIs. */
export interface ListenHooks {
  /** Resolves once `uris` are watched, with how to stop watching them. */
  open(uris: string[], signal: AbortSignal): Promise<() => void>;
}

/**
 * The stdio wire as the SDK's `serveStdio` sees it, with the resource URIs of each
 * `subscriptions/listen` request watched first. The SDK serves the listen itself (it acknowledges the
 * stream and routes the session's change notifications onto it) and never tells the server; so the
 * gateway reads the request on its way in, subscribes the backends behind its URIs, then hands it on —
 * later messages wait behind it, in order. The listen's `notifications/cancelled`, or the wire
 * closing, releases them.
 */
export class ListenTapTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  /** Listens open on this connection, by request id: how to release their URIs. */
  private readonly open = new Map<RequestId, () => void>();
  private readonly ended = new AbortController();
  /** Messages wait here while a listen's URIs are being subscribed, to keep their order. */
  private queue: Promise<void> | undefined;

  constructor(
    private readonly inner: Transport,
    private readonly hooks: ListenHooks,
  ) {}

  start(): Promise<void> {
    this.inner.onmessage = (message) => this.receive(message);
    this.inner.onerror = (error) => this.onerror?.(error);
    this.inner.onclose = () => {
      this.releaseAll();
      this.onclose?.();
    };
    return this.inner.start();
  }

  send(message: JSONRPCMessage, options?: Parameters<Transport['send']>[1]): Promise<void> {
    return this.inner.send(message, options);
  }

  async close(): Promise<void> {
    this.releaseAll();
    await this.inner.close();
  }

  private receive(message: JSONRPCMessage): void {
    const uris = listenedUris(message);
    if (uris.length === 0 && !this.queue) {
      this.release(message);
      this.onmessage?.(message);
      return;
    }
    const previous = this.queue ?? Promise.resolve();
    const next = previous.then(async () => {
      const id = 'id' in message ? message.id : undefined;
      if (uris.length > 0 && id !== undefined) {
        const release = await this.hooks.open(uris, this.ended.signal).catch(() => () => {});
        this.open.get(id)?.();
        this.open.set(id, release);
      }
      this.release(message);
      this.onmessage?.(message);
    });
    this.queue = next;
    void next.finally(() => {
      if (this.queue === next) this.queue = undefined;
    });
  }

  /** A client's `notifications/cancelled` of a listen ends that stream: its URIs are released. */
  private release(message: JSONRPCMessage): void {
    if (!('method' in message) || message.method !== 'notifications/cancelled') return;
    const id = (message.params as { requestId?: RequestId } | undefined)?.requestId;
    if (id === undefined) return;
    this.open.get(id)?.();
    this.open.delete(id);
  }

  private releaseAll(): void {
    this.ended.abort();
    for (const release of this.open.values()) release();
    this.open.clear();
  }
}
