/**
 * The process that runs the sqlite server's queries, forked by {@link QueryRunner}:
 *
 *   node sqlite-query-process.js FILE ro|rw
 *
 * It exists so a query can be stopped: better-sqlite3 runs a statement to its end inside native code,
 * exposes neither sqlite3_interrupt nor a progress handler, and `Worker.terminate()` cannot break into
 * native code (tried: a runaway recursive CTE in a terminated worker kept running, and even
 * `process.exit` then waited for it). Killing a process always works, and SQLite's journal undoes a
 * write cut off half-way.
 *
 * It talks only over the IPC channel; stdout is the server's JSON-RPC stream, so it is never used here.
 */
import { Worker } from 'node:worker_threads';
import type { QueryReply, QueryRequest } from './sqlite-runner.js';
import { QueryError, SqliteStore } from './sqlite-store.js';

/**
 * Stop this process when its parent is gone. The 'disconnect' event cannot fire while a query holds the
 * main thread, so a thread of its own watches the parent pid: without it, a SIGKILLed server would
 * leave its runaway query burning a core for ever.
 */
function watchParent(): void {
  const source = `
    const parent = process.ppid;
    setInterval(() => { if (process.ppid !== parent) process.kill(process.pid, 'SIGKILL'); }, 500);
  `;
  new Worker(source, { eval: true }).unref();
}

function answer(store: SqliteStore, request: QueryRequest): unknown {
  switch (request.op) {
    case 'listTables':
      return store.listTables();
    case 'describeTable':
      return store.describeTable(request.table);
    case 'readQuery':
      return store.readQuery(request.sql);
    case 'writeQuery':
      return store.writeQuery(request.sql);
  }
}

function send(message: QueryReply, then?: () => void): void {
  process.send?.(message, undefined, undefined, then);
}

function serve(file: string, writable: boolean): void {
  let store: SqliteStore;
  try {
    store = new SqliteStore(file, writable);
  } catch (err) {
    // Exit once the reason has left, so the server can say why it cannot start.
    send({ kind: 'fatal', message: err instanceof Error ? err.message : String(err) }, () => process.exit(1));
    return;
  }
  process.on('message', (message: { id: number; request: QueryRequest }) => {
    try {
      send({ kind: 'result', id: message.id, value: answer(store, message.request) });
    } catch (err) {
      const text = err instanceof Error ? err.message : String(err);
      // QueryError messages are written for the user; anything else is SQLite's own, so say so.
      const reply = err instanceof QueryError ? text : `SQLite error: ${text}`;
      send({ kind: 'error', id: message.id, message: reply });
    }
  });
  process.on('disconnect', () => {
    store.close();
    process.exit(0);
  });
  send({ kind: 'ready' });
}

const [file, mode] = process.argv.slice(2);
if (!process.send || !file) {
  process.stderr.write('sqlite-query-process: started without an IPC channel or a database file\n');
  process.exit(2);
}
watchParent();
serve(file, mode === 'rw');
