import { ProtocolError, SdkError, SdkErrorCode } from '@modelcontextprotocol/client';
import type { ServerConfig } from '../config/types.js';
import { GatewayError } from '../errors.js';
import type { Connection } from './connection.js';
import { describeError } from './describe.js';
import type { InFlightCall } from './in-flight.js';
import type { BackendStatus } from './types.js';

/** Where a call failed: what callError needs to say why. */
export interface CallFailure {
  server: string;
  transport: ServerConfig['transport'];
  call: InFlightCall;
  conn: Connection;
  /** The call's whole time limit, as the caller sees it. */
  limit: number;
  /** The timeout handed to the SDK: what is left of `limit` once connected. */
  timeout: number;
  /** The gateway's own (pausable) clock for the call ran out. */
  timedOut?: boolean;
  signal: AbortSignal | undefined;
}

/**
 * The error a failed tools/call throws: the gateway's own reason when it ended the call, a cancel, a
 * timeout, the backend exiting (with its exit and stderr), or the backend's own protocol error unchanged.
 */
export async function callError(err: unknown, at: CallFailure): Promise<unknown> {
  const { server, call, conn, signal } = at;
  const data = { server, tool: call.tool };
  if (call.endedBy) return call.endedBy;
  if (signal?.aborted) return cancelledError(server, call.tool, signal);
  if (at.timedOut || isSdkTimeout(err, at.timeout)) {
    return new GatewayError('BACKEND_TIMEOUT', `${server}.${call.tool} timed out after ${at.limit} ms`, {
      ...data,
      timeoutMs: at.limit,
    });
  }
  if (conn.ended) {
    // ConnectionClosed from the SDK, or "Not connected" if the call raced the close.
    const reason = await conn.endReason;
    const verb = at.transport === 'stdio' ? 'exited' : 'disconnected';
    return new GatewayError(
      'BACKEND_EXITED',
      `server '${server}' ${verb} while '${call.tool}' was running: ${reason}`,
      { ...data, reason, stderr: conn.stderrLines() },
      { cause: err },
    );
  }
  // The backend's own protocol error crosses the wire unchanged; the gateway's own (input rounds) too.
  if (err instanceof ProtocolError || err instanceof GatewayError) return err;
  return new GatewayError(
    'BACKEND_UNAVAILABLE',
    `${server}.${call.tool} failed: ${describeError(err)}`,
    data,
    {
      cause: err,
    },
  );
}

export function cancelledError(server: string, tool: string, signal: AbortSignal): GatewayError {
  return new GatewayError(
    'BACKEND_CANCELLED',
    `${server}.${tool} was cancelled`,
    { server, tool },
    { cause: signal.reason },
  );
}

/** A call or request that found the backend not ready (after waiting `limit` ms while it connected). */
export function unavailableError(
  server: string,
  tool: string,
  at: { status: BackendStatus; limit: number; lastError: string | undefined },
): GatewayError {
  const { status, lastError } = at;
  const waited = status === 'connecting' ? `, still connecting after ${at.limit} ms` : '';
  const why = lastError ? `: ${lastError}` : '';
  return new GatewayError(
    'BACKEND_UNAVAILABLE',
    `server '${server}' is not available for '${tool}' (status ${status}${waited})${why}`,
    { server, tool, status, lastError },
  );
}

/** The SDK rejects its own timeout with RequestTimeout and `{ timeout }` as data. */
export function isSdkTimeout(err: unknown, timeout: number): boolean {
  return (
    err instanceof SdkError &&
    err.code === SdkErrorCode.RequestTimeout &&
    (err.data as { timeout?: unknown } | undefined)?.timeout === timeout
  );
}
