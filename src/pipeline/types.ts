import type { ContentBlock } from '@modelcontextprotocol/server';
import type { Template, TemplateSite } from './template.js';

/** One problem in a pipeline file, at the line and column (1-based) an editor jumps to. */
export interface PipelineIssue {
  file?: string;
  line: number;
  column: number;
  message: string;
  /** The step the problem is in, when it is in one. */
  step?: string;
}

/**
 * Which tools each backend has, for `validate` to report unknown servers and tools.
 * As a function: `undefined` = no such server, `null` = the server exists but its tools are not
 * known (offline), an array = its tools. As a map: the keys are the servers.
 */
export type KnownTools =
  | ReadonlyMap<string, readonly string[] | null>
  | ((server: string) => readonly string[] | null | undefined);

export interface RetryPolicy {
  /** Most calls in all, the first included; 1 = no retry. */
  attempts: number;
  backoffMs: number;
  factor: number;
  maxBackoffMs: number;
}

/** An input's JSON Schema property as written, without the gateway's own `required` flag. */
export type InputSchema = Record<string, unknown>;

/** The object JSON Schema a run's inputs must satisfy; also the `pipeline__<name>` tool's input schema. */
export interface InputsSchema {
  type: 'object';
  properties: Record<string, InputSchema>;
  required: string[];
  additionalProperties: false;
}

/** Where a `pipeline:` step names its child and its inputs, for the cross-file checks made at load. */
export interface PipelineCall {
  /** The child pipeline's name. */
  readonly name: string;
  /** The `pipeline` key. */
  readonly line: number;
  readonly column: number;
  /** The `args` key, or the `pipeline` key when there is none. */
  readonly argsAt: { readonly line: number; readonly column: number };
  /** The input names `args` gives, with their keys; undefined when `args` is one expression. */
  readonly inputs?: readonly { readonly name: string; readonly line: number; readonly column: number }[];
}

export interface CompiledStep {
  readonly id: string;
  /** A tool step's backend; '' for a pipeline step. */
  readonly server: string;
  /** A tool step's tool; '' for a pipeline step. */
  readonly tool: string;
  /** Set on a step that runs another pipeline instead of a tool. */
  readonly pipeline?: PipelineCall;
  readonly description?: string;
  readonly args?: Template;
  readonly when?: Template;
  readonly forEach?: Template;
  /** for_each steps: most items in flight (within the pipeline's concurrency). */
  readonly concurrency?: number;
  /** Per-call timeout from the file; else the backend's, else the run's default. */
  readonly timeoutMs?: number;
  readonly retry: RetryPolicy;
  readonly onError: 'fail' | 'continue';
  readonly parse?: 'json' | 'text';
  /** Steps listed in `needs`, as written. */
  readonly needs: readonly string[];
  /** Steps its expressions read (`$.steps.<id>`), in first-reference order. */
  readonly refs: readonly string[];
  /** Every step that must be done before this one: `needs` ∪ `refs`, in file order. */
  readonly dependsOn: readonly string[];
  /** Steps that depend on this one, in file order. */
  readonly dependents: readonly string[];
  /** Where the step's key is. */
  readonly line: number;
  readonly column: number;
}

/** A pipeline that passed validation, with every expression compiled. Immutable; a run keeps the one it started with. */
export interface CompiledPipeline {
  readonly name: string;
  readonly description?: string;
  readonly file?: string;
  readonly inputs: Readonly<Record<string, InputSchema>>;
  readonly inputsSchema: InputsSchema;
  /** In file order. */
  readonly steps: ReadonlyMap<string, CompiledStep>;
  /** A topological order (dependencies first, ties in file order). */
  readonly order: readonly string[];
  /** Steps by depth: layer 0 has no dependencies, layer n depends on something in layer n-1. */
  readonly layers: readonly (readonly string[])[];
  /** Undefined when the file has no `output`: the run's output then maps step id → output. */
  readonly output?: Template;
  readonly concurrency: number;
  /** The run's deadline, if any. */
  readonly timeoutMs?: number;
  /**
   * The `on_failure` steps, as a pipeline of their own (same name and inputs, no output, the
   * compensation grace as its deadline): run after the main run failed or was cancelled.
   */
  readonly onFailure?: CompiledPipeline;
  /** The line and column of a template's site (see `TemplateSite`), for problems found after load. */
  readonly locate?: (site: TemplateSite) => { line: number; column: number };
}

