/**
 * The one object the call sites talk to. Each hook takes plain values, so the files that speak MCP
 * call it with a line and know nothing of OpenTelemetry or Prometheus. Until `install` (see setup.ts)
 * — and whenever tracing, metrics and the audit log are all off — every hook is a check of one field.
 */
import { createHash } from 'node:crypto';
import type { CompiledPipeline, RunObserver } from '../pipeline/index.js';
import type { AuditSink, CallTarget } from './audit.js';
import { redactArguments } from './audit.js';
import { errorCode, OTHER, type Outcome, outcomeOf, unknownTarget } from './labels.js';
import type { GatewayMetrics } from './metrics.js';
import { createRunObserver } from './run-observer.js';
import type { TraceCarrier, TraceSpan, Tracing } from './tracing.js';

/** What the front knows of one tools/call, as plain values. */
export interface ToolCallInfo {
  tool: string;
  args: unknown;
  /** The request's `_meta` (traceparent, tracestate). */
  meta?: Record<string, unknown> | undefined;
  /**
   * HTTP request headers, for the `traceparent` header; undefined over stdio. A web `Headers` (what
   * the SDK hands a request handler) is read only when tracing needs it, not copied per call.
   */
  headers?: Headers | Record<string, string | string[] | undefined> | undefined;
  session?: string | undefined;
  transport: 'stdio' | 'http';
  client?: { name?: string; version?: string } | undefined;
  /** Who the token names (`sub`, client id), with `http.auth`; never the token. */
  caller?: string | undefined;
}

/** How the front names things, given at install (observability cannot import the front). */
export interface FrontNames {
  /** What a served tool name means: a backend's tool, a pipeline, a meta tool. */
  describe(tool: string, args: unknown): CallTarget;
  /** Whether the front serves `tool` now (metric labels are bounded to the served catalog). */
  served(tool: string): boolean;
}

export interface TelemetryParts {
  tracing?: Tracing;
  metrics?: GatewayMetrics;
  audit?: AuditSink;
  names: FrontNames;
  /** The HTTP bearer token, to name the caller by a short hash of it (never the token). */
  token?: string;
}

export type ProtocolEra = 'legacy' | 'modern';

class Telemetry {
  private parts: TelemetryParts | undefined;
  private tokenIdentity = 'anonymous';

  get tracing(): Tracing | undefined {
    return this.parts?.tracing;
  }

  get metrics(): GatewayMetrics | undefined {
    return this.parts?.metrics;
  }

  install(parts: TelemetryParts): void {
    this.parts = parts.tracing || parts.metrics || parts.audit ? parts : undefined;
    this.tokenIdentity = parts.token ? `token:${sha256(parts.token).slice(0, 12)}` : 'anonymous';
  }

  /** Back to no-ops; returns what was installed, for shutting it down. */
  uninstall(): TelemetryParts | undefined {
    const parts = this.parts;
    this.parts = undefined;
    return parts;
  }

  /**
   * The protocol era of a request: the one place it is decided. A 2026-07-28 request names its
   * revision in the `_meta` envelope; a 2025-era request (in a session) does not.
   */
  protocolEra(meta?: Record<string, unknown>): ProtocolEra {
    const version = meta?.['io.modelcontextprotocol/protocolVersion'];
    return typeof version === 'string' && version >= '2026' ? 'modern' : 'legacy';
  }

  /**
   * Runs one client tools/call: a span (continuing the client's trace), metrics, an audit line. `fn`
   * gets the request's trace, to hand on (CallContext.trace); undefined when tracing is off.
   */
  toolCall<T>(info: ToolCallInfo, fn: (trace: unknown) => Promise<T>): Promise<T> {
    const parts = this.parts;
    if (!parts) return fn(undefined);
    const started = performance.now();
    const startedAt = parts.audit ? Date.now() : 0;
    const span = parts.tracing?.startIncoming(`tools/call ${info.tool}`, carrierOf(info));
    // An unsampled span records nothing: its attributes are not even made.
    if (span?.recording) {
      span.setAttributes({
        'mcp.method.name': 'tools/call',
        'mcpgw.tool': info.tool,
        'mcpgw.transport': info.transport,
        'mcpgw.session': info.session,
        'mcp.protocol.era': this.protocolEra(info.meta),
        'mcpgw.client': info.client?.name,
        // OpenTelemetry's attribute for the authenticated user.
        'enduser.id': info.caller,
      });
      if (parts.names.describe(info.tool, info.args).kind === 'backend') directCalls.add(span);
    }
    parts.metrics?.requestStarted(info.transport);
    const settle = (result: unknown, err: unknown, ended: number) => {
      const outcome = outcomeOf(result, err);
      const seconds = (ended - started) / 1000;
      const code = err === undefined ? resultCode(result) : errorCode(err);
      if (span?.recording) {
        span.setAttributes({ 'mcpgw.outcome': outcome, 'mcpgw.error_code': code });
        span.end(outcome === 'ok' ? undefined : (code ?? outcome), ended);
      }
      parts.metrics?.requestEnded(
        info.transport,
        parts.names.served(info.tool) ? info.tool : OTHER,
        outcome,
        seconds,
      );
      if (parts.audit) {
        parts.audit.write({
          time: new Date(startedAt).toISOString(),
          event: 'tools/call',
          identity: this.identity(info),
          transport: info.transport,
          ...(info.session !== undefined ? { session: info.session } : {}),
          ...(info.client ? { client: { name: info.client.name, version: info.client.version } } : {}),
          tool: info.tool,
          target: parts.names.describe(info.tool, info.args),
          arguments: redactArguments(info.args ?? {}),
          outcome,
          ...(code !== undefined ? { errorCode: code } : {}),
          durationMs: seconds * 1000,
          ...(span ? { traceId: span.traceId } : {}),
        });
      }
    };
    return settledLater(fn(span), settle);
  }

