/**
 * Tracing on the OpenTelemetry SDK: a NodeTracerProvider (W3C trace context, no active-context
 * manager), the sampler OTEL_TRACES_SAMPLER names, a batch processor (OTEL_BSP_*) and the OTLP/HTTP
 * exporter (span-exporter.ts). Imported only when tracing is on.
 */

import { randomFillSync } from 'node:crypto';
import {
  type Attributes,
  type Context,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  type TraceState,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
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
  SamplingDecision,
} from '@opentelemetry/sdk-trace-node';
import { secrets } from '../secrets.js';
import { samplerFromEnv } from './sampling.js';
import { otlpSpanExporter } from './span-exporter.js';
import type { SpanAttributes, TraceSpan, Tracing, TracingSettings } from './tracing.js';

const TRACER_NAME = 'mcp-gateway';
const NO_ATTRIBUTES: Attributes = Object.freeze({}) as Attributes;

export function createSdkTracing(settings: TracingSettings, warn: (message: string) => void): Tracing {
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (the env detector) win over our defaults.
  const resource = defaultResource()
    .merge(
      resourceFromAttributes({ 'service.name': 'mcp-gateway', 'service.version': settings.serviceVersion }),
    )
    .merge(detectResources({ detectors: [envDetector] }));
  const { sampler, problem } = samplerFromEnv(process.env);
  if (problem) warn(problem);
  const ids = new PooledIdGenerator();
  const provider = new NodeTracerProvider({
    resource,
    sampler,
    idGenerator: ids,
    spanProcessors: [new BatchSpanProcessor(otlpSpanExporter(settings.protocol, warn))],
  });
  // Not provider.register(): that installs the AsyncLocalStorage context manager (see tracing.ts).
  const propagator = new W3CTraceContextPropagator();
  const tracer = provider.getTracer(TRACER_NAME, settings.serviceVersion);

  /**
   * The sampler is asked first, with the trace id the span will have: a span it drops is a plain
   * object with two ids (what the SDK would make of it, minus the SDK's work), and one it keeps is
   * started by the SDK, whose own sampler — the same one — then agrees.
   */
  const begin = (name: string, kind: SpanKind, parent: Context): TraceSpan => {
    const parentContext = trace.getSpanContext(parent);
    const child = parentContext !== undefined && trace.isSpanContextValid(parentContext);
    const traceId = child ? parentContext.traceId : ids.generateTraceId();
    const decision = sampler.shouldSample(parent, traceId, name, kind, NO_ATTRIBUTES, []);
    if (decision.decision === SamplingDecision.NOT_RECORD) {
      const traceState = decision.traceState ?? (child ? parentContext.traceState : undefined);
      return new GatewaySpan(traceId, ids.generateSpanId(), TraceFlags.NONE, traceState, undefined);
    }
    // A new trace keeps the id the sampler judged (the SDK draws a root's trace id itself).
    if (!child) ids.stage(traceId);
    const span = tracer.startSpan(name, { kind }, parent);
    const { spanId, traceFlags, traceState } = span.spanContext();
    return new GatewaySpan(traceId, spanId, traceFlags, traceState, span);
  };

  return {
    startIncoming(name, carrier) {
      const parent = carrier.traceparent
        ? propagator.extract(ROOT_CONTEXT, carrier, {
            get: (c, key) => (c as Record<string, string | undefined>)[key],
            keys: (c) => Object.keys(c),
          })
        : ROOT_CONTEXT;
      return begin(name, SpanKind.SERVER, parent);
    },
    start(name, parent, kind) {
      const ctx = parent instanceof GatewaySpan ? parent.context() : ROOT_CONTEXT;
      return begin(name, kind === 'client' ? SpanKind.CLIENT : SpanKind.INTERNAL, ctx);
    },
    outgoing(span) {
      if (!(span instanceof GatewaySpan)) return {};
      // What the W3C propagator writes, without its generic carrier machinery: this runs per call.
      const flags =
        span.traceFlags === TraceFlags.SAMPLED
          ? '01'
          : (span.traceFlags & 0xff).toString(16).padStart(2, '0');
      const traceparent = `00-${span.traceId}-${span.spanId}-${flags}`;
      const tracestate = span.traceState?.serialize();
      return tracestate ? { traceparent, tracestate } : { traceparent };
    },
    shutdown: () => provider.shutdown(),
  };
}

/**
 * Span and trace ids cut from a pool of crypto-random hex, refilled 4 KiB of bytes at a time: the
 * SDK's default draws them one Math.random() per byte, which showed in the bench on every span.
 */
class PooledIdGenerator implements IdGenerator {
  private readonly bytes = Buffer.allocUnsafe(4096);
  private pool = '';
  private at = 0;
  private staged: string | undefined;

  /** The trace id the next generateTraceId returns. */
  stage(traceId: string): void {
    this.staged = traceId;
  }

  generateTraceId(): string {
    const staged = this.staged;
    if (staged === undefined) return this.take(32);
    this.staged = undefined;
    return staged;
  }

  generateSpanId(): string {
    return this.take(16);
  }

  private take(digits: number): string {
    if (this.at + digits > this.pool.length) {
      this.pool = randomFillSync(this.bytes).toString('hex');
      this.at = 0;
    }
    const id = this.pool.slice(this.at, this.at + digits);
    this.at += digits;
    // An all-zero id is invalid (W3C trace context); 2^-64 at worst, but never hand one out.
    return ALL_ZEROS.test(id) ? this.take(digits) : id;
  }
}

const ALL_ZEROS = /^0+$/;

/**
 * One span: the SDK's when the sampler kept it, else none — the trace context alone, carried on (to
 * backends, and to spans under it, which a parent-based sampler drops too) with the sampled flag off.
 * Kept or not, it is the same class, so the call path that hands it on sees one shape.
 *
 * Attributes are names, ids and counts, set as given (the SDK drops undefined ones); free text — an
 * error message, which can quote a token a backend echoed — is redacted (see secrets.ts).
 */
class GatewaySpan implements TraceSpan {
  private ctx: Context | undefined;
  readonly recording: boolean;

  constructor(
    readonly traceId: string,
    readonly spanId: string,
    readonly traceFlags: number,
    readonly traceState: TraceState | undefined,
    private readonly span: Span | undefined,
  ) {
    this.recording = span?.isRecording() ?? false;
  }

  /** A context holding this span, to parent others. */
  context(): Context {
    this.ctx ??= trace.setSpan(
      ROOT_CONTEXT,
      this.span ??
        trace.wrapSpanContext({
          traceId: this.traceId,
          spanId: this.spanId,
          traceFlags: this.traceFlags,
          ...(this.traceState ? { traceState: this.traceState } : {}),
        }),
    );
    return this.ctx;
  }

  setAttributes(attributes: SpanAttributes): void {
    if (this.recording) this.span?.setAttributes(attributes as Attributes);
  }

  event(name: string, attributes?: SpanAttributes): void {
    const span = this.span;
    if (!this.recording || !span) return;
    if (!attributes) {
      span.addEvent(name);
      return;
    }
    const redacted: Attributes = {};
    for (const [k, v] of Object.entries(attributes))
      if (v !== undefined) redacted[k] = typeof v === 'string' ? secrets.redact(v) : v;
    span.addEvent(name, redacted);
  }

  end(error?: string, at?: number): void {
    const span = this.span;
    if (!this.recording || !span) return;
    if (error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: secrets.redact(error) });
    // performance.now() milliseconds; the SDK reads a plain number as milliseconds since the epoch.
    span.end(at === undefined ? undefined : performance.timeOrigin + at);
  }
}
