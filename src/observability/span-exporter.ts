/**
 * The OTLP/HTTP span exporter (http/protobuf or http/json; endpoint, headers and timeout from the
 * OTEL_* variables), telling the gateway's log when a collector refuses or cannot be reached: the SDK
 * alone drops such a batch without a word unless a diag logger is set.
 */
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import {
  convertLegacyHttpOptions,
  createOtlpHttpExportDelegate,
} from '@opentelemetry/otlp-exporter-base/node-http';
import { ProtobufTraceSerializer, TraceExporterMetricsHelper } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-node';

/** A failing collector is reported once, then at most once a minute, with how many spans were lost. */
const REPORT_EVERY_MS = 60_000;

export function otlpSpanExporter(
  protocol: 'http/json' | 'http/protobuf',
  warn: (message: string) => void,
): SpanExporter {
  const otlp = protocol === 'http/json' ? new OTLPTraceExporter() : protobufExporter();
  let lost = 0;
  let reportedAt = -Infinity;
  return {
    export(spans, done) {
      otlp.export(spans, (result: ExportResult) => {
        if (result.code !== ExportResultCode.SUCCESS) {
          lost += spans.length;
          const now = performance.now();
          if (now - reportedAt >= REPORT_EVERY_MS) {
            warn(
              `tracing: could not export ${lost} span(s)${result.error ? `: ${result.error.message}` : ''}`,
            );
            lost = 0;
            reportedAt = now;
          }
        }
        done(result);
      });
    },
    shutdown: () => otlp.shutdown(),
    forceFlush: () => otlp.forceFlush?.() ?? Promise.resolve(),
  };
}

/**
 * What @opentelemetry/exporter-trace-otlp-proto does, from the packages the JSON exporter already
 * brings: the same delegate, with the protobuf serializer.
 */
function protobufExporter(): SpanExporter {
  const delegate = createOtlpHttpExportDelegate(
    convertLegacyHttpOptions({}, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' }),
    ProtobufTraceSerializer,
    'otlp_http_span_exporter',
    TraceExporterMetricsHelper,
    undefined,
  );
  return new OTLPExporterBase<ReadableSpan[]>(delegate) as SpanExporter;
}
