/**
 * The Prometheus instruments (metrics.ts) exported over OTLP too: a MetricProducer hands the OTel
 * metrics SDK what prom-client holds, converted at each export — counters as cumulative monotonic
 * sums, gauges as gauges, histograms with their buckets — so there is one set of instruments and two
 * ways out. Imported only when an OTLP metrics endpoint is configured.
 */
import { ValueType } from '@opentelemetry/api';
import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import {
  JsonMetricsSerializer,
  MetricsExporterMetricsHelper,
  ProtobufMetricsSerializer,
} from '@opentelemetry/otlp-transformer';
import {
  defaultResource,
  detectResources,
  envDetector,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import {
  AggregationTemporality,
  DataPointType,
  MeterProvider,
  type MetricData,
  type MetricProducer,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import type { MetricObjectWithValues, MetricValue, Registry } from 'prom-client';
import type { MetricsExportSettings } from './metrics-settings.js';
import { otlpHttpDelegate } from './otlp-http.js';

export interface OtlpMetrics {
  shutdown(): Promise<void>;
}

export function startOtlpMetrics(registry: Registry, settings: MetricsExportSettings): OtlpMetrics {
  const resource = defaultResource()
    .merge(
      resourceFromAttributes({ 'service.name': 'mcp-gateway', 'service.version': settings.serviceVersion }),
    )
    .merge(detectResources({ detectors: [envDetector] }));
  const started = hrNow();
  const producer: MetricProducer = {
    async collect() {
      const now = hrNow();
      const metrics = (await registry.getMetricsAsJSON()).flatMap((m) => convert(m, started, now));
      const resourceMetrics: ResourceMetrics = {
        resource,
        scopeMetrics: [{ scope: { name: 'mcp-gateway', version: settings.serviceVersion }, metrics }],
      };
      return { resourceMetrics, errors: [] };
    },
  };
  const reader = new PeriodicExportingMetricReader({
    exporter: exporterFor(settings),
    exportIntervalMillis: settings.intervalMs,
    exportTimeoutMillis: Math.min(30_000, settings.intervalMs),
    metricProducers: [producer],
  });
  const provider = new MeterProvider({ resource, readers: [reader] });
  return { shutdown: () => provider.shutdown() };
}

/** prom-client's values are totals since start: cumulative, whatever the protocol. */
function exporterFor(settings: MetricsExportSettings): PushMetricExporter {
  const delegate = otlpHttpDelegate(
    'METRICS',
    settings.protocol,
    settings.protocol === 'http/json' ? JsonMetricsSerializer : ProtobufMetricsSerializer,
    MetricsExporterMetricsHelper,
  );
  const base = new OTLPExporterBase(delegate);
  return {
    export: (metrics, done) => base.export(metrics, done),
    forceFlush: () => base.forceFlush(),
    shutdown: () => base.shutdown(),
    selectAggregationTemporality: () => AggregationTemporality.CUMULATIVE,
  };
}

type HrTime = [number, number];

function hrNow(): HrTime {
  const ms = Date.now();
  return [Math.floor(ms / 1000), (ms % 1000) * 1e6];
}

/** One prom-client metric as OTel metric data (none for a type OTLP has no match for). */
function convert(m: MetricObjectWithValues<MetricValue<string>>, start: HrTime, end: HrTime): MetricData[] {
  const descriptor = { name: m.name, description: m.help, unit: '', valueType: ValueType.DOUBLE };
  const point = (v: MetricValue<string>) => ({
    startTime: start,
    endTime: end,
    attributes: { ...v.labels } as Record<string, string | number>,
    value: v.value,
  });
  switch (String(m.type)) {
    case 'counter':
      return [
        {
          descriptor,
          aggregationTemporality: AggregationTemporality.CUMULATIVE,
          dataPointType: DataPointType.SUM,
          isMonotonic: true,
          dataPoints: m.values.map(point),
        },
      ];
    case 'gauge':
      return [
        {
          descriptor,
          aggregationTemporality: AggregationTemporality.CUMULATIVE,
          dataPointType: DataPointType.GAUGE,
          dataPoints: m.values.map(point),
        },
      ];
    case 'histogram':
      return [
        {
          descriptor,
          aggregationTemporality: AggregationTemporality.CUMULATIVE,
          dataPointType: DataPointType.HISTOGRAM,
          dataPoints: histogramPoints(m.name, m.values, start, end),
        },
      ];
    default:
      return [];
  }
}

/** prom-client's `_bucket` (cumulative, by `le`), `_sum` and `_count` values, one point per series. */
function histogramPoints(name: string, values: MetricValue<string>[], start: HrTime, end: HrTime) {
  const series = new Map<
    string,
    { attributes: Record<string, string | number>; le: [number, number][]; sum: number; count: number }
  >();
  for (const v of values) {
    const { le, ...rest } = v.labels as Record<string, string | number>;
    const key = JSON.stringify(rest);
    let s = series.get(key);
    if (!s) {
      s = { attributes: rest, le: [], sum: 0, count: 0 };
      series.set(key, s);
    }
    const metric = (v as { metricName?: string }).metricName;
    if (metric === `${name}_bucket` && le !== undefined)
      s.le.push([le === '+Inf' ? Infinity : Number(le), v.value]);
    else if (metric === `${name}_sum`) s.sum = v.value;
    else if (metric === `${name}_count`) s.count = v.value;
  }
  return [...series.values()].map((s) => {
    const sorted = s.le.sort((a, b) => a[0] - b[0]);
    const boundaries = sorted.filter(([b]) => Number.isFinite(b)).map(([b]) => b);
    // OTLP bucket counts are per bucket (the last one past the highest boundary); prom-client's, cumulative.
    const counts = sorted.map(([, c], i) => c - (i > 0 ? sorted[i - 1]![1] : 0));
    return {
      startTime: start,
      endTime: end,
      attributes: s.attributes,
      value: { buckets: { boundaries, counts }, sum: s.sum, count: s.count },
    };
  });
}
