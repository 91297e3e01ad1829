import { existsSync } from 'node:fs';
import { SdkError, SdkErrorCode } from '@modelcontextprotocol/client';
import type { ServerConfig } from '../config/types.js';
import { type Connection, delay } from './connection.js';
import { describeError, describeTarget } from './describe.js';
import { isSseFallbackSignal } from './http-transport-choice.js';

/**
 * Why a connection attempt failed in `phase` (start, initialize, tools/list), for lastError and the
 * log: a command that cannot run, a backend that did not answer (with its stderr), one that exited
 * before it was ready, or an HTTP endpoint that could not be reached. `conn` is undefined when the
 * connection could not even be opened.
 */
export async function describeStartFailure(
  err: unknown,
  phase: string,
  conn: Connection | undefined,
  at: { config: ServerConfig; timeoutMs: number },
): Promise<string> {
  const { config } = at;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (config.transport === 'stdio' && (code === 'ENOENT' || code === 'EACCES')) {
    const cwd = config.cwd;
    const why =
      code === 'EACCES'
        ? 'permission denied'
        : cwd !== undefined && !existsSync(cwd)
          ? `its working directory '${cwd}' does not exist`
          : 'command not found';
    return `could not start '${config.command}': ${why} (${describeError(err)})`;
  }
  if (conn && err instanceof SdkError && err.code === SdkErrorCode.RequestTimeout) {
    const lines = conn.stderrLines();
    return `did not answer ${phase} within ${at.timeoutMs} ms${lines.length ? `; stderr: ${lines.join(' | ')}` : ''}`;
  }
  if (conn && config.transport === 'stdio' && (conn.ended || conn.exit)) {
    // Exited before it was ready; wait for the close (bounded: a grandchild may hold the pipes).
    conn.markEnded();
    await Promise.race([conn.endReason, delay(1_000)]);
    return conn.describeEnd(` during ${phase}`);
  }
  if (config.transport === 'http' && phase === 'initialize') {
    const text = `could not connect to ${describeTarget(config)}: ${describeError(err)}`;
    // Unset, the transport would have fallen back to HTTP+SSE on this answer (http-transport-choice.ts).
    if (config.httpTransport === 'streamable-http' && isSseFallbackSignal(err)) {
      return `${text}; it answered HTTP ${err.status}, which is how a server that speaks only the deprecated HTTP+SSE transport answers, and "transport: streamable-http" does not fall back to it (remove the setting, or set transport: sse)`;
    }
    return text;
  }
  return `${phase} failed: ${describeError(err)}`;
}