  /**
   * Runs one tools/call to a backend the registry holds (so `server` is a bounded label), a crash
   * retry included: a client span and metrics.
   */
  backendCall<T>(
    server: string,
    tool: string,
    parent: unknown,
    fn: (trace: unknown) => Promise<T>,
  ): Promise<T> {
    const parts = this.parts;
    if (!parts || (!parts.tracing && !parts.metrics)) return fn(undefined);
    const started = performance.now();
    const request = parent as TraceSpan | undefined;
    // A client's call of a backend's tool is one span, not two: the request span takes the backend's
    // attributes and its trace context goes to the backend. A span costs about as much as the
    // gateway's own work on such a call; pipelines keep a span per backend call (steps fan out).
    // Under an unsampled span nothing is recorded: its own trace context goes on, no span is made.
    const merged = request !== undefined && (!request.recording || directCalls.delete(request));
    const span = merged ? undefined : parts.tracing?.start(`backend ${server} ${tool}`, request, 'client');
    span?.setAttributes({ 'mcpgw.server': server, 'mcpgw.tool': tool });
    parts.metrics?.backendStarted(server);
    const settle = (result: unknown, err: unknown, ended: number) => {
      const outcome: Outcome = outcomeOf(result, err);
      const unknownTool = unknownTarget(err).tool;
      parts.metrics?.backendEnded(server, unknownTool ? OTHER : tool, outcome, (ended - started) / 1000);
      if (merged) {
        request.setAttributes({
          'mcpgw.server': server,
          'mcpgw.backend.tool': tool,
          'mcpgw.backend.duration_ms': ended - started,
        });
      } else if (span) {
        const code = err === undefined ? undefined : errorCode(err);
        span.setAttributes({ 'mcpgw.outcome': outcome, 'mcpgw.error_code': code });
        span.end(outcome === 'ok' ? undefined : (code ?? outcome), ended);
      }
    };
    return settledLater(fn(merged ? request : span), settle);
  }

  /** A backend call is sent again after its process died (inside `backendCall`, whose trace it gets). */
  backendRetry(server: string, tool: string, attempt: number, reason: string, trace: unknown): void {
    const parts = this.parts;
    if (!parts) return;
    parts.metrics?.backendRetried(server, tool);
    (trace as TraceSpan | undefined)?.event('retry', { 'mcpgw.attempt': attempt, 'mcpgw.error': reason });
  }

  /** `_meta` entries for a request sent on behalf of `trace`: its trace context, when tracing is on. */
  traceMeta(trace: unknown): TraceCarrier | undefined {
    const tracing = this.parts?.tracing;
    return tracing && trace ? tracing.outgoing(trace as TraceSpan) : undefined;
  }

  /**
   * Fetch options with the `traceparent` (and `tracestate`) header of the JSON-RPC request in the body,
   * copied from its `_meta` (traceMeta put it there): HTTP backends and proxies read the header.
   */
  traceHeaders<I extends { headers?: unknown; body?: unknown } | undefined>(init: I): I {
    if (!this.parts?.tracing || typeof init?.body !== 'string') return init;
    const traceparent = TRACEPARENT_IN_BODY.exec(init.body)?.[1];
    if (!traceparent) return init;
    const headers = new Headers(init.headers as ConstructorParameters<typeof Headers>[0]);
    headers.set('traceparent', traceparent);
    const tracestate = TRACESTATE_IN_BODY.exec(init.body)?.[1];
    if (tracestate) headers.set('tracestate', tracestate);
    return { ...init, headers } as I;
  }

