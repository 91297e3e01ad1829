export type { ConfigStatus, ReloadResult, SettingsChange } from './config-reload.js';
export { INLINE_PIPELINE_FILE } from './custom-pipeline.js';
export { Gateway, type GatewayOptions } from './gateway.js';
export { type ShutdownResult, STOP_RESERVE_MS } from './gateway-shutdown.js';
export type { HttpFront } from './http.js';
export { MCP_PATH } from './http.js';
export {
  METRICS_PATH,
  type MetricsListener,
  type MetricsSource,
  startMetricsListener,
} from './metrics-http.js';
export { backendToolName, pipelineToolName } from './naming.js';
export {
  compensationLine,
  describeEvent,
  formatIssues,
  formatRun,
  formatValue,
  ms,
  progressReporter,
  runToolResult,
} from './pipeline-format.js';
export {
  PipelineHost,
  type PipelineHostOptions,
  type RunContext,
} from './pipeline-host.js';
export { ProfileView } from './profile-view.js';
export { redactEvent, redactRun } from './run-redact.js';
export type { CallContext, FrontTransport, ServedTool } from './served-tool.js';
export { errorResult, jsonResult } from './served-tool.js';
export type { ToolSource } from './tool-table.js';
