/**
 * Whether a failed call may be tried again, and how long to wait first. The engine asks after every
 * failed call; errors that calling again cannot fix are never retried, whatever `retry.attempts` says.
 */
import { MAX_DURATION_MS } from '../config/index.js';
import { errorMessage, type GatewayErrorCode, isGatewayError } from '../errors.js';
import type { CallOutcome } from './result.js';
import type { RetryPolicy } from './types.js';

/** Codes where calling again cannot help. */
const NOT_RETRYABLE = new Set<GatewayErrorCode>([
  'BACKEND_UNKNOWN',
  'TOOL_UNKNOWN',
  'PARAMS_INVALID',
  'BACKEND_REMOVED',
  'BACKEND_CANCELLED',
  // Asking a recording again gives the same answer.
  'REPLAY_MISSING',
]);
/** JSON-RPC codes of an upstream ProtocolError where calling again cannot help: method not found, invalid params. */
const NOT_RETRYABLE_RPC = new Set([-32601, -32602]);

/** Whether calling again after `err` (thrown by a ToolInvoker) may succeed. */
export function isRetryable(err: unknown): boolean {
  if (isGatewayError(err)) return !NOT_RETRYABLE.has(err.code);
  const code = (err as { code?: unknown } | null)?.code;
  return !(typeof code === 'number' && NOT_RETRYABLE_RPC.has(code));
}

/** The outcome of a call that threw (or was aborted) instead of returning a result. */
export function failedCall(err: unknown): CallOutcome {
  return {
    ok: false,
    message: errorMessage(err),
    retryable: isRetryable(err),
    text: '',
    content: [],
    isError: false,
  };
}

/** The wait before attempt `attempt + 1`: `min(backoff × factor^(attempt-1), max_backoff)`. */
export function backoffDelayMs(retry: RetryPolicy, attempt: number): number {
  const { backoffMs, factor, maxBackoffMs } = retry;
  return Math.min(backoffMs * factor ** (attempt - 1), maxBackoffMs, MAX_DURATION_MS);
}
