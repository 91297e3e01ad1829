/**
 * An OTLP ExportTraceServiceRequest built one span at a time: each span is encoded when it ends, so
 * a batch waiting for export is bytes, not objects the garbage collector walks for seconds. The
 * resource and instrumentation scope are the same for every span and are encoded once.
 *
 * Field numbers are those of opentelemetry/proto/trace/v1/trace.proto (and common, resource);
 * test/unit/span-protobuf.test.ts decodes this beside the SDK's own serializer.
 */
import { SpanStatusCode } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import { type AttributeValue, keyField, ProtobufWriter, varintSize } from './protobuf-writer.js';
import type { RecordedSpan } from './recorded-span.js';

/** Span.attributes. */
const SPAN_ATTRIBUTES = 9;
const SPAN_FLAGS_HAS_IS_REMOTE = 0x100;
const SPAN_FLAGS_IS_REMOTE = 0x200;

export class ProtobufSpanBatch {
  private readonly spans = new ProtobufWriter();
  private readonly keys = new Map<string, Uint8Array>();
  private readonly pairs = new Map<string, Map<string, Uint8Array>>();
  private readonly scratch = new ProtobufWriter(1024);
  /** ResourceSpans.resource (field 1) and ScopeSpans.scope (field 1), ready to copy in. */
  private readonly resourceField: Uint8Array;
  private readonly scopeField: Uint8Array;
  count = 0;

  constructor(resource: Resource, scope: InstrumentationScope) {
    const w = new ProtobufWriter(4096);
    const r = w.open(1);
    for (const [key, value] of Object.entries(resource.attributes))
      if (value !== undefined && value !== null) w.keyValue(1, keyField(key), value as AttributeValue);
    w.close(r);
    this.resourceField = w.take();
    const s = w.open(1);
    w.string(1, scope.name);
    if (scope.version) w.string(2, scope.version);
    w.close(s);
    this.scopeField = w.take();
  }

  /** Encodes `span` into the batch (ScopeSpans.spans, field 2). */
  add(span: RecordedSpan): void {
    const w = this.spans;
    const at = w.open(2);
    w.hex(1, span.traceId);
    w.hex(2, span.spanId);
    const traceState = span.traceState?.serialize();
    if (traceState) w.string(3, traceState);
    if (span.parentSpanId) w.hex(4, span.parentSpanId);
    w.string(5, span.name);
    // The API's SpanKind starts at INTERNAL = 0; OTLP's at UNSPECIFIED = 0.
    w.tag(6, 0);
    w.varint(span.kind + 1);
    w.time(7, span.startAt);
    w.time(8, span.endAt);
    this.attributes(SPAN_ATTRIBUTES, span.attributes);
    if (span.events) {
      for (const event of span.events) {
        const e = w.open(11);
        w.time(1, event.at);
        w.string(2, event.name);
        if (event.attributes) this.attributes(3, event.attributes);
        w.close(e);
      }
    }
    if (span.droppedEvents > 0) {
      w.tag(12, 0);
      w.varint(span.droppedEvents);
    }
    if (span.status !== SpanStatusCode.UNSET) {
      const status = w.open(15);
      if (span.statusMessage) w.string(2, span.statusMessage);
      w.tag(3, 0);
      w.varint(span.status);
      w.close(status);
    }
    const flags =
      (span.traceFlags & 0xff) | SPAN_FLAGS_HAS_IS_REMOTE | (span.parentRemote ? SPAN_FLAGS_IS_REMOTE : 0);
    w.fixed32(16, flags);
    w.close(at);
    this.count++;
  }

  /** The request holding the spans added since the last `take`, which start a new one. */
  take(): Uint8Array {
    const spans = this.spans.buf.subarray(0, this.spans.pos);
    const scopeSpans = this.scopeField.length + spans.length;
    const resourceSpans = this.resourceField.length + 1 + varintSize(scopeSpans) + scopeSpans;
    const w = new ProtobufWriter(resourceSpans + 16);
    w.tag(1, 2);
    w.varint(resourceSpans);
    w.raw(this.resourceField);
    w.tag(2, 2);
    w.varint(scopeSpans);
    w.raw(this.scopeField);
    w.raw(spans);
    this.spans.pos = 0;
    this.count = 0;
    return w.buf.subarray(0, w.pos);
  }

  private attributes(field: number, attributes: Record<string, AttributeValue>): void {
    for (const key in attributes) {
      const value = attributes[key] as AttributeValue;
      const whole = field === SPAN_ATTRIBUTES ? this.cachedPair(key, value) : undefined;
      if (whole) this.spans.raw(whole);
      else this.spans.keyValue(field, this.keyOf(key), value);
    }
  }

  private keyOf(key: string): Uint8Array {
    let encoded = this.keys.get(key);
    if (!encoded) {
      encoded = keyField(key);
      // Keys are the gateway's own attribute names, a few dozen; the bound is a guard.
      if (this.keys.size < 1024) this.keys.set(key, encoded);
    }
    return encoded;
  }

  /**
   * A span attribute whose value recurs (a tool, server, transport, outcome) as its whole encoded
   * KeyValue, made once; undefined for values that do not (numbers, long strings, or a key past its
   * bound, such as session ids).
   */
  private cachedPair(key: string, value: AttributeValue): Uint8Array | undefined {
    if (typeof value !== 'string' || value.length > 128) return undefined;
    let byValue = this.pairs.get(key);
    if (!byValue) {
      if (this.pairs.size >= 1024) return undefined;
      byValue = new Map();
      this.pairs.set(key, byValue);
    }
    let encoded = byValue.get(value);
    if (!encoded && byValue.size < 256) {
      this.scratch.keyValue(SPAN_ATTRIBUTES, this.keyOf(key), value);
      encoded = this.scratch.take();
      byValue.set(value, encoded);
    }
    return encoded;
  }
}
