import { STATUS_CODES } from 'node:http';
import { SdkHttpError } from '@modelcontextprotocol/client';
import type { ServerConfig } from '../config/types.js';

/**
 * What list_servers shows as where a backend lives. Never includes env or header values; for a URL the
 * user name, password, query and fragment are dropped, since tokens tend to hide there.
 */
export function describeTarget(config: ServerConfig): string {
  if (config.transport === 'stdio') return [config.command, ...config.args].join(' ');
  try {
    const url = new URL(config.url);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return '(invalid url)';
  }
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** `exited with code 3`, `exited on signal SIGKILL`. */
export function describeExit(exit: ExitInfo): string {
  if (exit.code !== null)
    return `exited with code ${exit.code}${exit.signal ? ` (signal ${exit.signal})` : ''}`;
  return `exited on signal ${exit.signal ?? 'unknown'}`;
}

/** An error's message with its cause's (fetch hides ECONNREFUSED in `cause`), one line. */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? err.cause.message : undefined;
  const code = (err as NodeJS.ErrnoException).code;
  let text = err.message;
  if (cause && !text.includes(cause)) text += ` (${cause})`;
  else if (typeof code === 'string' && !text.includes(code)) text += ` (${code})`;
  return text;
}

/**
 * Why a request to an HTTP backend failed below MCP: `HTTP 503 Service Unavailable`, `fetch failed
 * (connect ECONNREFUSED 127.0.0.1:8080)`. Undefined for anything else (the backend's own ProtocolError, a
 * timeout, a protocol complaint).
 */
export function describeHttpFailure(err: unknown): string | undefined {
  if (err instanceof SdkHttpError) {
    const status = err.status ?? -1;
    if (status < 100) return describeError(err);
    return describeStatus(status);
  }
  // fetch rejects with a TypeError when the connection is refused, reset or cut short.
  if (err instanceof TypeError) return describeError(err);
  // The HTTP+SSE transport's POST fails with a plain Error that has the status only in its text.
  const sse = err instanceof Error ? SSE_POST_FAILURE.exec(err.message) : null;
  if (sse) return describeStatus(Number(sse[1]));
  return undefined;
}

const SSE_POST_FAILURE = /^Error POSTing to endpoint \(HTTP (\d{3})\)/;

function describeStatus(status: number): string {
  return `HTTP ${status}${STATUS_CODES[status] ? ` ${STATUS_CODES[status]}` : ''}`;
}
