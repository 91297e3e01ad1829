/**
 * Watching pipeline runs from outside the request that started them (the web console's run journal):
 * every run the PipelineHost starts, whoever asked for it, is told to each watcher — its step events
 * (a child pipeline's too, with `step > child step` names), each call of a step (one per for_each item
 * and attempt) as it starts and ends, and the result. With no watcher nothing is added to a run.
 */
import type {
  CallHooks,
  CompiledPipeline,
  RunHooks,
  RunObserver,
  RunResult,
  StepEvent,
} from '../pipeline/index.js';

/** One run as a watcher hears it. Methods must be cheap and must not throw. */
export interface RunWatch {
  event(event: StepEvent): void;
  /**
   * A call of a top-level step began `at` ms into the run (`item` for a for_each step); call what it
   * returns when it ends. Both times are in the clock of the step events' `at`.
   */
  call(
    step: string,
    item: number | undefined,
    attempt: number,
    at: number,
  ): (error: string | undefined, at: number) => void;
  ended(result: RunResult): void;
}

/** Called as each run starts (its inputs checked); returns how it wants to hear that run. */
export type RunWatcher = (run: { pipeline: CompiledPipeline; inputs: unknown }) => RunWatch;

export interface WatchedRun {
  /** The observer to run with: `base`'s hooks, with the watches' beside them for the top run. */
  observer: RunObserver | undefined;
  /** Step events for the watches (a child pipeline's come through here, not through the observer). */
  onEvent: ((event: StepEvent) => void) | undefined;
  ended(result: RunResult): void;
}

/**
 * Wraps `base` (tracing and metrics) so the watchers hear one run. Their watches are made when the
 * engine starts the run — after its inputs passed — so a run refused for bad inputs leaves no trace.
 * The engine calls `runStarted` again for each child pipeline run: those go to `base` alone, as the
 * child's events already reach the watches through `onEvent`.
 */
export function watchRun(
  base: RunObserver | undefined,
  watchers: readonly RunWatcher[],
  pipeline: CompiledPipeline,
  inputs: unknown,
): WatchedRun {
  if (watchers.length === 0) return { observer: base, onEvent: undefined, ended() {} };
  let watches: RunWatch[] | undefined;
  const observer: RunObserver = {
    runStarted(started, trace) {
      const hooks = base?.runStarted(started, trace);
      if (watches) return hooks ?? NOOP_HOOKS;
      const mine = watchers.map((w) => w({ pipeline, inputs }));
      watches = mine;
      return {
        event: (e) => hooks?.event(e),
        call(step, item, attempt, at): CallHooks {
          const inner = hooks?.call(step, item, attempt, at);
          const ends = mine.map((w) => w.call(step, item, attempt, at));
          return {
            trace: inner?.trace,
            end(error, endedAt) {
              inner?.end(error, endedAt);
              for (const end of ends) end(error, endedAt);
            },
          };
        },
        ended: (result) => hooks?.ended(result),
      };
    },
  };
  return {
    observer,
    onEvent: (event) => {
      for (const w of watches ?? []) w.event(event);
    },
    ended(result) {
      for (const w of watches ?? []) w.ended(result);
    },
  };
}

const NOOP_HOOKS: RunHooks = {
  event() {},
  call: () => ({ trace: undefined, end() {} }),
  ended() {},
};
