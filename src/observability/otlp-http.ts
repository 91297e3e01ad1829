/**
 * The SDK's OTLP/HTTP export delegate for one signal — what its exporter packages build, from the
 * packages the gateway already has: the endpoint, headers, timeout and compression come from the
 * OTEL_EXPORTER_OTLP_* variables (the signal's own ones first), the body from `serializer`.
 */
import type { IOtlpExportDelegate } from '@opentelemetry/otlp-exporter-base';
import {
  convertLegacyHttpOptions,
  createOtlpHttpExportDelegate,
} from '@opentelemetry/otlp-exporter-base/node-http';
import type { IExporterMetricsHelper, ISerializer } from '@opentelemetry/otlp-transformer';

const SIGNALS = {
  TRACES: { path: 'v1/traces', component: 'otlp_http_span_exporter' },
  METRICS: { path: 'v1/metrics', component: 'otlp_http_metric_exporter' },
} as const;

export function otlpHttpDelegate<Items, Response>(
  signal: keyof typeof SIGNALS,
  protocol: 'http/json' | 'http/protobuf',
  serializer: ISerializer<Items, Response>,
  counter: IExporterMetricsHelper<Items>,
): IOtlpExportDelegate<Items> {
  const { path, component } = SIGNALS[signal];
  const contentType = protocol === 'http/json' ? 'application/json' : 'application/x-protobuf';
  return createOtlpHttpExportDelegate(
    convertLegacyHttpOptions({}, signal, path, { 'Content-Type': contentType }),
    serializer,
    component,
    counter,
    undefined,
  );
}
