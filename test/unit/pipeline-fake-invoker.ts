/**
 * A ToolInvoker for engine tests: each call runs a handler chosen by `server.tool` (or `*`) and is
 * recorded with its start and end time, its arguments, options and signal, so tests assert on the
 * intervals and the signals instead of on wall-clock limits.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { CallOptions, ToolInvoker } from '../../src/backends/types.js';
import { validatePipelineText } from '../../src/pipeline/index.js';
import type { CompiledPipeline } from '../../src/pipeline/types.js';

export interface RecordedCall {
  server: string;
  tool: string;
  args: Record<string, unknown>;
  options: CallOptions;
  signal: AbortSignal;
  start: number;
  end?: number;
  outcome?: 'resolved' | 'rejected';
}

export type Handler = (call: RecordedCall, invoker: FakeInvoker) => Promise<CallToolResult> | CallToolResult;

export class FakeInvoker implements ToolInvoker {
  readonly calls: RecordedCall[] = [];
  inFlight = 0;
  maxInFlight = 0;
  private readonly t0 = performance.now();

  constructor(private readonly handlers: Record<string, Handler>) {}

  now(): number {
    return performance.now() - this.t0;
  }

  async callTool(
    server: string,
    tool: string,
    args: Record<string, unknown>,
    options: CallOptions = {},
  ): Promise<CallToolResult> {
    const handler = this.handlers[`${server}.${tool}`] ?? this.handlers['*'];
    if (!handler) throw new Error(`fake: no handler for ${server}.${tool}`);
    const call: RecordedCall = {
      server,
      tool,
      args,
      options,
      signal: options.signal ?? new AbortController().signal,
      start: this.now(),
    };
    this.calls.push(call);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      const result = await handler(call, this);
      call.outcome = 'resolved';
      return result;
    } catch (err) {
      call.outcome = 'rejected';
      throw err;
    } finally {
      call.end = this.now();
      this.inFlight--;
    }
  }

  callsTo(tool: string): RecordedCall[] {
    return this.calls.filter((c) => c.tool === tool);
  }

  only(tool: string): RecordedCall {
    const calls = this.callsTo(tool);
    if (calls.length !== 1) throw new Error(`expected one call to ${tool}, got ${calls.length}`);
    return calls[0]!;
  }
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first (a backend honouring cancellation). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A result with structuredContent and the same JSON as text, as well-behaved servers send. */
export function json(value: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value) }], structuredContent: value };
}

export function text(value: string): CallToolResult {
  return { content: [{ type: 'text', text: value }] };
}

export function toolError(message: string): CallToolResult {
  return { content: [{ type: 'text', text: message }], isError: true };
}

/** A handler that sleeps `ms` (honouring cancellation) and then returns `result`. */
export function delayed(
  ms: number,
  result: CallToolResult | ((call: RecordedCall) => CallToolResult),
): Handler {
  return async (call) => {
    await sleep(ms, call.signal);
    return typeof result === 'function' ? result(call) : result;
  };
}

/** Compile YAML text that must be valid. */
export function compile(yaml: string): CompiledPipeline {
  const result = validatePipelineText(yaml);
  if (!result.ok) {
    throw new Error(result.issues.map((i) => `${i.line}:${i.column}: ${i.message}`).join('\n'));
  }
  return result.pipeline;
}

/** [start, end] intervals overlap. */
export function overlap(a: RecordedCall, b: RecordedCall): boolean {
  return a.start < b.end! && b.start < a.end!;
}
