/**
 * Label values of metrics are bounded, so a client cannot grow the series without end: a name the
 * gateway does not serve is `other`, an inline (`custom`) pipeline and its steps are `custom`, and an
 * error's kind is one of a few words rather than its text.
 */
import { isGatewayError } from '../errors.js';

export const OTHER = 'other';
export const CUSTOM = 'custom';

/** How a call ended, in a handful of words. */
export type Outcome = 'ok' | 'tool_error' | 'timeout' | 'cancelled' | 'unavailable' | 'error';

/** The outcome of a call that settled with `result` or threw `err`. */
export function outcomeOf(result: unknown, err?: unknown): Outcome {
  if (err !== undefined) return errorKind(err);
  return (result as { isError?: unknown } | undefined)?.isError === true ? 'tool_error' : 'ok';
}

export function errorKind(err: unknown): Outcome {
  if (!isGatewayError(err)) return 'error';
  switch (err.code) {
    case 'BACKEND_TIMEOUT':
      return 'timeout';
    case 'BACKEND_CANCELLED':
      return 'cancelled';
    case 'BACKEND_UNAVAILABLE':
    case 'BACKEND_EXITED':
    case 'BACKEND_REMOVED':
      return 'unavailable';
    default:
      return 'error';
  }
}

/** The error code a failure carries: a GatewayError's, a JSON-RPC error's number, or undefined. */
export function errorCode(err: unknown): string | undefined {
  if (isGatewayError(err)) return err.code;
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'number' || typeof code === 'string' ? String(code) : undefined;
}

/** Whether a backend call failed because the server or the tool is not one the gateway knows. */
export function unknownTarget(err: unknown): { server: boolean; tool: boolean } {
  if (!isGatewayError(err)) return { server: false, tool: false };
  if (err.code === 'BACKEND_UNKNOWN') return { server: true, tool: true };
  return { server: false, tool: err.code === 'TOOL_UNKNOWN' };
}

/** A backend's last error, as a bounded kind; undefined when it has none. */
export function lastErrorKind(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  if (/timed? ?out|no answer/i.test(text)) return 'timeout';
  if (/not found|ENOENT/i.test(text)) return 'not_found';
  if (/ECONNREFUSED|unreachable|fetch failed|ENOTFOUND|connect/i.test(text)) return 'unreachable';
  if (/exit|crash|signal|killed/i.test(text)) return 'exited';
  return OTHER;
}
