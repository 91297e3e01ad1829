/**
 * Logging goes to stderr, always: in stdio mode stdout belongs to JSON-RPC, and one stray line there
 * breaks the client's connection.
 *
 * Two formats: `text` (the default, one human line) and `json` (one object a line: time, level,
 * component, server, trace_id, span_id, msg) for log shippers. The format is process-wide and read per
 * line, so `serve --log-format json` applies to loggers made before the flag was read.
 */
import { secrets } from './secrets.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'text' | 'json';
export const LOG_FORMATS: readonly LogFormat[] = ['text', 'json'];

const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Fields a logger adds to each JSON line (`server` for a backend's logger). */
export type LogFields = Readonly<Record<string, string>>;

/**
 * `fields` of one line: a line about one request's work passes its `trace_id` and `span_id`
 * (`telemetry.logFields(trace)`); JSON lines show them, text lines do not.
 */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(scope: string, fields?: LogFields): Logger;
}

const settings: { format: LogFormat } = { format: 'text' };

export function setLogFormat(format: LogFormat): void {
  settings.format = format;
}

export function createLogger(
  scope = 'gateway',
  level: LogLevel = (process.env.MCP_GATEWAY_LOG_LEVEL as LogLevel | undefined) ?? 'info',
  write: (line: string) => void = (line) => process.stderr.write(line),
  fields: LogFields = {},
): Logger {
  const threshold = order[level] ?? order.info;
  const emit = (lvl: LogLevel, message: string, more: LogFields | undefined) => {
    if (order[lvl] < threshold) return;
    // Never a secret in a log line, whoever wrote it (see secrets.ts).
    const text = secrets.redact(message);
    write(
      settings.format === 'json'
        ? jsonLine(lvl, scope, more ? { ...fields, ...more } : fields, text)
        : `[mcp-gateway] ${lvl} ${scope}: ${text}\n`,
    );
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (sub, more) =>
      createLogger(`${scope}/${sub}`, level, write, more ? { ...fields, ...more } : fields),
  };
}

function jsonLine(level: LogLevel, component: string, fields: LogFields, msg: string): string {
  return `${JSON.stringify({ time: new Date().toISOString(), level, component, ...fields, msg })}\n`;
}

/** A logger that drops everything; for tests and library use. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
};
