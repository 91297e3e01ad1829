import process from 'node:process';
import type { Readable, Writable } from 'node:stream';
import type { JSONRPCMessage, Transport } from '@modelcontextprotocol/server';
import { LineFramer, type Overflow } from './line-framer.js';
import {
  deliverLine,
  describeOverflow,
  MESSAGE_TOO_LARGE_CODE,
  serializeMessage,
  tooLargeError,
} from './oversized.js';

export interface StdioServerOptions {
  stdin?: Readable;
  stdout?: Writable;
  /** Largest message accepted, in bytes; read per message, so a reloaded limit applies at once. */
  maxMessageBytes: () => number;
  /** Where refused messages are reported (the client gets an error where it can be told). */
  warn: (message: string) => void;
}

/**
 * The front's stdio transport, in place of the SDK's StdioServerTransport. The SDK's reader is
 * quadratic in the message size and, on a message over its 10 MiB buffer, closes the transport: it
 * stops reading stdin without ending the process, so the session answers nothing ever again. Here an
 * oversized request is answered with a JSON-RPC error under its id (-32600), an oversized answer to a
 * request of ours fails that request, anything else is logged and skipped; reading goes on.
 */
export class LineStdioServerTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  private readonly stdin: Readable;
  private readonly stdout: Writable;
  private readonly framer: LineFramer;
  private started = false;
  private closed = false;

  constructor(private readonly options: StdioServerOptions) {
    this.stdin = options.stdin ?? process.stdin;
    this.stdout = options.stdout ?? process.stdout;
    this.framer = new LineFramer({
      limit: options.maxMessageBytes,
      onLine: (line) => this.onLine(line),
      onOverflow: (overflow) => this.onOverflow(overflow),
    });
  }

  async start(): Promise<void> {
    if (this.started) throw new Error('LineStdioServerTransport already started');
    this.started = true;
    this.stdin.on('data', this.onData);
    this.stdin.on('error', this.onStreamError);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stdin.off('data', this.onData);
    this.stdin.off('error', this.onStreamError);
    // Only pause stdin if nobody else reads it (serve watches its 'end' to exit).
    if (this.stdin.listenerCount('data') === 0) this.stdin.pause();
    this.framer.clear();
    this.onclose?.();
  }

  send(message: JSONRPCMessage): Promise<void> {
    return new Promise((resolve) => {
      if (this.stdout.write(serializeMessage(message))) resolve();
      else this.stdout.once('drain', resolve);
    });
  }

  private readonly onData = (chunk: Buffer) => this.framer.push(chunk);
  private readonly onStreamError = (error: Error) => this.onerror?.(error);

  private onLine(line: string): void {
    deliverLine(line, this);
  }

  private onOverflow(overflow: Overflow): void {
    const id = overflow.id === undefined ? '' : ` (id ${JSON.stringify(overflow.id)})`;
    this.options.warn(`refused a ${overflow.kind} from the client${id}: ${describeOverflow(overflow)}`);
    if (overflow.kind === 'request') {
      const answer = tooLargeError(overflow, 'Request too large', MESSAGE_TOO_LARGE_CODE);
      if (answer) void this.send(answer).catch((err: unknown) => this.onerror?.(err as Error));
    } else if (overflow.kind === 'response') {
      // The client's answer to our request (sampling, elicitation): that request fails with the reason.
      const answer = tooLargeError(overflow, 'the client sent a response too large', MESSAGE_TOO_LARGE_CODE);
      if (answer) this.onmessage?.(answer);
    }
  }
}
