/**
 * Record and replay: a ToolInvoker that writes down every call another one answers, and one that
 * answers from such a recording without any backend. The engine only ever sees a ToolInvoker, so a
 * replayed run takes the same path through it as a live one.
 */
import type { CallToolResult } from '@modelcontextprotocol/server';
import type { CallOptions, ToolInvoker } from '../backends/types.js';
import { errorMessage, GatewayError, type GatewayErrorCode, isGatewayError } from '../errors.js';
import { type DataFileResult, readDataFile } from './data-file.js';

export const RECORDING_VERSION = 1;

export interface RecordedError {
  /** A GatewayError's code (`BACKEND_TIMEOUT`), or a JSON-RPC error's number (-32602). */
  code?: string | number;
  message: string;
  data?: unknown;
}

export interface RecordedCall {
  server: string;
  tool: string;
  arguments: Record<string, unknown>;
  result?: CallToolResult;
  error?: RecordedError;
  /** Milliseconds from the start of the recording to the call. */
  startedAt: number;
  durationMs: number;
}

export interface Recording {
  version: typeof RECORDING_VERSION;
  pipeline: string;
  inputs: Record<string, unknown>;
  recordedAt: string;
  calls: RecordedCall[];
}

/** JSON with every object's keys sorted, so `{a, b}` and `{b, a}` are one call. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value)) ?? 'null';
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[key];
    if (v !== undefined) out[key] = sortKeys(v);
  }
  return out;
}

function callKey(server: string, tool: string, args: unknown): string {
  return `${server}\u0000${tool}\u0000${canonicalJson(args ?? {})}`;
}

/** Wraps `inner`: every call goes through, and is written down with its answer or error. */
export class RecordingInvoker implements ToolInvoker {
  readonly calls: RecordedCall[] = [];
  private readonly started = performance.now();

  constructor(private readonly inner: ToolInvoker) {}

  async callTool(
    server: string,
    tool: string,
    args: Record<string, unknown>,
    options?: CallOptions,
  ): Promise<CallToolResult> {
    const startedAt = performance.now();
    // A JSON copy: what the backend was sent, and undefined keys gone as on the wire.
    const entry: RecordedCall = {
      server,
      tool,
      arguments: JSON.parse(canonicalJson(args ?? {})) as Record<string, unknown>,
      startedAt: round(startedAt - this.started),
      durationMs: 0,
    };
    // In start order, so a file reads as the run went; the answer is filled in when it comes.
    this.calls.push(entry);
    try {
      const result = await this.inner.callTool(server, tool, args, options);
      entry.result = JSON.parse(JSON.stringify(result)) as CallToolResult;
      return result;
    } catch (err) {
      entry.error = recordError(err);
      throw err;
    } finally {
      entry.durationMs = round(performance.now() - startedAt);
    }
  }

