/**
 * What the gateway's fronts and sessions are built from: the long-lived parts `Gateway` assembles,
 * handed to gateway-sessions.ts, gateway-stdio.ts and gateway-http.ts as plain values so none of
 * them needs the Gateway class.
 */
import type { BackendRegistry } from '../backends/index.js';
import type { InputBridge } from '../bridge/index.js';
import type { CallLimiter, InFlightLimiter } from '../cluster/index.js';
import type { GatewayConfig } from '../config/index.js';
import type { Logger } from '../log.js';
import type { ClusterSync } from './cluster-sync.js';
import type { PipelineHost } from './pipeline-host.js';
import type { ProfileTables } from './profiles.js';
import type { ProtocolHub } from './protocol-hub.js';
import type { RequestGate } from './request-gate.js';
import type { ToolTable } from './tool-table.js';

export interface GatewayParts {
  readonly registry: BackendRegistry;
  readonly table: ToolTable;
  readonly profiles: ProfileTables;
  readonly hub: ProtocolHub;
  readonly bridge: InputBridge;
  readonly pipelines: PipelineHost;
  readonly cluster: ClusterSync | undefined;
  /** Client requests in flight on every front; shutdown closes it and waits for them. */
  readonly gate: RequestGate;
  /** `rate_limits:` and `rate_limits.in_flight`. */
  readonly limiter: CallLimiter;
  readonly inFlight: InFlightLimiter;
  readonly logger: Logger;
  /** The gateway's version, as servers report it. */
  readonly version: string;
  /** The config serving now (a reload replaces it). */
  config(): GatewayConfig;
  /** Resolves once the backends started at start-up are ready, or their grace has passed. */
  startupWait(): Promise<void>;
  /** Run `close` when the gateway closes. */
  onClose(close: () => Promise<void>): void;
}
