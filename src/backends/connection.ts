import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import {
  type Implementation,
  type PriorDiscovery,
  type ProgressNotification,
  SdkError,
  SdkErrorCode,
  SSEClientTransport,
  SseError,
  type Transport,
  type VersionNegotiationOptions,
} from '@modelcontextprotocol/client';
import { getDefaultEnvironment } from '@modelcontextprotocol/client/stdio';
import type { ServerConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import { telemetry } from '../observability/index.js';
import { killGroup, StdioChildTransport } from '../transport/index.js';
import { BackendClient } from './backend-client.js';
import { backendAuthProvider } from './backend-oauth.js';
import type { CallRequesters } from './call-routing.js';
import { describeError, describeExit, describeHttpFailure, type ExitInfo } from './describe.js';
import { headersFromFiles } from './header-files.js';
import { CallTaggingHttpTransport } from './http-call-transport.js';
import type { HttpTransportKind } from './http-transport-choice.js';
import { attachPassthrough, BACKEND_CLIENT_CAPABILITIES } from './passthrough.js';
import type { StderrTail } from './stderr-tail.js';
import type { BackendNotification } from './types.js';

/** The 2026-07-28 revision, pinned by `protocol: modern`. */
export const MODERN_PROTOCOL_VERSION = '2026-07-28';

/** Lines of a process's own stderr quoted in an error. */
export const STDERR_LINES_IN_ERROR = 3;
/**
 * The stdio transport's close ends stdin, waits 2 s, sends SIGTERM to the process group, waits 2 s and
 * sends SIGKILL to the group. Should the direct child still run after that, we wait this long for its
 * exit before sending SIGKILL to the group ourselves.
 */
const EXIT_GRACE_MS = 1_000;

/** What opening a connection needs from the backend it belongs to. */
export interface ConnectionSpec {
  config: ServerConfig;
  clientInfo: Implementation;
  /** Bounds connecting (the SDK's initialize timeout). */
  timeoutMs: number;
  /** Largest message accepted from a stdio backend, in bytes; read per message. */
  maxMessageBytes: () => number;
  /** Each wait of a stdio backend's stop sequence, read when stopping. */
  stopStepMs: () => number;
  log: Logger;
  /** The backend's stderr tail, shared by all its connections. */
  stderr: StderrTail;
  /** Sessions of the calls in flight, for the backend's sampling, elicitation and roots requests. */
  requesters: CallRequesters;
  /**
   * What the last connection learnt of the backend's era: with it `auto` skips the discovery probe
   * on a reconnect (a probe costs a round trip, and over stdio may start the process twice).
   */
  prior?: PriorDiscovery | undefined;
  /** For a `url` backend: the HTTP transport this connection speaks (see http-transport-choice.ts). */
  httpTransport?: HttpTransportKind | undefined;
}

/** How a connection tells its backend what happened on it. */
export interface ConnectionEvents {
  /** The transport closed (the process exited, or the gateway closed it). */
  closed(conn: Connection): void;
  /** A request to an HTTP backend failed below MCP (refused, reset, HTTP 5xx); `failure` says how. */
  httpFailed(conn: Connection, failure: string): void;
  /** The event stream of an HTTP+SSE backend broke: its session is gone (see http-health.ts). */
  sseStreamLost(conn: Connection, why: string): void;
  /** notifications/tools/list_changed. */
  toolListChanged(conn: Connection): void;
  /** Resource, prompt and log notifications. */
  notification(conn: Connection, notification: BackendNotification): void;
  progress(params: ProgressNotification['params']): void;
}

/** One attempt at talking to the backend: one Client, one transport, for stdio one process. */
export class Connection {
  /** Set right after spawn for stdio. */
  child: ChildProcess | undefined;
  pid: number | undefined;
  /** Where this process's stderr starts in the backend's tail. */
  readonly stderrMark: number;
  exit?: ExitInfo;
  exited: Promise<void> = Promise.resolve();
  /** Initialized and listed its tools. */
  established = false;
  /** We are closing it; its close is not a crash. */
  closing = false;
  /** The transport has closed. */
  ended = false;
  /** Resolves, once it has ended, with why: `exited with code 3; stderr: …`. */
  readonly endReason: Promise<string>;
  /** A tools/list_changed arrived; the listing in progress may be stale. */
  toolsStale = false;
  refreshing = false;
  /** Why the gateway's side closed it, when it did (an HTTP backend that stopped answering). */
  fault?: string;
  /** An HTTP request failed and a ping is checking whether the backend is still there. */
  checking = false;
  private resolveEnded!: (reason: string) => void;

  constructor(
    readonly client: BackendClient,
    readonly transport: Transport,
    private readonly kind: ServerConfig['transport'],
    private readonly stderr: StderrTail,
  ) {
    this.stderrMark = stderr.mark();
    this.endReason = new Promise<string>((resolve) => {
      this.resolveEnded = resolve;
    });
  }

  markEnded(): void {
    if (this.ended) return;
    this.ended = true;
    // The last stderr chunks pass through a PassThrough; let them land before quoting them.
    setImmediate(() => this.resolveEnded(this.describeEnd()));
  }

  /** `exited with code 3; stderr: …`; `when` goes after the first part (` during initialize`). */
  describeEnd(when = ''): string {
    let what: string;
    if (this.fault) what = this.fault;
    else if (this.exit) what = describeExit(this.exit);
    else what = this.kind === 'stdio' ? 'closed its connection' : 'connection closed';
    what += when;
    const lines = this.stderrLines();
    return lines.length ? `${what}; stderr: ${lines.join(' | ')}` : what;
  }

  /** The last lines this process wrote to stderr, for an error message. */
  stderrLines(): string[] {
    return this.stderr.since(this.stderrMark, STDERR_LINES_IN_ERROR);
  }

  /** Closes it and waits for its process to go, killing the process group when it outlives the close. */
  async close(log: Logger): Promise<void> {
    this.closing = true;
    try {
      await this.client.close();
    } catch (err) {
      log.debug(`close: ${describeError(err)}`);
    }
    if (this.pid === undefined) return;
    if (await this.exitedWithin(EXIT_GRACE_MS)) return;
    log.warn(`pid ${this.pid} outlived close; sending SIGKILL to its process group`);
    killGroup(this.pid, 'SIGKILL');
    await this.exitedWithin(1_000);
  }

  private async exitedWithin(ms: number): Promise<boolean> {
    if (this.child) {
      if (this.exit || this.child.exitCode !== null || this.child.signalCode !== null) return true;
      return Promise.race([this.exited.then(() => true), delay(ms).then(() => false)]);
    }
    const deadline = Date.now() + ms;
    while (this.pid !== undefined && isAlive(this.pid)) {
      if (Date.now() >= deadline) return false;
      await delay(50);
    }
    return true;
  }
}

/**
 * Creates the transport and client and starts connecting; `connected` is the SDK's connect (see
 * connectedOrEnded). Throws only on a bad config (URL) or an unreadable headers_from_files file.
 */
export function openConnection(
  spec: ConnectionSpec,
  events: ConnectionEvents,
): { conn: Connection; connected: Promise<void> } {
  const { config, log } = spec;
  let transport: Transport;
  if (config.transport === 'stdio') {
    const stdio = new StdioChildTransport({
      command: config.command,
      args: config.args,
      // The SDK's safe subset of our environment (HOME, LOGNAME, PATH, SHELL, TERM, USER) plus what the
      // user configured for this server: the gateway's own secrets (tokens in its environment) do not
      // leak into every backend, and a backend gets exactly what its config asks for.
      env: { ...getDefaultEnvironment(), ...config.env },
      cwd: config.cwd,
      maxMessageBytes: spec.maxMessageBytes,
      warn: (message) => log.warn(message),
      peer: `server '${config.name}'`,
      stopStepMs: spec.stopStepMs,
    });
    // Attached before start so output written before initialize (why it is about to exit) is kept.
    spec.stderr.attach(stdio.stderr as Readable, (line) => log.debug(`stderr: ${line}`));
    transport = stdio;
  } else if (spec.httpTransport === 'sse') {
    const { url, headers } = httpEndpoint(config.url, {
      ...config.headers,
      ...headersFromFiles(config.name, config.headersFromFiles),
    });
    // The configured headers go on the GET that opens the event stream and on every POST. Over
    // HTTP+SSE every message of the server comes on that one stream, so a backend's request cannot be
    // tied to a call: it is routed as over stdio (CallRequesters.unrelated).
    transport = new SSEClientTransport(url, {
      requestInit: { headers },
      fetch: (input, init) => fetch(input, telemetry.traceHeaders(init)),
    });
  } else {
    const { url, headers } = httpEndpoint(config.url, {
      ...config.headers,
      ...headersFromFiles(config.name, config.headersFromFiles),
    });
    // Tells which call a backend's sampling, elicitation or roots request belongs to (call-routing.ts).
    transport = new CallTaggingHttpTransport(
      url,
      {
        requestInit: { headers },
        ...(config.oauth ? { authProvider: backendAuthProvider(config) } : {}),
      },
      spec.requesters,
    );
  }

  const sse = transport instanceof SSEClientTransport;
  // HTTP+SSE is a 2025-era transport: skip the server/discover probe, which such a server cannot answer.
  const protocol = sse ? 'legacy' : config.protocol;
  const client = new BackendClient(
    spec.clientInfo,
    { capabilities: BACKEND_CLIENT_CAPABILITIES, versionNegotiation: negotiation(protocol) },
    spec.requesters,
  );
  const conn = new Connection(client, transport, config.transport, spec.stderr);
  client.onclose = () => events.closed(conn);
  client.onerror = (error) => {
    log.debug(`client error: ${describeError(error)}`);
    if (sse && error instanceof SseError) return events.sseStreamLost(conn, describeError(error));
    const failure = config.transport === 'http' ? describeHttpFailure(error) : undefined;
    if (failure) events.httpFailed(conn, failure);
  };
  client.setNotificationHandler('notifications/tools/list_changed', () => events.toolListChanged(conn));
  const notify = (notification: BackendNotification) => events.notification(conn, notification);
  attachPassthrough(client, { server: config.name, requesters: spec.requesters, notify });
  client.setNotificationHandler('notifications/message', ({ params }) => {
    const data = typeof params.data === 'string' ? params.data : JSON.stringify(params.data);
    log.debug(`log ${params.level}${params.logger ? ` ${params.logger}` : ''}: ${data?.slice(0, 1000)}`);
    notify({ kind: 'log', params });
  });
  // Progress is routed here rather than through RequestOptions.onprogress: the SDK (1.32) dispatches
  // notifications on a microtask but a response synchronously, and drops the request's progress
  // handler on the response, so the last progress sent just before the result (same read) was lost.
  // Our listener goes only when the caller's await resumes, after the queued notifications ran.
  client.setNotificationHandler('notifications/progress', ({ params }) => events.progress(params));

  // connect() spawns the process synchronously before its first await, so the child exists here and
  // its exit cannot have been missed.
  const prior = protocol === 'legacy' ? undefined : spec.prior;
  const connected = client.connect(transport, { timeout: spec.timeoutMs, ...(prior ? { prior } : {}) });
  if (transport instanceof StdioChildTransport) {
    const child = transport.child;
    conn.pid = transport.pid;
    conn.child = child;
    if (child) {
      // The SDK waits for 'drain' once per message written while the pipe is full, and a backend that
      // is slow or just died has one waiter per call in flight: many calls, not a leak. Raised, not
      // removed, so a real runaway still warns.
      child.stdin?.setMaxListeners(10_000);
      conn.exited = new Promise((resolve) => {
        child.once('exit', (code, signal) => {
          conn.exit = { code, signal };
          resolve();
        });
        child.once('error', () => resolve());
      });
    }
  }
  return { conn, connected };
}

/** The SDK's version negotiation for a backend's `protocol` setting. */
function negotiation(protocol: ServerConfig['protocol']): VersionNegotiationOptions {
  if (protocol === 'legacy') return { mode: 'legacy' };
  if (protocol === 'modern') return { mode: { pin: MODERN_PROTOCOL_VERSION } };
  return { mode: 'auto' };
}

/** The era a connected client speaks, as `prior` for the next connection to the same backend. */
export function priorOf(client: BackendClient): PriorDiscovery | undefined {
  const discover = client.getDiscoverResult();
  if (client.getProtocolEra() === 'modern' && discover) return { kind: 'modern', discover };
  return client.getProtocolEra() === 'legacy' ? { kind: 'legacy' } : undefined;
}

/**
 * A 2026-07-28 backend sends no unsolicited notifications: open a `subscriptions/listen` stream for
 * the list changes it declares, delivered to the handlers `openConnection` registered. Best effort:
 * without it the lists are refreshed on reconnects only.
 */
export function listenForChanges(conn: Connection, log: Logger): void {
  const client = conn.client;
  if (client.getProtocolEra() !== 'modern') return;
  const caps = client.getServerCapabilities();
  const filter = {
    ...(caps?.tools?.listChanged ? { toolsListChanged: true } : {}),
    ...(caps?.prompts?.listChanged ? { promptsListChanged: true } : {}),
    ...(caps?.resources?.listChanged ? { resourcesListChanged: true } : {}),
  };
  if (Object.keys(filter).length === 0) return;
  client.listen(filter).catch((err) => log.debug(`subscriptions/listen failed: ${describeError(err)}`));
}

/**
 * `connected`, unless the connection ends first or connecting takes longer than `ms` (plus a margin for
 * the SDK's own initialize timeout to speak first). The SDK's connect awaits writing
 * notifications/initialized, and a write to a process that exited just after answering initialize
 * waits for a 'drain' that never comes (SDK 1.32): the backend then stayed 'connecting' for ever.
 */
export function connectedOrEnded(conn: Connection, connected: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const ended = conn.endReason.then((reason) => {
    throw new Error(`the connection ended during initialize: ${reason}`);
  });
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new SdkError(SdkErrorCode.RequestTimeout, 'initialize did not complete', { timeout: ms }));
    }, ms + 1_000);
  });
  return Promise.race([connected, ended, deadline]).finally(() => clearTimeout(timer));
}

/**
 * fetch refuses a URL with `user:password@`; like curl, send them as Basic auth instead (unless an
 * Authorization header is configured), which also keeps them out of error messages.
 */
function httpEndpoint(
  text: string,
  configured: Record<string, string>,
): { url: URL; headers: Record<string, string> } {
  const url = new URL(text);
  const headers = { ...configured };
  if (url.username || url.password) {
    const hasAuth = Object.keys(headers).some((k) => k.toLowerCase() === 'authorization');
    if (!hasAuth) {
      const pair = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
      headers.Authorization = `Basic ${Buffer.from(pair).toString('base64')}`;
    }
    url.username = '';
    url.password = '';
  }
  return { url, headers };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A wait that keeps no process alive. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
