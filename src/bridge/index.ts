export {
  type BridgedMethod,
  type BridgedRequestSpec,
  type BridgedToolCall,
  bridgedCall,
  bridgedRequest,
} from './bridged-request.js';
export { missingCapability } from './capabilities.js';
export {
  type BridgedRequest,
  type BridgeSettings,
  DEFAULT_MAX_ROUNDS,
  DEFAULT_STATE_TTL_MS,
  InputBridge,
} from './input-bridge.js';
export { stateReplica } from './state-codec.js';
