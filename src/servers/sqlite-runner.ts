/**
 * Runs the sqlite server's queries in a child process (sqlite-query-process.js) with a deadline, so a
 * runaway query is really stopped: on the deadline, or when the client cancels the call, the child is
 * killed and a fresh one serves the next query. The server's own event loop never runs SQL, so it keeps
 * answering (and reading cancellations) while a query runs.
 *
 * Queries run one at a time, as they did in-process. The deadline counts from when the call arrived,
 * waiting included, so every call is answered within it, before the gateway's own call timeout.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { log } from './shared.js';
import { QueryError } from './sqlite-store.js';

export type QueryRequest =
  | { op: 'listTables' }
  | { op: 'describeTable'; table: string }
  | { op: 'readQuery'; sql: string }
  | { op: 'writeQuery'; sql: string };

/** What the query process sends back over IPC. */
export type QueryReply =
  | { kind: 'ready' }
  | { kind: 'fatal'; message: string }
  | { kind: 'result'; id: number; value: unknown }
  | { kind: 'error'; id: number; message: string };

export interface QueryRunnerOptions {
  file: string;
  allowWrites: boolean;
  /** Longest a call may take, queueing included. */
  timeoutMs: number;
}

interface Job {
  id: number;
  request: QueryRequest;
  /** Set once the job has been sent to a query process. */
  running: boolean;
  settle: (outcome: { value: unknown } | { error: Error }) => void;
}

const PROCESS_SCRIPT = fileURLToPath(new URL('./sqlite-query-process.js', import.meta.url));

export class QueryRunner {
  private readonly jobs: Job[] = [];
  private child: ChildProcess | undefined;
  private starting: Promise<ChildProcess> | undefined;
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: QueryRunnerOptions) {}

  /** Start the first query process; rejects with the reason when the database cannot be opened. */
  async start(): Promise<void> {
    await this.ensureChild();
  }

  run(request: QueryRequest, signal?: AbortSignal): Promise<unknown> {
    if (this.closed) return Promise.reject(new QueryError('the sqlite server is shutting down'));
    return new Promise((resolve, reject) => {
      const started = Date.now();
      const job: Job = { id: this.nextId++, request, running: false, settle: () => {} };
      const stop = (error: QueryError) => {
        if (!this.jobs.includes(job)) return;
        // A job still queued is dropped; a running one can only be stopped with its process.
        if (job.running) this.killChild();
        this.finish(job, { error });
      };
      const timer = setTimeout(() => {
        const waited = job.running ? '' : '; it waited all that time behind earlier queries';
        stop(
          new QueryError(
            `query stopped after ${this.options.timeoutMs} ms (the sqlite server's --query-timeout)${waited}`,
          ),
        );
      }, this.options.timeoutMs);
      const onAbort = () =>
        stop(new QueryError(`query cancelled by the client after ${Date.now() - started} ms`));
      job.settle = (outcome) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if ('error' in outcome) reject(outcome.error);
        else resolve(outcome.value);
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.jobs.push(job);
      this.pump();
    });
  }

  /** Stop the query process; a query still running is killed, since it cannot be asked to stop. */
  close(): void {
    this.closed = true;
    const busy = this.jobs.some((j) => j.running);
    for (const job of [...this.jobs])
      this.finish(job, { error: new QueryError('the sqlite server is shutting down') });
    if (busy) this.killChild();
    else this.child?.disconnect();
  }

  private finish(job: Job, outcome: { value: unknown } | { error: Error }): void {
    const at = this.jobs.indexOf(job);
    if (at === -1) return;
    this.jobs.splice(at, 1);
    job.settle(outcome);
    this.pump();
  }

  /** Send the oldest queued job when nothing runs. */
  private pump(): void {
    const next = this.jobs[0];
    if (!next || next.running || this.closed) return;
    next.running = true;
    this.ensureChild().then(
      (child) => {
        // Stopped (deadline or cancel) while its process was starting.
        if (!this.jobs.includes(next)) return;
        child.send({ id: next.id, request: next.request });
      },
      (err: Error) =>
        this.finish(next, { error: new QueryError(`cannot open the database: ${err.message}`) }),
    );
  }

  private ensureChild(): Promise<ChildProcess> {
    if (this.child) return Promise.resolve(this.child);
    this.starting ??= this.spawn().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private spawn(): Promise<ChildProcess> {
    const mode = this.options.allowWrites ? 'rw' : 'ro';
    // stdout goes to our stderr: our stdout is JSON-RPC only.
    const child = fork(PROCESS_SCRIPT, [this.options.file, mode], { stdio: ['ignore', 2, 2, 'ipc'] });
    return new Promise((resolve, reject) => {
      child.on('message', (reply: QueryReply) => {
        if (reply.kind === 'ready') {
          // Named in the log so an operator (and a test) can see which process a query ran in.
          log('sqlite', `query process ${child.pid} ready`);
          this.child = child;
          resolve(child);
        } else if (reply.kind === 'fatal') {
          reject(new Error(reply.message));
        } else {
          this.onReply(reply);
        }
      });
      child.on('error', reject);
      child.on('exit', (code, signal) => {
        reject(new Error(`the query process exited (${signal ?? `code ${code}`}) before it was ready`));
        if (this.child !== child) return;
        this.child = undefined;
        // Killed by us, the job is already settled; otherwise it crashed under the running query.
        const running = this.jobs.find((j) => j.running);
        if (running) {
          const error = new QueryError(
            `SQLite error: the query process died (${signal ?? `exit code ${code}`})`,
          );
          this.finish(running, { error });
        }
      });
    });
  }

  private onReply(reply: Extract<QueryReply, { id: number }>): void {
    const job = this.jobs.find((j) => j.id === reply.id);
    if (!job) return;
    this.finish(
      job,
      reply.kind === 'result' ? { value: reply.value } : { error: new QueryError(reply.message) },
    );
  }

  private killChild(): void {
    const child = this.child;
    this.child = undefined;
    child?.kill('SIGKILL');
  }
}
