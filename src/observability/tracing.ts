/**
 * What the gateway asks of tracing. The OpenTelemetry SDK behind it (tracing-sdk.ts) is imported only
 * when tracing is configured, so a gateway without OTEL_* settings never loads it.
 *
 * The parent of a span is always passed explicitly — the call paths carry it (`trace` in the front's
 * CallContext, the registry's CallOptions, the engine's call hooks) — never read from an "active"
 * context: on Node 20 the AsyncLocalStorage that an active context needs taxes every promise of the
 * process, and cost a third of the gateway's throughput in the bench.
 */

export type SpanAttributes = Record<string, string | number | boolean | undefined>;

export interface TraceSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** Whether the sampler kept it: an unsampled span only carries its trace context on. */
  readonly recording: boolean;
  setAttributes(attributes: SpanAttributes): void;
  event(name: string, attributes?: SpanAttributes): void;
  /**
   * Ends the span; with `error`, its status is ERROR with that message. `at` is when it ended, in
   * `performance.now()` milliseconds (default: now).
   */
  end(error?: string, at?: number): void;
}

/** W3C trace context, as it travels in `_meta` or HTTP headers. */
export interface TraceCarrier {
  traceparent?: string;
  tracestate?: string;
}

export interface Tracing {
  /**
   * A server span for a request that came in: a child of the caller's trace when `carrier` holds a
   * valid `traceparent`, else the root of a new trace.
   */
  startIncoming(name: string, carrier: TraceCarrier): TraceSpan;
  /**
   * A span under `parent` (a new trace's root when undefined). Attributes are set afterwards, and
   * only on a span that is `recording`, so an unsampled call does not build them.
   */
  start(name: string, parent: TraceSpan | undefined, kind?: 'internal' | 'client'): TraceSpan;
  /** The trace context of `span`, for a request sent on its behalf. */
  outgoing(span: TraceSpan): TraceCarrier;
  /** Sends what is buffered and stops. */
  shutdown(): Promise<void>;
}

export interface TracingSettings {
  /** The endpoint spans go to (for the log line); the exporter reads the OTEL_* variables itself. */
  endpoint: string;
  protocol: 'http/json' | 'http/protobuf';
  serviceVersion: string;
}

/**
 * Whether OTEL_* variables ask for traces, and how: undefined when they do not (or OTEL_SDK_DISABLED
 * is true, or OTEL_TRACES_EXPORTER is none). A string is a problem to warn about (tracing stays off).
 */
export function tracingSettingsFromEnv(
  env: NodeJS.ProcessEnv,
  serviceVersion: string,
): TracingSettings | string | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '').split(',').map((s) => s.trim().toLowerCase());
  if (exporters.includes('none')) return undefined;
  const specific = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (!specific && !base && !exporters.includes('otlp')) return undefined;
  const endpoint =
    specific || (base ? `${base.replace(/\/+$/, '')}/v1/traces` : 'http://localhost:4318/v1/traces');
  const protocol =
    // An empty variable counts as unset, as the OpenTelemetry spec asks.
    (
      env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL?.trim() ||
      env.OTEL_EXPORTER_OTLP_PROTOCOL?.trim() ||
      'http/protobuf'
    )
      .trim()
      .toLowerCase();
  if (protocol !== 'http/json' && protocol !== 'http/protobuf') {
    return `OTEL_EXPORTER_OTLP_PROTOCOL=${protocol} is not supported (use http/protobuf or http/json): tracing is off`;
  }
  return { endpoint, protocol, serviceVersion };
}

/**
 * Loads the OpenTelemetry SDK and starts exporting spans. `warn` hears of a sampler setting it could
 * not use and of spans it could not export.
 */
export async function startTracing(
  settings: TracingSettings,
  warn: (message: string) => void,
): Promise<Tracing> {
  const { createSdkTracing } = await import('./tracing-sdk.js');
  return createSdkTracing(settings, warn);
}