  /** Fields for a log line about `trace`'s work: JSON logs show its trace and span ids. */
  logFields(trace: unknown): Record<string, string> | undefined {
    const span = trace as TraceSpan | undefined;
    return span ? { trace_id: span.traceId, span_id: span.spanId } : undefined;
  }

  /** The run observer for a pipeline run; undefined (nothing to observe) when off. */
  runObserver(label: (pipeline: CompiledPipeline) => string): RunObserver | undefined {
    const parts = this.parts;
    if (!parts || (!parts.tracing && !parts.metrics)) return undefined;
    return createRunObserver(parts.tracing, parts.metrics, label);
  }

  /** A client session opened; call what it returns when it closes. */
  sessionOpened(transport: 'stdio' | 'http', era: ProtocolEra): () => void {
    const metrics = this.parts?.metrics;
    if (!metrics) return () => {};
    metrics.sessionOpened(transport, era);
    let open = true;
    return () => {
      if (open) metrics.sessionClosed(transport, era);
      open = false;
    };
  }

  /** A hot reload of `kind` (config, pipelines) ended. */
  reloaded(kind: 'config' | 'pipelines', ok: boolean): void {
    this.parts?.metrics?.reloaded(kind, ok ? 'ok' : 'invalid');
  }

  private identity(info: ToolCallInfo): string {
    // Over HTTP every request passed the token check before it got here; over stdio the caller is the
    // local process that started the gateway.
    if (info.caller !== undefined) return info.caller;
    return info.transport === 'stdio' ? 'stdio' : this.tokenIdentity;
  }
}

/**
 * Request spans of client calls that name one backend tool, until their backend call claims them
 * (see backendCall). Weak: a call that never reaches a backend (unknown tool, refused) leaves none.
 */
const directCalls = new WeakSet<TraceSpan>();

type Settle = (result: unknown, err: unknown, ended: number) => void;
const pending: [Settle, unknown, unknown, number][] = [];

/**
 * Runs `settle` (span end, metrics, the audit line) once the answer is on its way: the caller's
 * result goes back first, and the bookkeeping of every call ended in this turn runs in one
 * setImmediate. `ended` is taken now, so durations do not include the wait.
 */
function later(settle: Settle, result: unknown, err: unknown): void {
  pending.push([settle, result, err, performance.now()]);
  if (pending.length === 1) setImmediate(flush);
}

function flush(): void {
  for (const [settle, result, err, ended] of pending.splice(0)) {
    try {
      settle(result, err, ended);
    } catch {
      // Bookkeeping must never break a call that already answered.
    }
  }
}

/** A W3C traceparent in a JSON-RPC body's `_meta` (the gateway's own JSON.stringify: no spaces). */
const TRACEPARENT_IN_BODY = /"traceparent":"([0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2})"/;
const TRACESTATE_IN_BODY = /"tracestate":"([^"\\]{1,512})"/;

/** The trace context a client sent: `_meta.traceparent`, else the HTTP `traceparent` header. */
function carrierOf(info: ToolCallInfo): TraceCarrier {
  const meta = info.meta;
  if (typeof meta?.traceparent === 'string') {
    return {
      traceparent: meta.traceparent,
      ...(typeof meta.tracestate === 'string' ? { tracestate: meta.tracestate } : {}),
    };
  }
  const header = (name: string) => {
    const headers = info.headers;
    if (headers instanceof Headers) return headers.get(name) ?? undefined;
    const value = headers?.[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const traceparent = header('traceparent');
  if (!traceparent) return {};
  const tracestate = header('tracestate');
  return { traceparent, ...(tracestate ? { tracestate } : {}) };
}

/** The gateway's error code in a tool result (`structuredContent.code`), if it has one. */
function resultCode(result: unknown): string | undefined {
  const r = result as { isError?: unknown; structuredContent?: { code?: unknown } } | undefined;
  if (r?.isError !== true) return undefined;
  const code = r.structuredContent?.code;
  return typeof code === 'string' ? code : undefined;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The process's telemetry: no-ops until setup installs its parts. */
export const telemetry = new Telemetry();

/** `promise`, with `settle` run after its outcome is handed on (see `later`), success or failure. */
function settledLater<T>(promise: Promise<T>, settle: Settle): Promise<T> {
  return promise.then(
    (result) => {
      later(settle, result, undefined);
      return result;
    },
    (err: unknown) => {
      later(settle, undefined, err);
      throw err;
    },
  );
}
