/**
 * A backend's connection lifecycle: the first attempt, the reconnect with backoff when a ready
 * connection ends, the crash-loop verdict, and the wait for `mcp-gateway login` instead of retries
 * when the backend needs a person to sign in. It writes what it learns into the BackendState it shares
 * with `Backend`, whose call surface reads it.
 */
import type {
  Implementation,
  PriorDiscovery,
  ProgressNotification,
  Tool,
} from '@modelcontextprotocol/client';
import type { ServerConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import type { CallRequesters } from './call-routing.js';
import { type AttemptState, connectAttempt } from './connect-attempt.js';
import { type Connection, listenForChanges, openConnection, priorOf } from './connection.js';
import { checkHttp, endSseSession, type HealthCheckHost } from './http-health.js';
import {
  HttpTransportChoice,
  type HttpTransportKind,
  type HttpTransportUsed,
} from './http-transport-choice.js';
import { needsLogin } from './login-provider.js';
import { loginStamp, waitForLogin } from './login-wait.js';
import { type RestartDecision, type RestartPolicy, RestartTracker } from './restart-policy.js';
import { describeStartFailure } from './start-failure.js';
import type { StderrTail } from './stderr-tail.js';
import { listInitialTools, refreshTools, type ToolListHost } from './tool-list.js';
import type { BackendInfo, BackendNotification, BackendStatus } from './types.js';

/** The backend as it is now: written by the lifecycle (and by closing), read by the call surface and `info`. */
export interface BackendState {
  status: BackendStatus;
  tools: Tool[];
  lastError: string | undefined;
  restartCount: number;
  /** The era and revision the last established connection speaks. */
  spoken: Pick<BackendInfo, 'era' | 'protocolVersion'>;
  /** For a `url` backend: the HTTP transport the live connection speaks. */
  httpUsed: HttpTransportUsed | undefined;
  conn: Connection | undefined;
  closedBy: 'removed' | 'shutdown' | undefined;
}

/** What the lifecycle needs of its Backend. */
export interface LifecycleHost {
  readonly config: ServerConfig;
  readonly context: {
    clientInfo: Implementation;
    backoff: RestartPolicy;
    maxMessageBytes: () => number;
    stopStepMs: () => number;
  };
  readonly log: Logger;
  readonly stderr: StderrTail;
  /** Sessions of the calls in flight, for the backend's sampling, elicitation and roots requests. */
  readonly requesters: CallRequesters;
  readonly state: BackendState;
  timeoutMs(): number;
  setStatus(status: BackendStatus): void;
  /** The tools changed (listed, withdrawn or refreshed). */
  toolsChanged(): void;
  /** A resource, prompt or log notification of the live connection. */
  notification(notification: BackendNotification): void;
  /** A progress notification, for the call that asked for it. */
  progress(params: ProgressNotification['params']): void;
}

export class BackendLifecycle {
  private attempts = 0;
  /** Failed starts and early deaths in a row: drives the backoff and the crash-loop verdict. */
  private readonly restarts: RestartTracker;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Set while the backend waits for `mcp-gateway login` (status "needs login"): stops the wait. */
  private stopLoginWait: (() => void) | undefined;
  /** What the last established connection learnt of the backend's era (see ConnectionSpec.prior). */
  private prior: PriorDiscovery | undefined;
  /** For a `url` backend: which HTTP transport to speak. */
  private readonly httpChoice: HttpTransportChoice | undefined;
  /** What refreshing the tools after a tools/list_changed sees of this backend (tool-list.ts). */
  private readonly toolListHost: ToolListHost;

  constructor(private readonly host: LifecycleHost) {
    const { config, state } = host;
    this.restarts = new RestartTracker(host.context.backoff);
    if (config.transport === 'http') this.httpChoice = new HttpTransportChoice(config.httpTransport);
    this.toolListHost = {
      timeoutMs: () => host.timeoutMs(),
      log: host.log,
      isCurrent: (conn) => conn === state.conn,
      isReady: () => state.status === 'ready',
      update: (tools) => {
        state.tools = tools;
        host.log.debug(`tools changed: ${tools.length} tools`);
        host.toolsChanged();
      },
    };
  }

  /** Starts the first connection attempt; returns at once. */
  start(): void {
    void this.attempt();
  }

  /** A call was served on `conn`: if it is the live connection, the crash-loop count starts again. */
  served(conn: Connection): void {
    if (conn === this.host.state.conn) this.restarts.served();
  }

  /** The backend is closing: no retry, no login wait from here on. */
  stop(): void {
    clearTimeout(this.retryTimer);
    this.stopLoginWait?.();
  }

  private async attempt(): Promise<void> {
    const { state, log } = this.host;
    if (state.closedBy) return;
    if (this.attempts++ > 0) state.restartCount++;
    const timeoutMs = this.host.timeoutMs();
    const at: AttemptState = { phase: 'start' };
    const storeStamp = loginStamp(this.host.config);
    try {
      const conn = await connectAttempt(at, {
        choice: this.httpChoice,
        open: (kind) => this.open(kind),
        adopt: (c) => {
          state.conn = c;
        },
        current: (c) => state.conn === c && !state.closedBy,
        timeoutMs,
        log,
      });
      at.phase = 'tools/list';
      const tools = await listInitialTools(conn, this.host.timeoutMs());
      if (state.closedBy || state.conn !== conn) return;
      conn.established = true;
      this.prior = priorOf(conn.client);
      const era = conn.client.getProtocolEra();
      const version = conn.client.getNegotiatedProtocolVersion();
      state.spoken = { ...(era ? { era } : {}), ...(version ? { protocolVersion: version } : {}) };
      state.httpUsed = at.kind && this.httpChoice?.connected(at.kind);
      listenForChanges(conn, log);
      state.tools = tools;
      this.restarts.ready();
      this.host.setStatus('ready');
      log.info(`ready with ${tools.length} tools${conn.pid ? ` (pid ${conn.pid})` : ''}`);
      this.host.toolsChanged();
    } catch (err) {
      const conn = at.conn;
      if (state.closedBy || (conn && state.conn !== conn)) return;
      const login = needsLogin(err);
      if (login) return this.awaitLogin(login.message, conn, storeStamp);
      const reason = await describeStartFailure(err, at.phase, conn, {
        config: this.host.config,
        timeoutMs: this.host.timeoutMs(),
      });
      if (state.closedBy) return;
      if (at.kind) this.httpChoice?.failed(at.kind);
      state.lastError = reason;
      const decision = this.restarts.startFailed(this.host.timeoutMs());
      if (decision.failFast) this.fail();
      log.warn(`failed to start: ${reason}; ${describeRetry(decision)}`);
      if (conn) await conn.close(log);
      this.scheduleRetry(decision.delayMs);
    }
  }

  /** No retries with backoff: the next attempt comes when the token store changes (a login). */
  private async awaitLogin(reason: string, conn: Connection | undefined, since: number): Promise<void> {
    const { state, log } = this.host;
    state.lastError = reason;
    const hadTools = state.tools.length > 0;
    state.tools = [];
    this.host.setStatus('needs login');
    if (hadTools) this.host.toolsChanged();
    log.warn(reason);
    if (conn) await conn.close(log);
    if (state.closedBy || this.stopLoginWait) return;
    const stop = waitForLogin(this.host.config, since, () => {
      if (this.stopLoginWait !== stop) return; // already woken
      stop();
      this.stopLoginWait = undefined;
      if (!state.closedBy) void this.attempt();
    });
    this.stopLoginWait = stop;
  }

  /** Calls fail fast and the tools are withdrawn until an attempt succeeds. */
  private fail(): void {
    const { state } = this.host;
    const hadTools = state.tools.length > 0;
    state.tools = [];
    this.host.setStatus('failed');
    if (hadTools) this.host.toolsChanged();
  }

  private scheduleRetry(delay: number): void {
    if (this.host.state.closedBy) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.attempt();
    }, delay);
    // Retrying alone keeps no process alive; whoever uses the registry does.
    this.retryTimer.unref();
  }

  /** Opens a connection whose events come back to this backend while it is the live one. */
  private open(httpTransport: HttpTransportKind | undefined): { conn: Connection; connected: Promise<void> } {
    const { state, config, log } = this.host;
    const timeoutMs = this.host.timeoutMs();
    const health: HealthCheckHost = {
      config,
      timeoutMs,
      log,
      isCurrent: (c) => c === state.conn,
      setLastError: (text) => {
        state.lastError = text;
      },
    };
    return openConnection(
      {
        config,
        clientInfo: this.host.context.clientInfo,
        timeoutMs,
        maxMessageBytes: this.host.context.maxMessageBytes,
        stopStepMs: this.host.context.stopStepMs,
        log,
        stderr: this.host.stderr,
        requesters: this.host.requesters,
        prior: this.prior,
        httpTransport,
      },
      {
        closed: (conn) => this.onClosed(conn),
        httpFailed: (conn, failure) => void checkHttp(conn, failure, health),
        sseStreamLost: (conn, why) => endSseSession(conn, why, health),
        toolListChanged: (conn) => refreshTools(conn, this.toolListHost),
        notification: (conn, notification) => {
          if (state.conn === conn && !state.closedBy) this.host.notification(notification);
        },
        progress: (params) => this.host.progress(params),
      },
    );
  }

  private onClosed(conn: Connection): void {
    const { state, log } = this.host;
    conn.markEnded();
    if (conn !== state.conn || conn.closing || !conn.established || state.closedBy) return;
    // A ready backend went away: calls wait for the reconnect and the tools stay listed, unless it is
    // crash-looping (then it is failed and calls fail fast).
    const decision = this.restarts.ended(this.host.timeoutMs());
    if (decision.failFast) this.fail();
    else this.host.setStatus('connecting');
    void conn.endReason.then(async (reason) => {
      state.lastError = reason;
      log.warn(`${reason}; ${describeRetry(decision, 'reconnecting')}`);
      await conn.close(log);
      this.scheduleRetry(decision.delayMs);
    });
  }
}

/** `retrying in 250 ms (2 failures in a row)`, for the log. */
function describeRetry(decision: RestartDecision, verb = 'retrying'): string {
  const inARow = decision.failures > 0 ? ` (${decision.failures} failures in a row)` : '';
  return `${verb} in ${decision.delayMs} ms${inARow}`;
}
