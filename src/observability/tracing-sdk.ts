/**
 * Tracing on the OpenTelemetry SDK: a NodeTracerProvider (AsyncLocalStorage context, W3C trace
 * context), a batch processor and the OTLP/HTTP exporter. The exporter reads the standard OTEL_*
 * variables (endpoint, headers, timeout); the provider reads the sampler (OTEL_TRACES_SAMPLER,
 * OTEL_TRACES_SAMPLER_ARG) and the batch settings (OTEL_BSP_*). Imported only when tracing is on.
 */

import { randomFillSync } from 'node:crypto';
import {
  type Attributes,
  type Context,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import {
  convertLegacyHttpOptions,
  createOtlpHttpExportDelegate,
} from '@opentelemetry/otlp-exporter-base/node-http';
import { ProtobufTraceSerializer, TraceExporterMetricsHelper } from '@opentelemetry/otlp-transformer';
import {
  defaultResource,
  detectResources,
  envDetector,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  type IdGenerator,
  NodeTracerProvider,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-node';
import { secrets } from '../secrets.js';
import type { SpanAttributes, TraceSpan, Tracing, TracingSettings } from './tracing.js';

const TRACER_NAME = 'mcp-gateway';

export function createSdkTracing(settings: TracingSettings): Tracing {
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (the env detector) win over our defaults.
  const resource = defaultResource()
    .merge(
      resourceFromAttributes({ 'service.name': 'mcp-gateway', 'service.version': settings.serviceVersion }),
    )
    .merge(detectResources({ detectors: [envDetector] }));
  const provider = new NodeTracerProvider({
    resource,
    idGenerator: new PooledIdGenerator(),
    spanProcessors: [new BatchSpanProcessor(exporterFor(settings))],
  });
  // Not provider.register(): that installs the AsyncLocalStorage context manager (see tracing.ts).
  const propagator = new W3CTraceContextPropagator();
  const tracer = provider.getTracer(TRACER_NAME, settings.serviceVersion);

  return {
    startIncoming(name, attributes, carrier) {
      const parent = carrier.traceparent
        ? propagator.extract(ROOT_CONTEXT, carrier, {
            get: (c, key) => (c as Record<string, string | undefined>)[key],
            keys: (c) => Object.keys(c),
          })
        : ROOT_CONTEXT;
      return new SdkSpan(tracer.startSpan(name, { kind: SpanKind.SERVER }, parent), attributes);
    },
    start(name, attributes, parent, kind) {
      const ctx = parent instanceof SdkSpan ? parent.context() : ROOT_CONTEXT;
      const spanKind = kind === 'client' ? SpanKind.CLIENT : SpanKind.INTERNAL;
      return new SdkSpan(tracer.startSpan(name, { kind: spanKind }, ctx), attributes);
    },
    outgoing(span) {
      if (!(span instanceof SdkSpan)) return {};
      // What the W3C propagator writes, without its generic carrier machinery: this runs per call.
      const { traceId, spanId, traceFlags, traceState } = span.span.spanContext();
      const traceparent = `00-${traceId}-${spanId}-${(traceFlags & 0xff).toString(16).padStart(2, '0')}`;
      const tracestate = traceState?.serialize();
      return tracestate ? { traceparent, tracestate } : { traceparent };
    },
    shutdown: () => provider.shutdown(),
  };
}

function exporterFor(settings: TracingSettings): SpanExporter {
  if (settings.protocol === 'http/json') return new OTLPTraceExporter();
  // What @opentelemetry/exporter-trace-otlp-proto does, from the packages the JSON exporter already
  // brings: the same delegate, with the protobuf serializer.
  const delegate = createOtlpHttpExportDelegate(
    convertLegacyHttpOptions({}, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' }),
    ProtobufTraceSerializer,
    'otlp_http_span_exporter',
    TraceExporterMetricsHelper,
    undefined,
  );
  return new OTLPExporterBase<ReadableSpan[]>(delegate) as SpanExporter;
}

/**
 * Span and trace ids from a pool of crypto-random bytes, refilled 4 KiB at a time: the SDK's default
 * draws them one Math.random() per byte, which showed in the bench on every span (sampled or not).
 */
class PooledIdGenerator implements IdGenerator {
  private readonly pool = Buffer.allocUnsafe(4096);
  private at = this.pool.length;

  generateTraceId(): string {
    return this.take(16);
  }

  generateSpanId(): string {
    return this.take(8);
  }

  private take(bytes: number): string {
    if (this.at + bytes > this.pool.length) {
      randomFillSync(this.pool);
      this.at = 0;
    }
    const id = this.pool.toString('hex', this.at, this.at + bytes);
    this.at += bytes;
    // An all-zero id is invalid (W3C trace context); 2^-64 at worst, but never hand one out.
    return /[^0]/.test(id) ? id : this.take(bytes);
  }
}

/**
 * One span. Its context (to parent other spans) is made only when asked for. Attributes are names,
 * ids and counts, set as given (the SDK drops undefined ones); free text — an error message, which can
 * quote a token a backend echoed — is redacted (see secrets.ts).
 */
class SdkSpan implements TraceSpan {
  private ctx: Context | undefined;
  readonly traceId: string;
  readonly spanId: string;

  private readonly recording: boolean;

  /**
   * `attributes` are set only on a span the sampler records: the SDK would sanitize them for an
   * unsampled span too, and twice for a sampled one when given at start (no sampler we use reads them).
   */
  constructor(
    readonly span: Span,
    attributes: SpanAttributes,
  ) {
    const { traceId, spanId } = span.spanContext();
    this.traceId = traceId;
    this.spanId = spanId;
    this.recording = span.isRecording();
    if (this.recording) this.span.setAttributes(attributes as Attributes);
  }

  context(): Context {
    this.ctx ??= trace.setSpan(ROOT_CONTEXT, this.span);
    return this.ctx;
  }

  setAttributes(attributes: SpanAttributes): void {
    if (this.recording) this.span.setAttributes(attributes as Attributes);
  }

  event(name: string, attributes?: SpanAttributes): void {
    if (!this.recording) return;
    if (!attributes) {
      this.span.addEvent(name);
      return;
    }
    const redacted: Attributes = {};
    for (const [k, v] of Object.entries(attributes))
      if (v !== undefined) redacted[k] = typeof v === 'string' ? secrets.redact(v) : v;
    this.span.addEvent(name, redacted);
  }

  end(error?: string, at?: number): void {
    if (!this.recording) return;
    if (error !== undefined)
      this.span.setStatus({ code: SpanStatusCode.ERROR, message: secrets.redact(error) });
    // performance.now() milliseconds; the SDK reads a plain number as milliseconds since the epoch.
    this.span.end(at === undefined ? undefined : performance.timeOrigin + at);
  }
}
