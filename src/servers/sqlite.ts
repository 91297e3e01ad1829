#!/usr/bin/env node
/**
 * Example backend: query a SQLite database.
 *
 *   node dist/servers/sqlite.js [--db-path FILE] [--allow-writes] [--query-timeout DURATION]
 *
 * The database is --db-path, else $SQLITE_DB_PATH, else ./data/sample.db (relative to the working
 * folder). A missing file is created with sample data. write_query exists only with --allow-writes.
 *
 * Every call is stopped after --query-timeout (else $SQLITE_QUERY_TIMEOUT, else 8s: under the gateway's
 * default 10 s call timeout, so the user reads which deadline ended the query rather than a bare
 * timeout). Queries run in a child process that is killed on the deadline or on cancellation.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { CallToolResult } from '@modelcontextprotocol/server';
import { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { createSampleDatabase } from './sample-db.js';
import {
  errorText,
  jsonText,
  log,
  parseMilliseconds,
  serveStdio,
  structuredResult,
  toolError,
} from './shared.js';
import { type QueryRequest, QueryRunner } from './sqlite-runner.js';
import { type Column, MAX_ROWS, QueryError, type ReadResult, type WriteResult } from './sqlite-store.js';

const NAME = 'sqlite';
const USAGE = 'usage: sqlite.js [--db-path FILE] [--allow-writes] [--query-timeout DURATION]';
const DEFAULT_QUERY_TIMEOUT = '8s';

interface Options {
  dbPath: string;
  allowWrites: boolean;
  queryTimeoutMs: number;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      'db-path': { type: 'string' },
      'allow-writes': { type: 'boolean', default: false },
      'query-timeout': { type: 'string' },
    },
    strict: true,
  });
  const dbPath = values['db-path'] || process.env.SQLITE_DB_PATH || './data/sample.db';
  const timeout = values['query-timeout'] || process.env.SQLITE_QUERY_TIMEOUT || DEFAULT_QUERY_TIMEOUT;
  const queryTimeoutMs = parseMilliseconds(timeout);
  if (queryTimeoutMs === undefined || queryTimeoutMs === 0) {
    throw new Error(
      '--query-timeout (or SQLITE_QUERY_TIMEOUT) must be a duration above zero like "5s" or "500ms"',
    );
  }
  return { dbPath: resolve(dbPath), allowWrites: values['allow-writes'] ?? false, queryTimeoutMs };
}

/**
 * Run one database operation as a tool call: its failures, a deadline or a cancellation included,
 * become isError results, never a crash.
 */
async function run<T>(
  request: QueryRequest,
  signal: AbortSignal,
  format: (value: T) => CallToolResult,
): Promise<CallToolResult> {
  try {
    return format((await runner.run(request, signal)) as T);
  } catch (err) {
    if (err instanceof QueryError) return toolError(err.message);
    return toolError(`SQLite error: ${errorText(err)}`);
  }
}

const columnSchema = z.object({
  name: z.string(),
  type: z.string(),
  notnull: z.boolean(),
  pk: z.number().int(),
  dflt_value: z.string().nullable(),
});

function createSqliteServer(allowWrites: boolean): McpServer {
  const server = new McpServer({ name: 'sqlite', version: '0.1.0' });
  const readOnly = { readOnlyHint: true, openWorldHint: false };

  server.registerTool(
    'list_tables',
    {
      description: 'List the tables in the database.',
      outputSchema: z.object({ tables: z.array(z.string()) }),
      annotations: readOnly,
    },
    (extra) =>
      run({ op: 'listTables' }, extra.mcpReq.signal, (tables: string[]) => {
        const text = tables.length ? `Tables: ${tables.join(', ')}` : 'The database has no tables.';
        return structuredResult(text, { tables });
      }),
  );

  server.registerTool(
    'describe_table',
    {
      description: "A table's columns: name, type, NOT NULL, primary key position, default value.",
      inputSchema: z.object({ table_name: z.string().min(1).describe('Name of the table') }),
      outputSchema: z.object({ table: z.string(), columns: z.array(columnSchema) }),
      annotations: readOnly,
    },
    ({ table_name }, extra) =>
      run(
        { op: 'describeTable', table: table_name },
        extra.mcpReq.signal,
        (described: { table: string; columns: Column[] }) => {
          return structuredResult(jsonText(described), described);
        },
      ),
  );

  server.registerTool(
    'read_query',
    {
      description: `Run one read-only SQL statement (SELECT, WITH, EXPLAIN, read-only PRAGMA) and return its rows (at most ${MAX_ROWS}).`,
      inputSchema: z.object({ query: z.string().min(1).describe('A single read-only SQL statement') }),
      outputSchema: z.object({
        rows: z.array(z.record(z.string(), z.unknown())),
        rowCount: z.number().int(),
        columns: z.array(z.string()),
        truncated: z.boolean(),
      }),
      annotations: readOnly,
    },
    ({ query }, extra) =>
      run({ op: 'readQuery', sql: query }, extra.mcpReq.signal, (result: ReadResult) => {
        const note = result.truncated ? `\n(truncated to the first ${MAX_ROWS} rows)` : '';
        return structuredResult(`${jsonText(result.rows)}${note}`, { ...result });
      }),
  );

  if (allowWrites) {
    server.registerTool(
      'write_query',
      {
        description: 'Run one SQL statement that changes the database (INSERT, UPDATE, DELETE, CREATE, ...).',
        inputSchema: z.object({ query: z.string().min(1).describe('A single SQL statement that writes') }),
        outputSchema: z.object({
          changes: z.number().int(),
          lastInsertRowid: z.union([z.number(), z.string()]),
        }),
        annotations: { readOnlyHint: false, destructiveHint: true, openWorldHint: false },
      },
      ({ query }, extra) =>
        run({ op: 'writeQuery', sql: query }, extra.mcpReq.signal, (result: WriteResult) => {
          return structuredResult(jsonText(result), { ...result });
        }),
    );
  }
  return server;
}

let options: Options;
try {
  options = parseOptions(process.argv.slice(2));
} catch (err) {
  log(NAME, `${errorText(err)}\n${USAGE}`);
  process.exit(2);
}
const runner = new QueryRunner({
  file: options.dbPath,
  allowWrites: options.allowWrites,
  timeoutMs: options.queryTimeoutMs,
});
try {
  if (!existsSync(options.dbPath)) {
    log(NAME, `creating sample database at ${options.dbPath}`);
    createSampleDatabase(options.dbPath);
  }
  await runner.start();
} catch (err) {
  log(NAME, `cannot open database ${options.dbPath}: ${errorText(err)}`);
  process.exit(1);
}
log(
  NAME,
  `database ${options.dbPath} (${options.allowWrites ? 'writes allowed' : 'read-only'}, ` +
    `queries stopped after ${options.queryTimeoutMs} ms)`,
);
await serveStdio(
  () => createSqliteServer(options.allowWrites),
  NAME,
  () => runner.close(),
);
