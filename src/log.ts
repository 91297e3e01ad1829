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

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  child(scope: string, fields?: LogFields): Logger;
}

interface LogSettings {
  format: LogFormat;
  /** The trace and span of the code logging, when tracing is on (set by src/observability). */
  traceIds: (() => { traceId: string; spanId: string } | undefined) | undefined;
}

const settings: LogSettings = { format: 'text', traceIds: undefined };

export function setLogFormat(format: LogFormat): void {
  settings.format = format;
}

/** Lets JSON lines carry the active trace and span ids; undefined turns that off. */
export function setLogTraceIds(source: LogSettings['traceIds']): void {
  settings.traceIds = source;
}

export function createLogger(
  scope = 'gateway',
  level: LogLevel = (process.env.MCP_GATEWAY_LOG_LEVEL as LogLevel | undefined) ?? 'info',
  write: (line: string) => void = (line) => process.stderr.write(line),
  fields: LogFields = {},
): Logger {
  const threshold = order[level] ?? order.info;
  const emit = (lvl: LogLevel, message: string) => {
    if (order[lvl] < threshold) return;
    // Never a secret in a log line, whoever wrote it (see secrets.ts).
    const text = secrets.redact(message);
    write(
      settings.format === 'json'
        ? jsonLine(lvl, scope, fields, text)
        : `[mcp-gateway] ${lvl} ${scope}: ${text}\n`,
    );
  };
  return {
    debug: (m) => emit('debug', m),
    info: (m) => emit('info', m),
    warn: (m) => emit('warn', m),
    error: (m) => emit('error', m),
    child: (sub, more) =>
      createLogger(`${scope}/${sub}`, level, write, more ? { ...fields, ...more } : fields),
  };
}

function jsonLine(level: LogLevel, component: string, fields: LogFields, msg: string): string {
  const ids = settings.traceIds?.();
  return `${JSON.stringify({
    time: new Date().toISOString(),
    level,
    component,
    ...fields,
    ...(ids ? { trace_id: ids.traceId, span_id: ids.spanId } : {}),
    msg,
  })}\n`;
}

/** A logger that drops everything; for tests and library use. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
};
