import { SpanKind, SpanStatusCode, TraceFlags } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { describe, expect, it } from 'vitest';
import { epochNanos, epochTime, splitNanos } from '../../src/observability/protobuf-writer.js';
import { RecordedSpan, readableSpan } from '../../src/observability/recorded-span.js';
import { ProtobufSpanBatch } from '../../src/observability/span-protobuf.js';
import { decodeTraceRequest } from '../helpers/otlp-protobuf.js';

const resource = resourceFromAttributes({
  'service.name': 'gateway-under-test',
  'service.version': '1.2.3',
  'process.pid': 4242,
  'deployment.regions': ['eu-west', 'us-east'],
});
const scope = { name: 'mcp-gateway', version: '1.2.3' };
const limits = { valueLength: Infinity, events: 128 };
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

function span(
  name: string,
  spanId: string,
  parent?: { id: string; remote: boolean },
  kind = SpanKind.INTERNAL,
) {
  const at = performance.now();
  return new RecordedSpan(
    name,
    kind,
    TRACE,
    spanId,
    TraceFlags.SAMPLED,
    undefined,
    parent?.id,
    parent?.remote ?? false,
    at,
    limits,
  );
}

/** Spans covering what the gateway records: every attribute type, events, errors, a remote parent. */
function sampleSpans(): RecordedSpan[] {
  const request = new RecordedSpan(
    'tools/call sqlite__read_query',
    SpanKind.SERVER,
    TRACE,
    '00f067aa0ba902b7',
    TraceFlags.SAMPLED,
    new TraceState('vendor=abc,other=x'),
    'a3ce929d0e0e4736',
    true,
    performance.now(),
    limits,
  );
  request.set({
    'mcpgw.tool': 'sqlite__read_query',
    'mcpgw.session': undefined,
    'mcpgw.backend.duration_ms': 0.345,
    'mcpgw.items': 3,
    'mcpgw.delta': -7,
    'mcpgw.big': 2 ** 40,
    'mcpgw.cached': false,
    'mcpgw.unicode': 'café — 日本語 🚀',
  });
  request.addEvent('retry', performance.now(), { 'mcpgw.attempt': 2, 'mcpgw.error': 'backend exited' });
  request.addEvent('bare', performance.now(), undefined);
  request.status = SpanStatusCode.ERROR;
  request.statusMessage = `failed: ${'é'.repeat(300)}`;
  request.endAt = performance.now() + 1.5;

  const backend = span(
    'backend sqlite read_query',
    '1111111111111111',
    { id: '00f067aa0ba902b7', remote: false },
    SpanKind.CLIENT,
  );
  // Long enough that the span's own length needs three varint bytes.
  backend.set({ 'mcpgw.server': 'sqlite', 'mcpgw.query': 'x'.repeat(20_000) });
  backend.endAt = backend.startAt + 0.25;

  const root = span('pipeline report', '2222222222222222');
  root.endAt = root.startAt + 1000.000001;
  return [request, backend, root];
}

