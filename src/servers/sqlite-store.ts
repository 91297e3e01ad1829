/**
 * The database side of the sqlite server. Reads go through their own connection, opened read-only and
 * with `query_only`, so a statement that slips past the checks in readQuery still cannot change the
 * file. A writable connection exists only when writes were allowed at start.
 */
import Database from 'better-sqlite3';
import { toJsonValue } from './shared.js';

export const MAX_ROWS = 1000;

/** A refusal or failure the caller caused; its message is meant for the user as is. */
export class QueryError extends Error {
  override readonly name = 'QueryError';
}

export interface Column {
  name: string;
  type: string;
  notnull: boolean;
  /** 1-based position in the primary key, 0 when the column is not part of it (as SQLite reports it). */
  pk: number;
  dflt_value: string | null;
}

export interface ReadResult {
  rows: Record<string, unknown>[];
  rowCount: number;
  columns: string[];
  truncated: boolean;
}

export interface WriteResult {
  changes: number;
  lastInsertRowid: number | string;
}

export class SqliteStore {
  private readonly reader: Database.Database;
  private readonly writer: Database.Database | undefined;

  constructor(file: string, allowWrites: boolean) {
    this.writer = allowWrites ? new Database(file, { fileMustExist: true }) : undefined;
    this.reader = new Database(file, { readonly: true, fileMustExist: true });
    this.reader.pragma('query_only = ON');
    // Opening is lazy in SQLite; touch the schema now so "not a database" fails at start, not mid-call.
    this.listTables();
  }

  listTables(): string[] {
    const rows = this.reader
      .prepare(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
      )
      .pluck()
      .all();
    return rows as string[];
  }

  describeTable(tableName: string): { table: string; columns: Column[] } {
    const tables = this.listTables();
    // SQLite matches names case-insensitively; answer with the name as it was declared.
    const table = tables.find((t) => t.toLowerCase() === tableName.toLowerCase());
    if (!table) {
      throw new QueryError(
        `Unknown table "${tableName}". Existing tables: ${tables.length ? tables.join(', ') : '(none)'}`,
      );
    }
    const rows = this.reader
      .prepare('SELECT name, type, "notnull", pk, dflt_value FROM pragma_table_info(?) ORDER BY cid')
      .all(table) as { name: string; type: string; notnull: number; pk: number; dflt_value: string | null }[];
    return { table, columns: rows.map((c) => ({ ...c, notnull: c.notnull === 1 })) };
  }

  readQuery(sql: string): ReadResult {
    const stmt = prepare(this.reader, sql, 'read_query');
    if (!stmt.readonly || !stmt.reader) {
      const hint = this.writer ? '; use write_query for changes' : '';
      throw new QueryError(
        `read_query runs only read-only statements that return rows (SELECT, WITH ... SELECT, EXPLAIN, ` +
          `read-only PRAGMA); refused: ${preview(sql)}${hint}`,
      );
    }
    // Integers as BigInt so values past 2^53 are not silently rounded; toJsonValue turns them back.
    stmt.safeIntegers(true);
    // Rows as arrays, zipped with the column names here: better-sqlite3's row objects drop a column
    // called __proto__ (it becomes the prototype), and column names are the query's to choose.
    stmt.raw(true);
    const columns = stmt.columns().map((c) => c.name);
    const rows: Record<string, unknown>[] = [];
    let truncated = false;
    for (const values of stmt.iterate() as Iterable<unknown[]>) {
      if (rows.length === MAX_ROWS) {
        truncated = true;
        break;
      }
      rows.push(jsonRow(columns, values));
    }
    return { rows, rowCount: rows.length, columns, truncated };
  }

  writeQuery(sql: string): WriteResult {
    if (!this.writer) throw new QueryError('Writes are disabled; start the server with --allow-writes');
    const stmt = prepare(this.writer, sql, 'write_query');
    if (stmt.readonly) {
      throw new QueryError(
        `write_query is for statements that change the database; use read_query for: ${preview(sql)}`,
      );
    }
    if (stmt.reader) {
      throw new QueryError(`write_query does not return rows (RETURNING is not supported): ${preview(sql)}`);
    }
    stmt.safeIntegers(true);
    const info = stmt.run();
    return {
      changes: Number(info.changes),
      lastInsertRowid: toJsonValue(info.lastInsertRowid) as number | string,
    };
  }

  close(): void {
    this.reader.close();
    this.writer?.close();
  }
}

/** Prepare one statement, turning better-sqlite3's terse errors into ones that say what to do. */
function prepare(db: Database.Database, sql: string, tool: string): Database.Statement {
  try {
    return db.prepare(sql);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (message.includes('more than one statement')) {
      throw new QueryError(
        `${tool} takes exactly one SQL statement; found more than one in: ${preview(sql)}`,
      );
    }
    if (message.includes('no statements')) throw new QueryError(`${tool} needs an SQL statement; got none`);
    throw new QueryError(`SQLite error: ${message}`);
  }
}

/** One row as an object whose every column is an own property, even one named `__proto__`. */
function jsonRow(columns: readonly string[], values: readonly unknown[]): Record<string, unknown> {
  return Object.fromEntries(columns.map((name, i) => [name, toJsonValue(values[i])]));
}

function preview(sql: string): string {
  const flat = sql.replace(/\s+/g, ' ').trim();
  return flat.length > 120 ? `${flat.slice(0, 117)}...` : flat;
}
