/**
 * Logging goes to stderr, always: in stdio mode stdout belongs to JSON-RPC, and one stray line there
 * breaks the client's connection.
 */
import { secrets } from './secrets.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  child(scope: string): Logger;
}

export function createLogger(
  scope = 'gateway',
  level: LogLevel = (process.env.MCP_GATEWAY_LOG_LEVEL as LogLevel | undefined) ?? 'info',
  write: (line: string) => void = (line) => process.stderr.write(line),
): Logger {
  const threshold = order[level] ?? order.info;
  const emit = (lvl: LogLevel, message: string) => {
    if (order[lvl] < threshold) return;
    // Never a secret in a log line, whoever wrote it (see secrets.ts).
    write(`[mcp-gateway] ${lvl} ${scope}: ${secrets.redact(message)}\n`);
  };
  return {
    debug: (m) => emit('debug', m),
    info: (m) => emit('info', m),
    warn: (m) => emit('warn', m),
    error: (m) => emit('error', m),
    child: (sub) => createLogger(`${scope}/${sub}`, level, write),
  };
}

/** A logger that drops everything; for tests and library use. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
};