describe('ProtobufSpanBatch', () => {
  it('encodes spans as the SDK’s own protobuf serializer does (decoded field by field)', () => {
    const spans = sampleSpans();
    const batch = new ProtobufSpanBatch(resource, scope);
    for (const s of spans) batch.add(s);
    expect(batch.count).toBe(3);
    const ours = decodeTraceRequest(Buffer.from(batch.take()));
    const sdk = ProtobufTraceSerializer.serializeRequest(spans.map((s) => readableSpan(s, resource, scope)));
    const theirs = decodeTraceRequest(Buffer.from(sdk as Uint8Array));
    expect(ours).toEqual(theirs);
    // Again, with the recurring attribute values' encodings now cached.
    for (const s of spans) batch.add(s);
    expect(decodeTraceRequest(Buffer.from(batch.take()))).toEqual(theirs);
    // And what was decoded is what was recorded, not two encoders agreeing on nothing.
    const [request, backend] = ours.resourceSpans[0]?.scopeSpans[0]?.spans ?? [];
    expect(request).toMatchObject({
      traceId: TRACE,
      spanId: '00f067aa0ba902b7',
      parentSpanId: 'a3ce929d0e0e4736',
      traceState: 'vendor=abc,other=x',
      kind: 2,
      status: { code: 2, message: `failed: ${'é'.repeat(300)}` },
      flags: 0x301,
    });
    expect(request?.attributes).toContainEqual({
      key: 'mcpgw.unicode',
      value: { stringValue: 'café — 日本語 🚀' },
    });
    expect(request?.attributes).toContainEqual({ key: 'mcpgw.delta', value: { intValue: '-7' } });
    expect(request?.attributes).toContainEqual({
      key: 'mcpgw.backend.duration_ms',
      value: { doubleValue: 0.345 },
    });
    expect(request?.attributes.map((a) => a.key)).not.toContain('mcpgw.session');
    expect(request?.events.map((e) => e.name)).toEqual(['retry', 'bare']);
    expect(backend?.kind).toBe(3);
    expect(backend?.flags).toBe(0x101);
    expect(ours.resourceSpans[0]?.resource.attributes).toContainEqual({
      key: 'deployment.regions',
      value: { arrayValue: { values: [{ stringValue: 'eu-west' }, { stringValue: 'us-east' }] } },
    });
  });

  it('starts a new request after take()', () => {
    const batch = new ProtobufSpanBatch(resource, scope);
    const [a, b, c] = sampleSpans();
    batch.add(a as RecordedSpan);
    batch.add(b as RecordedSpan);
    batch.take();
    expect(batch.count).toBe(0);
    batch.add(c as RecordedSpan);
    const spans = decodeTraceRequest(Buffer.from(batch.take())).resourceSpans[0]?.scopeSpans[0]?.spans;
    expect(spans?.map((s) => s.name)).toEqual(['pipeline report']);
  });

  it('keeps a span’s duration to the nanosecond', () => {
    const batch = new ProtobufSpanBatch(resource, scope);
    const s = span('timed', '3333333333333333');
    s.endAt = s.startAt + 1234.567891;
    batch.add(s);
    const [decoded] =
      decodeTraceRequest(Buffer.from(batch.take())).resourceSpans[0]?.scopeSpans[0]?.spans ?? [];
    const duration = BigInt(decoded?.endTimeUnixNano ?? 0) - BigInt(decoded?.startTimeUnixNano ?? 0);
    expect(Number(duration)).toBeCloseTo(1_234_567_891, -1);
    const wallClock = Number(BigInt(decoded?.startTimeUnixNano ?? 0) / 1_000_000n);
    expect(Math.abs(wallClock - (performance.timeOrigin + s.startAt))).toBeLessThan(1);
  });
});

describe('span times', () => {
  it('splits seconds × 1e9 + nanos into exact 32-bit halves', () => {
    for (const [seconds, nanos] of [
      [0, 0],
      [1, 999_999_999],
      [1_764_000_000, 123_456_789],
      [4_294_967_295, 999_999_999],
      [65_535, 1],
      [65_536, 0],
    ] as const) {
      const [low, high] = splitNanos(seconds, nanos);
      const exact = BigInt(seconds) * 1_000_000_000n + BigInt(nanos);
      expect((BigInt(high) << 32n) | BigInt(low)).toBe(exact);
    }
  });

  it('reads performance.now() as the epoch time it stands for', () => {
    const at = performance.now();
    const [seconds, nanos] = epochTime(at);
    expect(Math.abs(seconds * 1000 + nanos / 1e6 - (performance.timeOrigin + at))).toBeLessThan(0.01);
    const [low, high] = epochNanos(at);
    expect((BigInt(high) << 32n) | BigInt(low)).toBe(BigInt(seconds) * 1_000_000_000n + BigInt(nanos));
  });
});
