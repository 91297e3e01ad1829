export type { Backend } from './backend.js';
export { type BackoffPolicy, DEFAULT_BACKOFF } from './backoff.js';
export { LoginProvider, type LoginTarget, NeedsLoginError, redirectUri } from './login-provider.js';
export { planReconcile, type ReconcilePlan, sameBackend } from './reconcile.js';
export { BackendRegistry, type BackendRegistryOptions } from './registry.js';
export { withoutBackendEnvelope } from './relay.js';
export { DEFAULT_RESTART_POLICY, type RestartPolicy } from './restart-policy.js';
export { sendRouted } from './routed-send.js';
export { TokenStore } from './token-store.js';
export type {
  BackendClientRequest,
  BackendInfo,
  BackendNotification,
  BackendStatus,
  BackendToolEntry,
  CallerCredential,
  CallOptions,
  ClientRequester,
  PendingChange,
  RegistryEvents,
  ServerConfig,
  ToolInvoker,
} from './types.js';