  /** The recording so far; a call still running is written as failed, since it never answered. */
  recording(pipeline: string, inputs: Record<string, unknown>, recordedAt: Date): Recording {
    const calls = this.calls.map((c) =>
      c.result === undefined && c.error === undefined
        ? {
            ...c,
            error: { code: 'BACKEND_CANCELLED', message: 'the call had not finished when the run ended' },
          }
        : c,
    );
    return { version: RECORDING_VERSION, pipeline, inputs, recordedAt: recordedAt.toISOString(), calls };
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

function recordError(err: unknown): RecordedError {
  const out: RecordedError = { message: errorMessage(err) };
  if (isGatewayError(err)) out.code = err.code;
  else {
    const code = (err as { code?: unknown } | null)?.code;
    if (typeof code === 'number' || typeof code === 'string') out.code = code;
  }
  const data = isGatewayError(err) ? err.data : (err as { data?: unknown } | null)?.data;
  if (data !== undefined && !(isGatewayError(err) && Object.keys(err.data).length === 0)) {
    out.data = JSON.parse(JSON.stringify(data)) as unknown;
  }
  return out;
}

/** A JSON-RPC error as a backend sent it: `code` is what the engine's retry rule reads. */
class ReplayedRpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

function replayError(error: RecordedError): Error {
  if (typeof error.code === 'number') return new ReplayedRpcError(error.code, error.message, error.data);
  if (typeof error.code === 'string' && /^[A-Z][A-Z_]*$/.test(error.code)) {
    const data =
      error.data !== null && typeof error.data === 'object' ? (error.data as Record<string, unknown>) : {};
    return new GatewayError(error.code as GatewayErrorCode, error.message, data);
  }
  return new Error(error.message);
}

/**
 * Answers from a recording, never from a backend. A call is matched on server, tool and arguments
 * (object keys in any order); the same call asked again gets the next recorded answer, so a retry
 * that failed then succeeded replays the same way. A call the recording does not hold — or holds
 * fewer times than it is asked — fails with REPLAY_MISSING. Answers come at once: replay does not
 * reproduce timing, except that a call recorded as cancelled waits for its own cancellation (it was
 * cut off by the run failing or timing out, which the replayed run will do again).
 */
export class ReplayInvoker implements ToolInvoker {
  private readonly queues = new Map<string, RecordedCall[]>();
  /** How many of each call's recorded answers were given. */
  private readonly used = new Map<string, number>();

  constructor(
    private readonly recording: Recording,
    /** How the recording is named in errors (its file). */
    private readonly source = 'the recording',
  ) {
    for (const call of recording.calls) {
      const key = callKey(call.server, call.tool, call.arguments);
      const queue = this.queues.get(key);
      if (queue) queue.push(call);
      else this.queues.set(key, [call]);
    }
  }

  async callTool(
    server: string,
    tool: string,
    args: Record<string, unknown>,
    options?: CallOptions,
  ): Promise<CallToolResult> {
    const key = callKey(server, tool, args);
    const n = this.used.get(key) ?? 0;
    const call = this.queues.get(key)?.[n];
    if (!call) throw this.missing(server, tool, args, n);
    this.used.set(key, n + 1);
    if (call.error) {
      if (call.error.code === 'BACKEND_CANCELLED') await aborted(options?.signal);
      throw replayError(call.error);
    }
    return structuredClone(call.result) as CallToolResult;
  }

  private missing(server: string, tool: string, args: Record<string, unknown>, times: number): GatewayError {
    const call = `${server}.${tool} ${short(canonicalJson(args ?? {}))}`;
    const data: Record<string, unknown> = { server, tool, arguments: args, recording: this.source };
    if (times > 0) {
      return new GatewayError(
        'REPLAY_MISSING',
        `REPLAY_MISSING: ${call} is recorded ${times === 1 ? 'once' : `${times} times`} in ${this.source} and was asked for once more`,
        { ...data, recordedTimes: times },
      );
    }
    const near = closestCall(this.recording.calls, server, tool, args);
    let hint: string;
    if (near) {
      const differ = differingKeys(near.arguments, args);
      data.closest = near.arguments;
      hint = `; closest recorded ${server}.${tool} call: ${short(canonicalJson(near.arguments))}${differ.length ? ` (differs in ${differ.join(', ')})` : ''}`;
    } else {
      const recorded = [...new Set(this.recording.calls.map((c) => `${c.server}.${c.tool}`))];
      hint = `; it holds no ${server}.${tool} call (recorded: ${recorded.length ? recorded.join(', ') : 'none'})`;
    }
    return new GatewayError(
      'REPLAY_MISSING',
      `REPLAY_MISSING: ${call} is not in ${this.source}${hint}`,
      data,
    );
  }
}

/** The recorded call of this server and tool whose arguments differ from `args` in the fewest keys. */
export function closestCall(
  calls: readonly RecordedCall[],
  server: string,
  tool: string,
  args: Record<string, unknown>,
): RecordedCall | undefined {
  let best: RecordedCall | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const call of calls) {
    if (call.server !== server || call.tool !== tool) continue;
    const score = differingKeys(call.arguments, args).length;
    if (score < bestScore) {
      best = call;
      bestScore = score;
    }
  }
  return best;
}

/** Top-level argument keys whose values differ (missing on one side counts). */
export function differingKeys(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const keys = [...new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})])].sort();
  return keys.filter((k) => canonicalJson(a?.[k]) !== canonicalJson(b?.[k]));
}

function short(text: string, max = 300): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function aborted(signal: AbortSignal | undefined): Promise<void> {
  if (!signal || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/** A recording's text → Recording, checked against schemas/recording.schema.json. */
export function parseRecording(text: string, file: string): DataFileResult<Recording> {
  const result = readDataFile<Recording>(text, file, 'recording.schema.json', (data) =>
    data.calls.flatMap((call, i) =>
      (call.result === undefined) === (call.error === undefined)
        ? [
            {
              path: ['calls', i],
              at: 'value' as const,
              message: `calls[${i}]: must have either "result" or "error"`,
            },
          ]
        : [],
    ),
  );
  if (result.ok) result.data.inputs ??= {};
  return result;
}
