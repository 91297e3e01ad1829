/**
 * Tracing on the OpenTelemetry API and SDK: W3C trace context, the sampler OTEL_TRACES_SAMPLER names,
 * the resource (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES) and the OTLP/HTTP export delegate. The
 * span itself is the gateway's RecordedSpan, not the SDK's Span and Tracer: on a traced call those
 * cost about a fifth of the gateway's CPU (see docs/guides/operating.md, "What it costs"). There is
 * no active-context manager (see tracing.ts). Imported only when tracing is on.
 */

import { randomFillSync } from 'node:crypto';
import {
  type Context,
  ROOT_CONTEXT,
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
import { SamplingDecision } from '@opentelemetry/sdk-trace-base';
import { secrets } from '../secrets.js';
import type { AttributeValue } from './protobuf-writer.js';
import { RecordedSpan, spanLimitsFromEnv } from './recorded-span.js';
import { samplerFromEnv } from './sampling.js';
import { createSpanBatcher, type SpanSink } from './span-batcher.js';
import type { SpanAttributes, TraceSpan, Tracing, TracingSettings } from './tracing.js';

const TRACER_NAME = 'mcp-gateway';
const NO_ATTRIBUTES = Object.freeze({});

export function createSdkTracing(settings: TracingSettings, warn: (message: string) => void): Tracing {
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (the env detector) win over our defaults.
  const resource = defaultResource()
    .merge(
      resourceFromAttributes({ 'service.name': 'mcp-gateway', 'service.version': settings.serviceVersion }),
    )
    .merge(detectResources({ detectors: [envDetector] }));
  const { sampler, problem } = samplerFromEnv(process.env);
  if (problem) warn(problem);
  const limits = spanLimitsFromEnv(process.env);
  const sink = createSpanBatcher(
    settings.protocol,
    resource,
    { name: TRACER_NAME, version: settings.serviceVersion },
    warn,
  );
  const ids = new PooledIds();
  const propagator = new W3CTraceContextPropagator();

  /**
   * The sampler is asked with the trace id the span will have. A span it drops is two ids and a
   * context, carried on (to backends, and to spans under it, which a parent-based sampler drops
   * too) with the sampled flag off; a span it keeps records.
   */
  const begin = (name: string, kind: SpanKind, parent: Context): GatewaySpan => {
    const parentContext = trace.getSpanContext(parent);
    const child = parentContext !== undefined && trace.isSpanContextValid(parentContext);
    const traceId = child ? parentContext.traceId : ids.traceId();
    const spanId = ids.spanId();
    const decision = sampler.shouldSample(parent, traceId, name, kind, NO_ATTRIBUTES, []);
    const traceState = decision.traceState ?? (child ? parentContext.traceState : undefined);
    if (decision.decision !== SamplingDecision.RECORD_AND_SAMPLED) {
      // RECORD (recorded, not exported) is no use without an in-process reader: treated as a drop.
      return new GatewaySpan(traceId, spanId, TraceFlags.NONE, traceState, undefined, sink);
    }
    const record = new RecordedSpan(
      name,
      kind,
      traceId,
      spanId,
      TraceFlags.SAMPLED,
      traceState,
      child ? parentContext.spanId : undefined,
      child ? parentContext.isRemote === true : false,
      performance.now(),
      limits,
    );
    if (decision.attributes) record.set(decision.attributes as Record<string, AttributeValue>);
    return new GatewaySpan(traceId, spanId, TraceFlags.SAMPLED, traceState, record, sink);
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
    shutdown: () => sink.shutdown(),
  };
}

/**
 * Span and trace ids cut from a pool of crypto-random hex, refilled 4 KiB of bytes at a time (one
 * randomFillSync and one hex conversion per 128 trace ids, not one per id).
 */
class PooledIds {
  private readonly bytes = Buffer.allocUnsafe(4096);
  private pool = '';
  private at = 0;

  traceId(): string {
    return this.take(32);
  }

  spanId(): string {
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
 * One span, sampled or not: the same class either way, so the call path that hands it on sees one
 * shape. An unsampled one only carries its trace context on; a sampled one fills its RecordedSpan
 * and gives it to the sink when it ends (once: a second `end` is ignored, as the SDK's is).
 *
 * Attributes are names, ids and counts, set as given (undefined ones are skipped); free text — an
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
    private record: RecordedSpan | undefined,
    private readonly sink: SpanSink,
  ) {
    this.recording = record !== undefined;
  }

  /** A context holding this span, to parent others (what the sampler reads the parent from). */
  context(): Context {
    this.ctx ??= trace.setSpan(
      ROOT_CONTEXT,
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
    this.record?.set(attributes);
  }

  event(name: string, attributes?: SpanAttributes): void {
    const record = this.record;
    if (!record) return;
    let redacted: Record<string, AttributeValue> | undefined;
    if (attributes) {
      redacted = {};
      for (const [k, v] of Object.entries(attributes))
        if (v !== undefined) redacted[k] = typeof v === 'string' ? secrets.redact(v) : v;
    }
    record.addEvent(name, performance.now(), redacted);
  }

  end(error?: string, at?: number): void {
    const record = this.record;
    if (!record) return;
    this.record = undefined;
    if (error !== undefined) {
      record.status = SpanStatusCode.ERROR;
      record.statusMessage = secrets.redact(error);
    }
    record.endAt = at ?? performance.now();
    this.sink.ended(record);
  }
}
