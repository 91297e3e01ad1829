#!/usr/bin/env node
/**
 * Example backend: query a SQLite database.
 *
 *   node dist/servers/sqlite.js [--db-path FILE] [--allow-writes]
 *
 * The database is --db-path, else $SQLITE_DB_PATH, else ./data/sample.db (relative to the working
 * folder). A missing file is created with sample data. write_query exists only with --allow-writes.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { createSampleDatabase } from './sample-db.js';
import { errorText, jsonText, log, serveStdio, structuredResult, toolError } from './shared.js';
import { MAX_ROWS, QueryError, SqliteStore } from './sqlite-store.js';

const NAME = 'sqlite';
const USAGE = 'usage: sqlite.js [--db-path FILE] [--allow-writes]';

interface Options {
  dbPath: string;
  allowWrites: boolean;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: { 'db-path': { type: 'string' }, 'allow-writes': { type: 'boolean', default: false } },
    strict: true,
  });
  const dbPath = values['db-path'] || process.env.SQLITE_DB_PATH || './data/sample.db';
  return { dbPath: resolve(dbPath), allowWrites: values['allow-writes'] ?? false };
}

/** Run one database operation as a tool call: its failures become isError results, never a crash. */
function run(operation: () => CallToolResult): CallToolResult {
  try {
    return operation();
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

function createSqliteServer(store: SqliteStore, allowWrites: boolean): McpServer {
  const server = new McpServer({ name: 'sqlite', version: '0.1.0' });
  const readOnly = { readOnlyHint: true, openWorldHint: false };

  server.registerTool(
    'list_tables',
    {
      description: 'List the tables in the database.',
      outputSchema: { tables: z.array(z.string()) },
      annotations: readOnly,
    },
    () =>
      run(() => {
        const tables = store.listTables();
        const text = tables.length ? `Tables: ${tables.join(', ')}` : 'The database has no tables.';
        return structuredResult(text, { tables });
      }),
  );

  server.registerTool(
    'describe_table',
    {
      description: "A table's columns: name, type, NOT NULL, primary key position, default value.",
      inputSchema: { table_name: z.string().min(1).describe('Name of the table') },
      outputSchema: { table: z.string(), columns: z.array(columnSchema) },
      annotations: readOnly,
    },
    ({ table_name }) =>
      run(() => {
        const described = store.describeTable(table_name);
        return structuredResult(jsonText(described), described);
      }),
  );

  server.registerTool(
    'read_query',
    {
      description: `Run one read-only SQL statement (SELECT, WITH, EXPLAIN, read-only PRAGMA) and return its rows (at most ${MAX_ROWS}).`,
      inputSchema: { query: z.string().min(1).describe('A single read-only SQL statement') },
      outputSchema: {
        rows: z.array(z.record(z.string(), z.unknown())),
        rowCount: z.number().int(),
        columns: z.array(z.string()),
        truncated: z.boolean(),
      },
      annotations: readOnly,
    },
    ({ query }) =>
      run(() => {
        const result = store.readQuery(query);
        const note = result.truncated ? `\n(truncated to the first ${MAX_ROWS} rows)` : '';
        return structuredResult(`${jsonText(result.rows)}${note}`, { ...result });
      }),
  );

  if (allowWrites) {
    server.registerTool(
      'write_query',
      {
        description: 'Run one SQL statement that changes the database (INSERT, UPDATE, DELETE, CREATE, ...).',
        inputSchema: { query: z.string().min(1).describe('A single SQL statement that writes') },
        outputSchema: { changes: z.number().int(), lastInsertRowid: z.union([z.number(), z.string()]) },
        annotations: { readOnlyHint: false, destructiveHint: true, openWorldHint: false },
      },
      ({ query }) =>
        run(() => {
          const result = store.writeQuery(query);
          return structuredResult(jsonText(result), { ...result });
        }),
    );
  }
  return server;
}

function openStore(options: Options): SqliteStore {
  if (!existsSync(options.dbPath)) {
    log(NAME, `creating sample database at ${options.dbPath}`);
    createSampleDatabase(options.dbPath);
  }
  return new SqliteStore(options.dbPath, options.allowWrites);
}

let options: Options;
let store: SqliteStore;
try {
  options = parseOptions(process.argv.slice(2));
} catch (err) {
  log(NAME, `${errorText(err)}\n${USAGE}`);
  process.exit(2);
}
try {
  store = openStore(options);
} catch (err) {
  log(NAME, `cannot open database ${options.dbPath}: ${errorText(err)}`);
  process.exit(1);
}
log(NAME, `database ${options.dbPath} (${options.allowWrites ? 'writes allowed' : 'read-only'})`);
await serveStdio(createSqliteServer(store, options.allowWrites), NAME, () => store.close());
