import { JSONRPCMessageSchema } from '@modelcontextprotocol/core';
import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import { formatSize, MAX_MESSAGE_SIZE_KEY } from '../config/index.js';
import type { Overflow } from './line-framer.js';

/** JSON-RPC "Invalid Request": the message could not be taken as a request at all. */
export const MESSAGE_TOO_LARGE_CODE = -32600;

/**
 * `the message is 10485800 bytes, over the limit of 4MiB (limits.max_message_size)`: what was refused
 * and which setting to change.
 */
export function describeOverflow(overflow: Pick<Overflow, 'bytes' | 'limit'>): string {
  return `the message is ${overflow.bytes} bytes, over the limit of ${formatSize(overflow.limit)} (${MAX_MESSAGE_SIZE_KEY})`;
}

/** JSON-RPC "Internal error": what a caller gets for an answer the gateway could not pass on. */
export const INTERNAL_ERROR_CODE = -32603;

/** The error answer for an oversized message, under the message's id: `${what}: ${the sizes}`. */
export function tooLargeError(overflow: Overflow, what: string, code: number): JSONRPCMessage | undefined {
  if (overflow.id === undefined) return undefined;
  return {
    jsonrpc: '2.0',
    id: overflow.id,
    error: {
      code,
      message: `${what}: ${describeOverflow(overflow)}`,
      data: { bytes: overflow.bytes, limit: overflow.limit, setting: MAX_MESSAGE_SIZE_KEY },
    },
  };
}

/** A line as a JSON-RPC message; throws on text that is not one (the caller reports and skips it). */
export function parseMessage(line: string): JSONRPCMessage {
  return JSONRPCMessageSchema.parse(JSON.parse(line));
}

/** Hands one line to a transport's `onmessage`, or reports it to `onerror` and skips it. */
export function deliverLine(
  line: string,
  transport: { onmessage?: (message: JSONRPCMessage) => void; onerror?: (error: Error) => void },
): void {
  let message: JSONRPCMessage;
  try {
    message = parseMessage(line);
  } catch (err) {
    transport.onerror?.(err instanceof Error ? err : new Error(String(err)));
    return;
  }
  transport.onmessage?.(message);
}

export function serializeMessage(message: JSONRPCMessage): string {
  return `${JSON.stringify(message)}\n`;
}
