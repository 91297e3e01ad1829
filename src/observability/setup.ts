/**
 * Starts what the settings ask for and installs it in `telemetry`: the OpenTelemetry SDK when OTEL_*
 * variables configure traces, prom-client when metrics are on, the audit sink when auditing. Each is
 * imported here, dynamically, only when wanted: a gateway with all three off loads none of them.
 */
import type { Logger } from '../log.js';
import { type AuditSink, openAuditSink } from './audit.js';
import type { BackendSnapshot, GatewayMetrics } from './metrics.js';
import { metricsExportFromEnv } from './metrics-settings.js';
import { type FrontNames, telemetry } from './telemetry.js';
import { startTracing, type Tracing, tracingSettingsFromEnv } from './tracing.js';

export interface ObservabilityOptions {
  /** How clients reach this gateway; the audit log's default depends on it. */
  transport: 'stdio' | 'http';
  metrics: boolean;
  /** `enabled` unset: on over HTTP, off over stdio. `file` unset: stderr. */
  audit: { enabled?: boolean; file?: string };
  token?: string;
  version: string;
  env: NodeJS.ProcessEnv;
  names: FrontNames;
  /** The backends as they are now, read on each scrape. */
  backends: () => BackendSnapshot[];
  logger: Logger;
}

export interface Observability {
  /** Set when metrics are served (`metrics: true`, --metrics-port): what `/metrics` serves. */
  metrics?: GatewayMetrics;
  tracing: boolean;
  audit: boolean;
  /** Flushes spans and the audit file; hooks are no-ops afterwards. */
  close(): Promise<void>;
}

export async function startObservability(options: ObservabilityOptions): Promise<Observability> {
  const { logger } = options;
  let tracing: Tracing | undefined;
  const traceSettings = tracingSettingsFromEnv(options.env, options.version);
  if (typeof traceSettings === 'string') logger.warn(traceSettings);
  else if (traceSettings) {
    tracing = await startTracing(traceSettings, (message) => logger.warn(message));
    logger.info(`tracing: spans go to ${traceSettings.endpoint} (${traceSettings.protocol})`);
  }
  let metrics: GatewayMetrics | undefined;
  const exportSettings = metricsExportFromEnv(options.env, options.version);
  if (typeof exportSettings === 'string') logger.warn(exportSettings);
  const otlpSettings = typeof exportSettings === 'string' ? undefined : exportSettings;
  let otlpMetrics: { shutdown(): Promise<void> } | undefined;
  if (options.metrics || otlpSettings) {
    const [prom, { GatewayMetrics }] = await Promise.all([import('prom-client'), import('./metrics.js')]);
    metrics = new GatewayMetrics(prom, options.backends);
  }
  if (metrics && otlpSettings) {
    const { startOtlpMetrics } = await import('./metrics-otlp.js');
    otlpMetrics = startOtlpMetrics(metrics.registry, otlpSettings);
    logger.info(
      `metrics: exported to ${otlpSettings.endpoint} every ${otlpSettings.intervalMs} ms (${otlpSettings.protocol})`,
    );
  }
  let audit: AuditSink | undefined;
  const auditOn = options.audit.enabled ?? options.transport === 'http';
  if (auditOn) {
    audit = openAuditSink(options.audit.file);
    logger.info(`audit log: ${options.audit.file ?? 'stderr'}`);
  }
  telemetry.install({
    ...(tracing ? { tracing } : {}),
    ...(metrics ? { metrics } : {}),
    ...(audit ? { audit } : {}),
    ...(options.token ? { token: options.token } : {}),
    names: options.names,
  });
  return {
    // Served on /metrics only when asked for; OTLP export alone keeps them off HTTP.
    ...(metrics && options.metrics ? { metrics } : {}),
    tracing: tracing !== undefined,
    audit: audit !== undefined,
    async close() {
      telemetry.uninstall();
      await Promise.allSettled([tracing?.shutdown(), otlpMetrics?.shutdown(), audit?.close()]);
    },
  };
}
