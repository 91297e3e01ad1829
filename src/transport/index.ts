/** Stdio transports with linear framing, a message size limit and process-group shutdown. */
export { LineFramer, type LineFramerOptions, type Overflow } from './line-framer.js';
export { MessageHeadScanner, type MessageKind, type MessageShape } from './message-head.js';
export { describeOverflow, MESSAGE_TOO_LARGE_CODE } from './oversized.js';
export { groupAlive, killGroup, processAlive, trackedGroups } from './process-group.js';
export {
  SHUTDOWN_STOP_STEP_MS,
  STOP_STEP_MS,
  type StdioChildOptions,
  StdioChildTransport,
} from './stdio-client.js';
export { LineStdioServerTransport, type StdioServerOptions } from './stdio-server.js';
