/**
 * Tracing on the OpenTelemetry SDK: a NodeTracerProvider (AsyncLocalStorage context, W3C trace
 * context), a batch processor and the OTLP/HTTP exporter. The exporter reads the standard OTEL_*
 * variables (endpoint, headers, timeout); the provider reads the sampler (OTEL_TRACES_SAMPLER,
 * OTEL_TRACES_SAMPLER_ARG) and the batch settings (OTEL_BSP_*). Imported only when tracing is on.
 */
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
  NodeTracerProvider,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-node';
import { secrets } from '../secrets.js';
import type { SpanAttributes, TraceCarrier, TraceSpan, Tracing, TracingSettings } from './tracing.js';

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
    spanProcessors: [new BatchSpanProcessor(exporterFor(settings))],
  });
  // Not provider.register(): that installs the AsyncLocalStorage context manager (see tracing.ts).
  const propagator = new W3CTraceContextPropagator();
  const tracer = provider.getTracer(TRACER_NAME, settings.serviceVersion);
  const contexts = new WeakMap<TraceSpan, Context>();

  const wrap = (span: Span, ctx: Context): TraceSpan => {
    const { traceId, spanId } = span.spanContext();
    const handle: TraceSpan = {
      traceId,
      spanId,
      setAttributes: (a) => span.setAttributes(clean(a)),
      event: (name, a) => span.addEvent(name, a ? clean(a) : undefined),
      end(error) {
        if (error !== undefined)
          span.setStatus({ code: SpanStatusCode.ERROR, message: secrets.redact(error) });
        span.end();
      },
    };
    contexts.set(handle, trace.setSpan(ctx, span));
    return handle;
  };

  return {
    startIncoming(name, attributes, carrier) {
      const parent = carrier.traceparent
        ? propagator.extract(ROOT_CONTEXT, carrier, {
            get: (c, key) => (c as Record<string, string | undefined>)[key],
            keys: (c) => Object.keys(c),
          })
        : ROOT_CONTEXT;
      const span = tracer.startSpan(name, { kind: SpanKind.SERVER, attributes: clean(attributes) }, parent);
      return wrap(span, parent);
    },
    start(name, attributes, parent, kind) {
      const ctx = (parent && contexts.get(parent)) ?? ROOT_CONTEXT;
      const span = tracer.startSpan(
        name,
        { kind: kind === 'client' ? SpanKind.CLIENT : SpanKind.INTERNAL, attributes: clean(attributes) },
        ctx,
      );
      return wrap(span, ctx);
    },
    outgoing(span) {
      const carrier: TraceCarrier = {};
      propagator.inject(contexts.get(span) ?? ROOT_CONTEXT, carrier, {
        set: (c, key, value) => {
          (c as Record<string, string>)[key] = value;
        },
      });
      return carrier;
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
 * Attributes without the undefined ones (the SDK drops them with a warning), and without secrets: an
 * error message can quote a token a backend echoed (see secrets.ts).
 */
function clean(attributes: SpanAttributes): Attributes {
  const out: Attributes = {};
  for (const [k, v] of Object.entries(attributes)) {
    if (v !== undefined) out[k] = typeof v === 'string' ? secrets.redact(v) : v;
  }
  return out;
}
