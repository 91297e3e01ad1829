import type { ProgressNotification } from '@modelcontextprotocol/client';
import type { CallOptions } from './types.js';

type OnProgress = NonNullable<CallOptions['onProgress']>;

/**
 * The onProgress of calls in flight, by the progressToken the gateway sent with them. Progress comes
 * through the connection's notification handler, not RequestOptions.onprogress (see openConnection in
 * connection.ts for why).
 */
export class ProgressRoutes {
  private readonly listeners = new Map<string, OnProgress>();
  private seq = 0;

  /** A fresh token routed to `onProgress`, or undefined without one; `remove` it when the call ends. */
  add(onProgress: OnProgress | undefined): string | undefined {
    if (!onProgress) return undefined;
    const token = `gw-${++this.seq}`;
    this.listeners.set(token, onProgress);
    return token;
  }

  remove(token: string | undefined): void {
    if (token) this.listeners.delete(token);
  }

  deliver({ progressToken, progress, total, message }: ProgressNotification['params']): void {
    this.listeners.get(String(progressToken))?.({ progress, total, message });
  }
}
