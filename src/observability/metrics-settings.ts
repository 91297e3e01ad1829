/**
 * Whether OTEL_* variables ask for metrics over OTLP (the same instruments /metrics serves): an OTLP
 * endpoint (OTEL_EXPORTER_OTLP_METRICS_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT) or
 * OTEL_METRICS_EXPORTER=otlp, unless OTEL_SDK_DISABLED or OTEL_METRICS_EXPORTER=none.
 */
export interface MetricsExportSettings {
  endpoint: string;
  protocol: 'http/json' | 'http/protobuf';
  intervalMs: number;
  serviceVersion: string;
}

export function metricsExportFromEnv(
  env: NodeJS.ProcessEnv,
  serviceVersion: string,
): MetricsExportSettings | string | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  const exporters = (env.OTEL_METRICS_EXPORTER ?? '').split(',').map((s) => s.trim().toLowerCase());
  if (exporters.includes('none')) return undefined;
  const specific = env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT?.trim();
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (!specific && !base && !exporters.includes('otlp')) return undefined;
  const endpoint =
    specific || (base ? `${base.replace(/\/+$/, '')}/v1/metrics` : 'http://localhost:4318/v1/metrics');
  const protocol = (
    env.OTEL_EXPORTER_OTLP_METRICS_PROTOCOL?.trim() ||
    env.OTEL_EXPORTER_OTLP_PROTOCOL?.trim() ||
    'http/protobuf'
  ).toLowerCase();
  if (protocol !== 'http/json' && protocol !== 'http/protobuf') {
    return `OTEL_EXPORTER_OTLP_PROTOCOL=${protocol} is not supported (use http/protobuf or http/json): metrics are not exported over OTLP`;
  }
  const interval = Number(env.OTEL_METRIC_EXPORT_INTERVAL);
  return {
    endpoint,
    protocol,
    intervalMs: Number.isFinite(interval) && interval > 0 ? interval : 60_000,
    serviceVersion,
  };
}
