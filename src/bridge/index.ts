export { missingCapability } from './capabilities.js';
export {
  type BridgedRequest,
  type BridgeSettings,
  DEFAULT_MAX_ROUNDS,
  DEFAULT_STATE_TTL_MS,
  InputBridge,
} from './input-bridge.js';
export { stateReplica } from './state-codec.js';
export { type BridgedToolCall, bridgedCall } from './tool-call.js';
