/**
 * Ended spans, batched and sent to the collector over OTLP/HTTP by the SDK's export delegate
 * (endpoint, headers, timeout, compression and retries from the OTEL_EXPORTER_OTLP_* variables).
 * A batch goes when it holds OTEL_BSP_MAX_EXPORT_BATCH_SIZE spans or OTEL_BSP_SCHEDULE_DELAY after
 * its first; spans past OTEL_BSP_MAX_QUEUE_SIZE (waiting or in flight) are dropped, not buffered
 * without bound. Lost spans — dropped, refused, unreachable collector — are told to the gateway's
 * log once, then at most once a minute: the SDK alone drops them without a word.
 */

import type { InstrumentationScope } from '@opentelemetry/core';
import { type ExportResult, ExportResultCode, getNumberFromEnv } from '@opentelemetry/core';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { otlpHttpDelegate } from './otlp-http.js';
import { type RecordedSpan, readableSpan } from './recorded-span.js';
import { ProtobufSpanBatch } from './span-protobuf.js';

const REPORT_EVERY_MS = 60_000;

export interface SpanSink {
  /** A sampled span that ended. */
  ended(span: RecordedSpan): void;
  /** Sends what is waiting and stops. */
  shutdown(): Promise<void>;
}

/** The batch being filled: protobuf encodes spans as they end; http/json keeps them for the SDK's serializer. */
interface PendingBatch {
  readonly count: number;
  add(span: RecordedSpan): void;
  take(): Uint8Array | undefined;
}

interface Encoded {
  bytes: Uint8Array;
  count: number;
}

export function createSpanBatcher(
  protocol: 'http/json' | 'http/protobuf',
  resource: Resource,
  scope: InstrumentationScope,
  warn: (message: string) => void,
): SpanSink {
  const batchSize = Math.max(1, getNumberFromEnv('OTEL_BSP_MAX_EXPORT_BATCH_SIZE') ?? 512);
  const queueSize = Math.max(batchSize, getNumberFromEnv('OTEL_BSP_MAX_QUEUE_SIZE') ?? 2048);
  const delayMs = Math.max(0, getNumberFromEnv('OTEL_BSP_SCHEDULE_DELAY') ?? 5000);
  const serializer = protocol === 'http/json' ? JsonTraceSerializer : ProtobufTraceSerializer;
  const delegate = otlpHttpDelegate<Encoded, unknown>(
    'TRACES',
    protocol,
    // The batch is encoded already; the SDK's serializer still reads the collector's answer.
    { serializeRequest: (batch) => batch.bytes, deserializeResponse: serializer.deserializeResponse },
    { name: 'span', countItems: (batch) => batch.count },
  );
  const batch: PendingBatch =
    protocol === 'http/json' ? jsonBatch(resource, scope) : new ProtobufSpanBatch(resource, scope);
  const lost = lossReporter(warn);
  let inFlight = 0;
  let timer: NodeJS.Timeout | undefined;

  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const count = batch.count;
    const bytes = batch.take();
    if (!bytes || count === 0) return;
    inFlight += count;
    delegate.export({ bytes, count }, (result: ExportResult) => {
      inFlight -= count;
      if (result.code !== ExportResultCode.SUCCESS) lost(count, result.error?.message);
    });
  };

  return {
    ended(span) {
      if (inFlight + batch.count >= queueSize) {
        lost(1, 'the export queue is full (OTEL_BSP_MAX_QUEUE_SIZE)');
        return;
      }
      batch.add(span);
      if (batch.count >= batchSize) flush();
      else if (!timer) {
        timer = setTimeout(flush, delayMs);
        timer.unref();
      }
    },
    async shutdown() {
      flush();
      await delegate.shutdown();
    },
  };
}

function jsonBatch(resource: Resource, scope: InstrumentationScope): PendingBatch {
  let spans: ReadableSpan[] = [];
  return {
    get count() {
      return spans.length;
    },
    add(span) {
      spans.push(readableSpan(span, resource, scope));
    },
    take() {
      const taken = spans;
      spans = [];
      return taken.length ? JsonTraceSerializer.serializeRequest(taken) : undefined;
    },
  };
}

/** Counts lost spans and says so: the first time, then at most once a minute with the count since. */
function lossReporter(warn: (message: string) => void): (count: number, reason?: string) => void {
  let lost = 0;
  let reportedAt = -Infinity;
  return (count, reason) => {
    lost += count;
    const now = performance.now();
    if (now - reportedAt < REPORT_EVERY_MS) return;
    warn(`tracing: could not export ${lost} span(s)${reason ? `: ${reason}` : ''}`);
    lost = 0;
    reportedAt = now;
  };
}
