/**
 * The page's side of the console API: the token kept for this tab only (sessionStorage, never in
 * the URL), sent as `Authorization: Bearer` with every request, and the live events read from a
 * fetch stream (EventSource cannot send that header).
 */
import type { LiveEvent } from '../console/types.js';

const TOKEN_KEY = 'mcp-gateway-console-token';

export function savedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function saveToken(token: string | null): void {
  if (token === null) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const token = savedToken();
  return { ...extra, ...(token ? { Authorization: `Bearer ${token}` } : {}) };
}

let onRefused: ((message: string) => void) | undefined;

/**
 * Called when the gateway refuses the saved token (401: expired, revoked, wrong): the token is
 * forgotten and the page goes back to sign-in.
 */
export function whenRefused(listener: (message: string) => void): void {
  onRefused = listener;
}

function checkRefused(res: Response): void {
  if (res.status === 401 && savedToken()) {
    saveToken(null);
    onRefused?.('The gateway no longer accepts your sign-in (it expired or was revoked); sign in again.');
  }
}

async function answer<T>(res: Response): Promise<T> {
  checkRefused(res);
  const body = (await res.json().catch(() => ({}))) as { error?: unknown; error_description?: unknown };
  if (!res.ok) {
    const message =
      typeof body.error_description === 'string'
        ? body.error_description
        : typeof body.error === 'string'
          ? body.error
          : `HTTP ${res.status}`;
    throw new ApiError(res.status, message);
  }
  return body as T;
}

export async function get<T>(path: string): Promise<T> {
  return answer<T>(await fetch(`api/${path}`, { headers: headers(), cache: 'no-store' }));
}

export async function post<T>(path: string, body: unknown): Promise<T> {
  return answer<T>(
    await fetch(`api/${path}`, {
      method: 'POST',
      headers: headers({ 'Content-Type': 'application/json' }),
      body: JSON.stringify(body),
    }),
  );
}

/**
 * Follows `/console/api/events` until `signal` aborts, reconnecting after a break; `onState` says
 * whether the stream is up.
 */
export async function followEvents(
  onEvent: (event: LiveEvent) => void,
  onState: (live: boolean) => void,
  signal: AbortSignal,
): Promise<void> {
  while (!signal.aborted) {
    try {
      const res = await fetch('api/events', { headers: headers(), signal, cache: 'no-store' });
      checkRefused(res);
      if (!res.ok || !res.body) throw new ApiError(res.status, `HTTP ${res.status}`);
      onState(true);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end = buffer.indexOf('\n\n');
        while (end !== -1) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = frame
            .split('\n')
            .filter((line) => line.startsWith('data: '))
            .map((line) => line.slice(6))
            .join('\n');
          if (data) onEvent(JSON.parse(data) as LiveEvent);
          end = buffer.indexOf('\n\n');
        }
      }
    } catch {
      // Aborted, refused or broken: try again shortly unless the page is done with it.
    }
    onState(false);
    if (signal.aborted) return;
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}
