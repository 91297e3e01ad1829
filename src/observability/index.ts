/**
 * Observability: traces (OpenTelemetry), metrics (Prometheus), the audit log. Call sites use
 * `telemetry`'s hooks; `startObservability` turns the parts on. See docs/guides/operating.md.
 */
export type { CallTarget } from './audit.js';
export { redactArguments } from './audit.js';
export { CUSTOM as CUSTOM_LABEL, OTHER as OTHER_LABEL } from './labels.js';
export type { BackendSnapshot, GatewayMetrics } from './metrics.js';
export { type Observability, type ObservabilityOptions, startObservability } from './setup.js';
export { type FrontNames, type ProtocolEra, type ToolCallInfo, telemetry } from './telemetry.js';
