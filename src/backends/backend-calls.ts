import {
  type CallToolResult,
  type Client,
  type InputRequiredResult,
  LOG_LEVEL_META_KEY,
  type LoggingLevel,
  type ServerCapabilities,
  type Tool,
  withInputRequired,
} from '@modelcontextprotocol/client';
import { CallToolResultSchema } from '@modelcontextprotocol/core';
import type { ServerConfig } from '../config/types.js';
import { GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import { telemetry } from '../observability/index.js';
import { callError, cancelledError } from './call-errors.js';
import type { CallRequesters } from './call-routing.js';
import type { Connection } from './connection.js';
import { callerAuthorization } from './forward-token.js';
import { InFlight, type InFlightCall } from './in-flight.js';
import { withInputRounds } from './input-rounds.js';
import { PausableTimer } from './pausable-timer.js';
import { ProgressRoutes } from './progress-routes.js';
import { withoutBackendEnvelope } from './relay.js';
import { retriesOnCrash } from './retry.js';
import type { CallOptions, ClientRequester } from './types.js';

/**
 * What the SDK gets as a call's timeout: the gateway runs its own, pausable clock (PausableTimer). The
 * largest delay a Node timer takes.
 */
const NO_SDK_TIMEOUT_MS = 2_147_483_647;

const ALLOW_INPUT_SCHEMA = withInputRequired(CallToolResultSchema);

/** The call's requester with the call's clock paused while the client is asked. */
function pausing(requester: ClientRequester | undefined, clock: PausableTimer): ClientRequester | undefined {
  if (!requester) return undefined;
  return {
    ...requester,
    request: (request, options) => clock.while(() => requester.request(request, options)),
  };
}

/** What the call path needs from the backend it runs on. */
export interface CallHost {
  readonly name: string;
  readonly config: ServerConfig;
  readonly log: Logger;
  /** The per-call timeout, read per call. */
  timeoutMs(): number;
  /** The log level clients asked for, sent in `_meta` to 2026-07-28 backends. */
  logLevel?(): LoggingLevel | undefined;
  /** While the backend connects: resolves once it settled, after `limit` ms or on abort. Else undefined. */
  whileConnecting(limit: number, signal: AbortSignal | undefined): Promise<unknown> | undefined;
  /** The live connection when the backend is ready; throws BACKEND_UNAVAILABLE otherwise. */
  readyConnection(what: string, limit: number): Connection;
  /** The tools as the backend last listed them. */
  tools(): readonly Tool[];
  /** The backend was removed or shut down. */
  isClosed(): boolean;
  /** `conn` answered a call: its process ran and served. */
  served(conn: Connection): void;
}

/**
 * The calls and other requests one backend runs: tools/call with its timeout, cancellation, progress
 * and one retry on the restarted process after a crash; other requests (resources, prompts…) as calls
 * in flight too, so a drain waits for them and closing the backend ends them.
 */
/** What `request` runs on the live connection, with the signal to pass on and the time left. */
export type BackendRequest<T> = (c: {
  client: Client;
  capabilities: ServerCapabilities;
  signal: AbortSignal;
  timeoutMs: number;
  /** Registers the request's requester, for a 2025 backend's requests during it (sendRouted). */
  requesters: CallRequesters;
}) => Promise<T>;

export class BackendCalls {
  private readonly inFlight = new InFlight();
  readonly progress = new ProgressRoutes();

  constructor(
    private readonly host: CallHost,
    /** Sessions of the calls in flight, for the backend's sampling, elicitation and roots requests. */
    private readonly requesters: CallRequesters,
  ) {}

  async callTool(
    tool: string,
    args: Record<string, unknown>,
    options: CallOptions = {},
  ): Promise<CallToolResult> {
    this.inFlight.enter();
    const started = options.startedAt ?? Date.now();
    try {
      try {
        return await this.runCall(tool, args, options);
      } catch (err) {
        const left = (options.timeoutMs ?? this.host.timeoutMs()) - (Date.now() - started);
        if (!this.retryAfterCrash(tool, err, options.signal, left)) throw err;
        this.host.log.info(
          `retrying ${tool} on the restarted process: it was in flight when the process died`,
          telemetry.logFields(options.trace),
        );
        telemetry.backendRetry(this.host.name, tool, 2, 'the process died mid-call', options.trace);
        // `left` already counts the time since `startedAt`.
        const { startedAt: _counted, ...retry } = options;
        return await this.runCall(tool, args, { ...retry, timeoutMs: left });
      }
    } finally {
      this.inFlight.leave();
    }
  }

  /** Whether a call that failed with `err` is sent once more, to the restarted process. */
  private retryAfterCrash(
    tool: string,
    err: unknown,
    signal: AbortSignal | undefined,
    left: number,
  ): boolean {
    if (!(err instanceof GatewayError) || err.code !== 'BACKEND_EXITED') return false;
    if (this.host.isClosed() || signal?.aborted || left <= 0) return false;
    const definition = this.host.tools().find((t) => t.name === tool);
    return retriesOnCrash(tool, definition, this.host.config.retryOnCrash);
  }

  /**
   * Resolves once no call is in flight, counting calls still waiting for a connection (at once when
   * there are none). A config reload drains a backend this way before closing it.
   */
  whenIdle(): Promise<void> {
    return this.inFlight.whenIdle();
  }

  private async runCall(
    tool: string,
    args: Record<string, unknown>,
    options: CallOptions,
  ): Promise<CallToolResult> {
    const limit = options.timeoutMs ?? this.host.timeoutMs();
    // One deadline for the wait for a starting backend and the call: it may have begun in the front.
    const started = options.startedAt ?? Date.now();
    const { signal } = options;
    if (signal?.aborted) throw cancelledError(this.host.name, tool, signal);
    const connecting = this.host.whileConnecting(Math.max(limit - (Date.now() - started), 0), signal);
    if (connecting) {
      await connecting;
      if (signal?.aborted) throw cancelledError(this.host.name, tool, signal);
    }
    const conn = this.host.readyConnection(tool, limit);
    const tools = this.host.tools();
    if (!options.unlisted && !tools.some((t) => t.name === tool)) {
      const names = tools.map((t) => t.name).join(', ') || '(none)';
      throw new GatewayError(
        'TOOL_UNKNOWN',
        `server '${this.host.name}' has no tool '${tool}'; its tools: ${names}`,
        {
          server: this.host.name,
          tool,
        },
      );
    }

    // The caller's token (forward_caller_token) or one exchanged for it (token_exchange), before the
    // call is counted or timed: a refusal here sends nothing to the backend.
    const authorization = await callerAuthorization(this.host.config, options.credential, tool);
    // A call of its own controller, so the caller's signal (perhaps shared by a whole pipeline run) is
    // unhooked when the call ends: the SDK never removes the abort listener it adds.
    const call: InFlightCall = { tool, controller: new AbortController() };
    const onAbort = () => call.controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    this.inFlight.add(call);
    const progressToken = this.progress.add(options.onProgress);
    const timeout = Math.max(limit - (Date.now() - started), 1);
    // The trace context goes to every backend in `_meta` (HTTP ones also get the header: http-call-transport.ts).
    const trace = telemetry.traceMeta(options.trace);
    // A 2026-07-28 backend logs only when the request asks (no logging/setLevel in that era).
    const level =
      conn.client.getProtocolEra() === 'modern' ? (options.logLevel ?? this.host.logLevel?.()) : undefined;
    const logMeta = level ? { [LOG_LEVEL_META_KEY]: level } : undefined;
    const meta =
      progressToken || trace || logMeta
        ? { _meta: { ...(progressToken ? { progressToken } : {}), ...trace, ...logMeta } }
        : {};
    const params = { name: tool, arguments: args, ...meta };
    // The call's own clock, paused while the backend waits for the client's person (an elicitation,
    // sampling or roots request forwarded, or parked until a 2026-07-28 client retries): the SDK's
    // timeout cannot pause, so it gets none of its own and this one aborts the call instead.
    let timedOut = false;
    const clock = new PausableTimer(timeout, () => {
      timedOut = true;
      call.controller.abort(new Error(`${this.host.name}.${tool} timed out after ${limit} ms`));
    });
    const requester = pausing(options.requester, clock);
    // Keyed by `params`, the object the SDK sends: the HTTP transport learns the call's JSON-RPC id by it.
    const releaseRequester = this.requesters.begin(params, requester, authorization);
    try {
      // client.request, not client.callTool: the result goes back unchanged, and output-schema checks
      // belong to the end client (callTool's validator cache is also reset by every tools/list page).
      // An abort (the caller's, or the clock's) makes the SDK send notifications/cancelled to the backend.
      const sdkOptions = { signal: call.controller.signal, timeout: NO_SDK_TIMEOUT_MS };
      const result =
        conn.client.getProtocolEra() === 'modern'
          ? await withInputRounds({
              server: this.host.name,
              what: tool,
              params,
              requester,
              signal: call.controller.signal,
              send: (p) =>
                conn.client.request(
                  { method: 'tools/call', params: p as typeof params },
                  ALLOW_INPUT_SCHEMA,
                  {
                    ...sdkOptions,
                    allowInputRequired: true,
                  },
                ) as Promise<CallToolResult | InputRequiredResult>,
            })
          : await conn.client.request({ method: 'tools/call', params }, CallToolResultSchema, sdkOptions);
      // It answered: this process ran and served, so its death would not count toward a crash loop.
      this.host.served(conn);
      return withoutBackendEnvelope(result as CallToolResult);
    } catch (err) {
      throw await callError(err, {
        server: this.host.name,
        transport: this.host.config.transport,
        call,
        conn,
        limit,
        timeout,
        timedOut,
        signal,
      });
    } finally {
      clock.clear();
      signal?.removeEventListener('abort', onAbort);
      this.inFlight.delete(call);
      this.progress.remove(progressToken);
      releaseRequester();
    }
  }

  /**
   * The SDK client of the live connection and what the backend declared, once it is ready (waiting,
   * within `timeoutMs`, while it connects). Private: a request made on the client directly would
   * escape the in-flight count; `request` is the way in. Throws BACKEND_UNAVAILABLE when not ready.
   */
  private async connection(
    what: string,
    options: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<{ client: Client; capabilities: ServerCapabilities }> {
    const limit = options.timeoutMs ?? this.host.timeoutMs();
    // An already-aborted signal fires no 'abort' event: the wait below would last the whole limit.
    if (options.signal?.aborted) throw cancelledError(this.host.name, what, options.signal);
    const connecting = this.host.whileConnecting(limit, options.signal);
    if (connecting) await connecting;
    if (options.signal?.aborted) throw cancelledError(this.host.name, what, options.signal);
    const conn = this.host.readyConnection(what, limit);
    return { client: conn.client, capabilities: conn.client.getServerCapabilities() ?? {} };
  }

  /**
   * Runs one request other than tools/call (resources, prompts, completions, logging) on the live
   * connection, as a call in flight: whenIdle waits for it (a reload's or remove's drain), and closing
   * the backend ends it with BACKEND_REMOVED / BACKEND_UNAVAILABLE. `fn` gets the client, what the
   * backend declared, a signal to pass on (the caller's, or this backend closing) and the time left.
   */
  async request<T>(
    what: string,
    fn: BackendRequest<T>,
    options: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<T> {
    const limit = options.timeoutMs ?? this.host.timeoutMs();
    const started = Date.now();
    const { signal } = options;
    const call: InFlightCall = { tool: what, controller: new AbortController() };
    const onAbort = () => call.controller.abort(signal?.reason);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    this.inFlight.enter();
    this.inFlight.add(call);
    try {
      const own = call.controller.signal;
      const live = await this.connection(what, { timeoutMs: limit, signal: own });
      const timeoutMs = Math.max(limit - (Date.now() - started), 1);
      return await fn({ ...live, signal: own, timeoutMs, requesters: this.requesters });
    } catch (err) {
      throw call.endedBy ?? err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.inFlight.delete(call);
      this.inFlight.leave();
    }
  }

  /** The backend is going for good: every call in flight ends with BACKEND_REMOVED or BACKEND_UNAVAILABLE. */
  endAll(kind: 'removed' | 'shutdown'): void {
    this.inFlight.endAll((call) => {
      const what =
        kind === 'removed'
          ? new GatewayError(
              'BACKEND_REMOVED',
              `server '${this.host.name}' was removed while '${call.tool}' was running`,
            )
          : new GatewayError(
              'BACKEND_UNAVAILABLE',
              `server '${this.host.name}' was shut down while '${call.tool}' was running (the gateway is closing)`,
            );
      Object.assign(what.data, { server: this.host.name, tool: call.tool });
      return what;
    });
  }
}
