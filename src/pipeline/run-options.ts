/** What the caller of `runPipeline` hands the engine: the invoker, limits, clock, listeners. */
import type { ToolInvoker } from '../backends/types.js';
import type { ChildRunOptions } from './child-runs.js';
import type { RunObserver, StepEvent } from './types.js';

export const DEFAULT_STEP_TIMEOUT_MS = 10_000;

export interface RunOptions extends ChildRunOptions {
  invoker: ToolInvoker;
  /** Aborting it cancels the run: running calls get MCP cancellation, the run ends 'cancelled'. */
  signal?: AbortSignal;
  /** Called synchronously as steps start, retry and end; exceptions are ignored. */
  onEvent?: (event: StepEvent) => void;
  /** Per-call timeout when neither the step nor `timeoutFor` gives one. Default 10 s. */
  defaultTimeoutMs?: number;
  /** The backend's own timeout, if it has one. */
  timeoutFor?: (server: string) => number | undefined;
  /** A monotonic clock in milliseconds; default `performance.now`. */
  now?: () => number;
  /** Convert string inputs to their declared types ("10" → 10), for command lines. */
  coerceInputs?: boolean;
  /** Hears the run (and child runs) for tracing and metrics. */
  observer?: RunObserver;
  /** Opaque: the trace the run belongs to, handed to `observer` (see RunObserver). */
  trace?: unknown;
}
