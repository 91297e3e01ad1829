import type { ChildProcess } from 'node:child_process';
import { PassThrough } from 'node:stream';
import type { JSONRPCMessage, Transport } from '@modelcontextprotocol/client';
// cross-spawn, as the SDK's own stdio transport uses: on Windows it resolves `npx`, `uvx` and other
// .cmd shims that a plain spawn cannot start; elsewhere it is child_process.spawn.
import spawn from 'cross-spawn';
import { LineFramer, type Overflow } from './line-framer.js';
import {
  deliverLine,
  describeOverflow,
  INTERNAL_ERROR_CODE,
  MESSAGE_TOO_LARGE_CODE,
  serializeMessage,
  tooLargeError,
} from './oversized.js';
import { groupGoneWithin, killGroup, trackGroup, untrackGroup } from './process-group.js';

export interface StdioChildOptions {
  command: string;
  args: string[];
  /** The child's whole environment. */
  env: Record<string, string>;
  cwd?: string;
  /** Largest message accepted from the child, in bytes; read per message. */
  maxMessageBytes: () => number;
  /** Where refused messages are reported. */
  warn: (message: string) => void;
  /** Who the child is in messages: `server 'files'`. */
  peer: string;
  /** Each wait of the stop sequence, read when stopping; default {@link STOP_STEP_MS}. */
  stopStepMs?: () => number;
}

/** The SDK's stop sequence waits this long after closing stdin, and again after SIGTERM. */
export const STOP_STEP_MS = 2_000;
/**
 * The waits when the whole gateway shuts down: a client that closed our stdin sends SIGTERM after 2 s
 * and SIGKILL 2 s later (the SDK's own stop sequence), and a SIGKILLed gateway can kill no group.
 */
export const SHUTDOWN_STOP_STEP_MS = 750;

/**
 * A backend process over stdio, in place of the SDK's StdioClientTransport, for two reasons:
 * - framing in linear time with the gateway's message limit: an oversized answer fails the one call it
 *   answers (its id is recovered), an oversized request from the backend is answered with an error,
 *   anything else is logged and skipped; the connection keeps working. (The SDK's reader closed the
 *   connection at 10 MiB, failing every call in flight and restarting the backend.)
 * - the whole process group is stopped, not just the direct child: see process-group.ts.
 * Stopping goes as the SDK's does, applied to the group: close stdin, wait, SIGTERM, wait, SIGKILL.
 */
export class StdioChildTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  /** The child's stderr, available before start so nothing it writes early is lost. */
  readonly stderr = new PassThrough();
  private process: ChildProcess | undefined;
  private readonly framer: LineFramer;
  private closedFired = false;

  constructor(private readonly options: StdioChildOptions) {
    this.framer = new LineFramer({
      limit: options.maxMessageBytes,
      onLine: (line) => this.onLine(line),
      onOverflow: (overflow) => this.onOverflow(overflow),
    });
  }

  /** The child, once spawned; its exit code and signal are what a user needs to see. */
  get child(): ChildProcess | undefined {
    return this.process;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  /** Spawns synchronously (the child exists when this returns its promise); resolves once it runs. */
  start(): Promise<void> {
    if (this.process) throw new Error('StdioChildTransport already started');
    const { command, args, env, cwd } = this.options;
    const child = spawn(command, args, {
      env,
      cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
      shell: false,
      // POSIX: its own session and process group, so the group can be stopped as one. Windows has no
      // groups (taskkill /T walks the tree), and there `detached` would open a console window.
      detached: process.platform !== 'win32',
      windowsHide: true,
    });
    this.process = child;
    return new Promise((resolve, reject) => {
      // 'on', not 'once': a failed kill later emits 'error' too, and an unhandled one would crash us.
      child.on('error', (error) => {
        reject(error);
        this.onerror?.(error);
      });
      child.once('spawn', () => {
        if (child.pid !== undefined) trackGroup(child.pid);
        resolve();
      });
      child.once('close', () => this.fireClose());
      child.stdin?.on('error', (error) => this.onerror?.(error));
      child.stdout?.on('data', (chunk: Buffer) => this.framer.push(chunk));
      child.stdout?.on('error', (error) => this.onerror?.(error));
      child.stderr?.pipe(this.stderr);
    });
  }

  send(message: JSONRPCMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      const stdin = this.process?.stdin;
      if (!stdin || stdin.destroyed || stdin.writableEnded) {
        reject(new Error('Not connected'));
        return;
      }
      if (stdin.write(serializeMessage(message))) resolve();
      else stdin.once('drain', resolve);
    });
  }

  /**
   * Stops the process group: closes stdin and waits, SIGTERM to the group and waits, SIGKILL to the
   * group. Returns once the group is gone (or SIGKILL was sent and had a moment to land).
   */
  async close(): Promise<void> {
    const child = this.process;
    const pid = child?.pid;
    if (!child || pid === undefined) {
      this.fireClose();
      return;
    }
    const step = this.options.stopStepMs?.() ?? STOP_STEP_MS;
    try {
      child.stdin?.end();
    } catch {
      // already closed
    }
    if (!(await groupGoneWithin(pid, step))) {
      killGroup(pid, 'SIGTERM');
      if (!(await groupGoneWithin(pid, step))) {
        killGroup(pid, 'SIGKILL');
        await groupGoneWithin(pid, 1_000);
      }
    }
    untrackGroup(pid);
    // A process outside the group (one that made its own session) may still hold our pipes, and the
    // child's 'close' waits for them: stop reading, so the close is not held up by a stranger.
    if (!this.closedFired) {
      child.stdout?.destroy();
      child.stderr?.destroy();
    }
    this.framer.clear();
  }

  private fireClose(): void {
    if (this.closedFired) return;
    this.closedFired = true;
    this.framer.clear();
    this.onclose?.();
  }

  private onLine(line: string): void {
    deliverLine(line, this);
  }

  private onOverflow(overflow: Overflow): void {
    const id = overflow.id === undefined ? '' : ` (id ${JSON.stringify(overflow.id)})`;
    this.options.warn(`refused a ${overflow.kind}${id} from the backend: ${describeOverflow(overflow)}`);
    if (overflow.kind === 'response') {
      // Fails the one call it answered, with the reason; the connection carries on. Internal error, not
      // Invalid Request: the caller's request was fine, the gateway could not pass the answer on.
      const what = `${this.options.peer} sent an answer too large for the gateway`;
      const answer = tooLargeError(overflow, what, INTERNAL_ERROR_CODE);
      if (answer) this.onmessage?.(answer);
    } else if (overflow.kind === 'request') {
      const answer = tooLargeError(overflow, 'Request too large', MESSAGE_TOO_LARGE_CODE);
      if (answer) void this.send(answer).catch((err: unknown) => this.onerror?.(err as Error));
    }
  }
}
