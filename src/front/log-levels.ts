import { ResultSchema } from '@modelcontextprotocol/core';
import type { LoggingLevel, LoggingMessageNotification } from '@modelcontextprotocol/server';
import type { BackendRegistry } from '../backends/index.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { type HubSession, notifySession } from './hub-session.js';

/** MCP's log levels, most verbose first. */
export const LOGGING_LEVELS: readonly LoggingLevel[] = [
  'debug',
  'info',
  'notice',
  'warning',
  'error',
  'critical',
  'alert',
  'emergency',
];

/** A 2026-07-28 request's log level (`_meta`) while it runs on one backend: its messages go there. */
interface LogTap {
  server: string;
  level: LoggingLevel;
  deliver: (message: LoggingMessageNotification['params']) => void;
}

/**
 * Logging in both directions: each session's logging/setLevel, the backends set to the most verbose
 * level any session (or running 2026-07-28 request) asked for, and the backends' log messages
 * forwarded to each session at or above its own level (a session that never set one gets none), and
 * to each such request while it runs on that backend.
 */
export class LogLevels {
  /** The most verbose level any session asked for: what the backends are set to. */
  private backendLevel: LoggingLevel | undefined;
  private readonly taps = new Set<LogTap>();

  constructor(
    private readonly registry: BackendRegistry,
    private readonly sessions: ReadonlySet<HubSession>,
    private readonly logger: Logger,
  ) {}

  /**
   * Records the session's level and sets every backend to the most verbose level any session asked
   * for; each session then gets only the messages at or above its own level.
   */
  async setLevel(session: HubSession, level: LoggingLevel): Promise<void> {
    session.logLevel = level;
    await this.apply();
  }

  /** Sets the backends to the most verbose level a session wants, when that changed. */
  async apply(): Promise<void> {
    const wanted = this.wantedLevel();
    if (wanted === undefined || wanted === this.backendLevel) return;
    this.backendLevel = wanted;
    // 2026-07-28 backends get it in `_meta` on each call (backends/backend-calls.ts).
    this.registry.logLevel = wanted;
    await Promise.all(this.registry.names().map((server) => this.sendLevel(server, wanted)));
  }

  /**
   * A 2026-07-28 request that asked for `level` in its `_meta` runs on backend `server`: until the
   * returned function is called, that backend's log messages at or above `level` go to `deliver`.
   * A 2025 backend logs per connection, not per request: it is set to a level that lets them through
   * first, and what it logs meanwhile is taken as the request's (a message cannot name its request).
   */
  async tap(
    server: string,
    level: LoggingLevel,
    deliver: (message: LoggingMessageNotification['params']) => void,
  ): Promise<() => void> {
    const tap: LogTap = { server, level, deliver };
    this.taps.add(tap);
    await this.apply();
    return () => {
      this.taps.delete(tap);
    };
  }

  /** Backend `server` is ready on a new connection, which knows nothing of the level of the last one. */
  restore(server: string): void {
    if (this.backendLevel !== undefined) void this.sendLevel(server, this.backendLevel);
  }

  /** A log message of backend `server`, to every session whose level lets it through. */
  forward(server: string, message: LoggingMessageNotification['params']): void {
    const { logger, ...rest } = message;
    const params = { ...rest, logger: logger ? `${server}/${logger}` : server };
    const at = LOGGING_LEVELS.indexOf(message.level);
    for (const session of this.sessions) {
      if (session.logLevel === undefined || at < LOGGING_LEVELS.indexOf(session.logLevel)) continue;
      notifySession(session, { method: 'notifications/message', params }, this.logger);
    }
    for (const tap of this.taps) {
      if (tap.server !== server || at < LOGGING_LEVELS.indexOf(tap.level)) continue;
      tap.deliver(params);
    }
  }

  private wantedLevel(): LoggingLevel | undefined {
    let min: number | undefined;
    const levels = [...[...this.sessions].map((s) => s.logLevel), ...[...this.taps].map((t) => t.level)];
    for (const level of levels) {
      if (level === undefined) continue;
      const at = LOGGING_LEVELS.indexOf(level);
      if (min === undefined || at < min) min = at;
    }
    return min === undefined ? undefined : LOGGING_LEVELS[min];
  }

  private async sendLevel(server: string, level: LoggingLevel): Promise<void> {
    const backend = this.registry.get(server);
    if (!backend?.capabilities()?.logging) return;
    // No logging/setLevel in the 2026-07-28 era: the level travels in each request's `_meta`.
    if (backend.info().era === 'modern') return;
    try {
      await backend.request('logging/setLevel', ({ client, timeoutMs }) =>
        client.request({ method: 'logging/setLevel', params: { level } }, ResultSchema, {
          timeout: timeoutMs,
        }),
      );
    } catch (err) {
      this.logger.warn(`logging/setLevel on server '${server}' failed: ${errorMessage(err)}`);
    }
  }
}
