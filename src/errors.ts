/**
 * The gateway's own errors. Each has a stable `code` a caller can branch on and `data` with the
 * context a user needs to act (file:line:col, server, tool, step). Errors that come from a backend
 * over the wire are forwarded unchanged and never wrapped in these.
 */
export type GatewayErrorCode =
  | 'CONFIG_INVALID'
  | 'CONFIG_ENV_MISSING'
  | 'CONFIG_READ_FAILED'
  | 'BACKEND_UNKNOWN'
  | 'BACKEND_EXISTS'
  | 'BACKEND_UNAVAILABLE'
  | 'BACKEND_EXITED'
  | 'BACKEND_REMOVED'
  | 'BACKEND_TIMEOUT'
  | 'BACKEND_CANCELLED'
  /** An HTTP backend wants an OAuth login by a person (`mcp-gateway login <server>`) before it can be reached. */
  | 'BACKEND_NEEDS_LOGIN'
  /** A backend sent something the protocol does not allow there (e.g. an input request of an unknown method). */
  | 'BACKEND_PROTOCOL'
  /** A 2026-07-28 backend kept answering input_required past bridge.max_rounds. */
  | 'INPUT_ROUNDS_EXCEEDED'
  | 'TOOL_UNKNOWN'
  /** A backend tool the server's filters hide, or a pinned tool whose change waits for approval. */
  | 'TOOL_NOT_SERVED'
  | 'PARAMS_INVALID'
  /** register_server over HTTP asked for something the config does not allow (command, args, env, cwd, url host). */
  | 'REGISTER_REFUSED'
  /** register_server would exceed limits.max_runtime_backends. */
  | 'REGISTER_LIMIT'
  /** The caller's token does not allow this tool, pipeline or meta tool (`http.auth.rules`). */
  | 'ACCESS_DENIED'
  | 'PIPELINE_INVALID'
  | 'PIPELINE_UNKNOWN'
  | 'PIPELINE_FAILED'
  /** A replayed run asked for a backend call its recording does not hold. */
  | 'REPLAY_MISSING'
  /** A recording or a pipeline test file is invalid. */
  | 'RECORDING_INVALID'
  /** Over a `rate_limits` limit (HTTP: 429 with Retry-After). */
  | 'RATE_LIMITED'
  /** Cluster state in Redis could not be read or written (Redis unreachable). */
  | 'CLUSTER_UNAVAILABLE'
  | 'USAGE';

/** A position in a source file, 1-based as editors show it. */
export interface SourcePosition {
  file?: string;
  line: number;
  column: number;
}

export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  constructor(
    readonly code: GatewayErrorCode,
    message: string,
    readonly data: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isGatewayError(err: unknown, code?: GatewayErrorCode): err is GatewayError {
  return err instanceof GatewayError && (code === undefined || err.code === code);
}

/** `file:line:col: message`, the form editors and terminals make clickable. */
export function formatAt(pos: SourcePosition | undefined, message: string): string {
  if (!pos) return message;
  const where = pos.file ? `${pos.file}:${pos.line}:${pos.column}` : `${pos.line}:${pos.column}`;
  return `${where}: ${message}`;
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
