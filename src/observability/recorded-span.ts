/**
 * What a sampled span records, and nothing else: names, ids, `performance.now()` times, attributes
 * as set, events, status. It replaces the SDK's Span on the gateway's call path, which builds far
 * more per span (HrTime pairs, limits, processor hooks) than the gateway's own work on a call costs.
 * A protobuf export encodes it when it ends (span-protobuf.ts); http/json hands it to the SDK's JSON
 * serializer as a ReadableSpan (`readableSpan`).
 */
import {
  type Attributes,
  type SpanContext,
  type SpanKind,
  SpanStatusCode,
  type TraceState,
} from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { type AttributeValue, epochTime } from './protobuf-writer.js';

export interface RecordedEvent {
  name: string;
  /** `performance.now()` milliseconds. */
  at: number;
  attributes: Record<string, AttributeValue> | undefined;
}

/** Span limits the OTEL_* variables may set (the SDK's defaults otherwise). */
export interface SpanLimits {
  /** Longest string attribute value; longer ones are cut (OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT). */
  valueLength: number;
  /** Most events a span keeps (OTEL_SPAN_EVENT_COUNT_LIMIT); later ones are counted as dropped. */
  events: number;
}

export class RecordedSpan {
  readonly attributes: Record<string, AttributeValue> = {};
  events: RecordedEvent[] | undefined;
  droppedEvents = 0;
  status: SpanStatusCode = SpanStatusCode.UNSET;
  statusMessage: string | undefined;
  /** When it ended, `performance.now()` milliseconds. */
  endAt = 0;

  constructor(
    readonly name: string,
    readonly kind: SpanKind,
    readonly traceId: string,
    readonly spanId: string,
    readonly traceFlags: number,
    readonly traceState: TraceState | undefined,
    /** The parent's span id, when the span has one, and whether that parent is another process's. */
    readonly parentSpanId: string | undefined,
    readonly parentRemote: boolean,
    /** When it started, `performance.now()` milliseconds. */
    readonly startAt: number,
    private readonly limits: SpanLimits,
  ) {}

  set(attributes: Record<string, AttributeValue | undefined>): void {
    const target = this.attributes;
    const max = this.limits.valueLength;
    for (const key in attributes) {
      const value = attributes[key];
      if (value === undefined) continue;
      target[key] = typeof value === 'string' && value.length > max ? value.slice(0, max) : value;
    }
  }

  addEvent(name: string, at: number, attributes?: Record<string, AttributeValue>): void {
    this.events ??= [];
    if (this.events.length >= this.limits.events) this.droppedEvents++;
    else this.events.push({ name, at, attributes });
  }
}

export function spanLimitsFromEnv(env: NodeJS.ProcessEnv): SpanLimits {
  const limit = (...names: string[]) => {
    for (const name of names) {
      const n = Number.parseInt(env[name] ?? '', 10);
      if (Number.isInteger(n) && n >= 0) return n;
    }
    return undefined;
  };
  return {
    valueLength:
      limit('OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT', 'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT') ?? Infinity,
    events: limit('OTEL_SPAN_EVENT_COUNT_LIMIT') ?? 128,
  };
}

/** The span as the SDK's exporters read one (for the http/json serializer). */
export function readableSpan(
  span: RecordedSpan,
  resource: Resource,
  instrumentationScope: InstrumentationScope,
): ReadableSpan {
  const context: SpanContext = {
    traceId: span.traceId,
    spanId: span.spanId,
    traceFlags: span.traceFlags,
    ...(span.traceState ? { traceState: span.traceState } : {}),
  };
  const duration = span.endAt - span.startAt;
  return {
    name: span.name,
    kind: span.kind,
    spanContext: () => context,
    ...(span.parentSpanId
      ? {
          parentSpanContext: {
            traceId: span.traceId,
            spanId: span.parentSpanId,
            traceFlags: span.traceFlags,
            isRemote: span.parentRemote,
          },
        }
      : {}),
    startTime: epochTime(span.startAt),
    endTime: epochTime(span.endAt),
    duration: [Math.floor(duration / 1000), Math.round((duration % 1000) * 1e6)],
    status:
      span.statusMessage === undefined
        ? { code: span.status }
        : { code: span.status, message: span.statusMessage },
    attributes: span.attributes as Attributes,
    links: [],
    events: (span.events ?? []).map((e) => ({
      name: e.name,
      time: epochTime(e.at),
      ...(e.attributes ? { attributes: e.attributes as Attributes } : {}),
    })),
    ended: true,
    resource,
    instrumentationScope,
    droppedAttributesCount: 0,
    droppedEventsCount: span.droppedEvents,
    droppedLinksCount: 0,
  };
}