export type RunStatus = 'succeeded' | 'failed' | 'cancelled';
export type StepStatus = 'succeeded' | 'failed' | 'skipped' | 'cancelled';

/** What `$.steps.<id>` holds once the step is done. For a for_each step, output/text/content are arrays in item order. */
export interface StepResult {
  status: StepStatus;
  output?: unknown;
  text?: string | string[];
  content?: ContentBlock[] | ContentBlock[][];
  isError?: boolean;
  error?: string;
  attempts: number;
  durationMs: number;
}

/** One step in a run's report. Times are milliseconds since the run started. */
export interface StepRecord {
  status: StepStatus;
  /** Backend calls made, retries and for_each items included. */
  attempts: number;
  durationMs: number;
  startedAt?: number;
  endedAt?: number;
  error?: string;
  /** Why a step was skipped ("when is false", "dependency 'x' was skipped", "step 'x' failed"). */
  reason?: string;
  output?: unknown;
  /** for_each steps: how many items. */
  items?: number;
  /** A pipeline step: the child's run (its last attempt). */
  child?: ChildRunRecord;
  /** A for_each pipeline step: each item's child run, in item order (null: not run). */
  children?: (ChildRunRecord | null)[];
}

/** A child pipeline's run as its parent's report shows it. */
export interface ChildRunRecord {
  pipeline: string;
  status: RunStatus;
  error?: string;
  failedStep?: string;
  steps: Record<string, StepRecord>;
  durationMs: number;
}

export interface RunResult {
  pipeline: string;
  status: RunStatus;
  /** The pipeline's output; null unless the run succeeded. */
  output: unknown;
  error?: string;
  /** The step whose failure failed the run. */
  failedStep?: string;
  steps: Record<string, StepRecord>;
  durationMs: number;
  /** The `on_failure` steps' run, when the run failed or was cancelled and the pipeline has them. */
  compensation?: CompensationResult;
}

/** How the `on_failure` steps went; the run's own status stays failed / cancelled whatever this says. */
export interface CompensationResult {
  status: RunStatus;
  error?: string;
  failedStep?: string;
  /** Times are milliseconds since the compensation started. */
  steps: Record<string, StepRecord>;
  durationMs: number;
}

interface EventBase {
  step: string;
  /** Milliseconds since the run started. */
  at: number;
}

/**
 * Progress of a run, for MCP progress notifications and the CLI's live view. A child pipeline's
 * events come through its parent with `step` = `<parent step> > <child step>` (`<parent step>[i] > …`
 * for a for_each item), nesting further for grandchildren.
 */
export type StepEvent =
  | (EventBase & { type: 'started'; server: string; tool: string; items?: number; pipeline?: string })
  | (EventBase & { type: 'succeeded'; durationMs: number; attempts: number })
  | (EventBase & {
      type: 'failed';
      server: string;
      tool: string;
      durationMs: number;
      attempts: number;
      error: string;
      /** Whether calling again might have helped (false for unknown tools, invalid params, bad expressions). */
      retryable: boolean;
      /** on_error: continue — the run goes on. */
      continued: boolean;
    })
  | (EventBase & { type: 'retrying'; attempt: number; delayMs: number; error: string; item?: number })
  | (EventBase & { type: 'skipped'; reason: string })
  | (EventBase & { type: 'cancelled'; reason: string });

/**
 * Hears runs as they go, for tracing and metrics: `runStarted` as each run begins (child pipeline
 * runs too), then the run's step events, each call (one per step, item and attempt) and the result.
 * Methods must be cheap and must not throw; the engine knows nothing of what they do. `trace` values
 * are opaque: the engine hands each on — a call's to the invoker (CallOptions.trace) and to a child
 * run (RunOptions.trace), which gets it back in its own `runStarted`.
 */
export interface RunObserver {
  runStarted(pipeline: CompiledPipeline, trace: unknown): RunHooks;
}

export interface RunHooks {
  event(event: StepEvent): void;
  /**
   * One call of `step` (`item` for a for_each step), attempt 1, 2…, starting `at` ms into the run:
   * the clock of the step events' `at`, so a call's times lie within its step's.
   */
  call(step: string, item: number | undefined, attempt: number, at: number): CallHooks;
  ended(result: RunResult): void;
}

export interface CallHooks {
  /** What the call (a tool call, or a child run) carries as its `trace`. */
  trace: unknown;
  /** The call settled `at` ms into the run (the step events' clock); `error` says why it failed. */
  end(error: string | undefined, at: number): void;
}
