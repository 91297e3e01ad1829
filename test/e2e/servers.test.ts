/**
 * The example backends as a user meets them: real server processes from dist/, driven by the SDK
 * client over stdio. The weather server talks to a local stand-in for api.weather.gov; the sqlite
 * server to database files in a temp folder.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  NWS_FIXTURE_ERROR_STATE,
  NWS_FIXTURE_HANG_STATE,
  NWS_FIXTURE_NOT_JSON_STATE,
  type NwsFixture,
  startNwsFixture,
} from '../helpers/nws-fixture-server.js';
import { distFile } from '../helpers/paths.js';

interface Connected {
  client: Client;
  /** Transport errors, e.g. a line on stdout that is not JSON-RPC. */
  errors: Error[];
  stderr: () => string;
}

const open: Client[] = [];

async function connect(
  script: string,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<Connected> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [distFile('servers', script), ...args],
    env: { ...(process.env as Record<string, string>), ...env },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const errors: Error[] = [];
  const client = new Client({ name: 'servers-test', version: '0.0.0' });
  client.onerror = (err) => errors.push(err);
  await client.connect(transport);
  open.push(client);
  // listTools also primes the client's outputSchema validators, so every structuredContent below is checked.
  await client.listTools();
  return { client, errors, stderr: () => stderr };
}

async function call(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

function textOf(result: CallToolResult): string {
  return result.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
}

const tempDirs: string[] = [];

afterAll(async () => {
  await Promise.all(open.map((c) => c.close()));
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describe('weather server', () => {
  let fixture: NwsFixture;
  let weather: Connected;

  beforeAll(async () => {
    fixture = await startNwsFixture();
    weather = await connect('weather.js', [], { NWS_API_BASE: fixture.url, NWS_TIMEOUT_MS: '1000' });
  });
  afterAll(async () => {
    await fixture?.close();
  });

  it('lists get_alerts and get_forecast with output schemas', async () => {
    const { tools } = await weather.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['get_alerts', 'get_forecast']);
    expect(tools.every((t) => t.outputSchema)).toBe(true);
  });

  it('returns the active alerts for a state, as text and structured content', async () => {
    const result = await call(weather.client, 'get_alerts', { state: 'ca' });
    expect(result.isError).toBeFalsy();
    expect(textOf(result)).toContain('Event: Wind Advisory');
    expect(textOf(result)).toContain('Event: Red Flag Warning');
    expect(textOf(result)).toContain('Severity: Severe');
    expect(result.structuredContent).toMatchObject({
      state: 'CA',
      count: 2,
      alerts: [
        { event: 'Wind Advisory', severity: 'Moderate', status: 'Actual' },
        { event: 'Red Flag Warning', severity: 'Severe', status: 'Actual' },
      ],
    });
    expect(fixture.requests).toContain('/alerts/active?area=CA');
  });

  it('says so when a state has no active alerts', async () => {
    const result = await call(weather.client, 'get_alerts', { state: 'TX' });
    expect(result.isError).toBeFalsy();
    expect(textOf(result)).toBe('No active alerts for TX.');
    expect(result.structuredContent).toEqual({ state: 'TX', count: 0, alerts: [] });
  });

  it('rejects a state code that is not one', async () => {
    const result = await call(weather.client, 'get_alerts', { state: 'XX' });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/not a US state/);
  });

  it('follows the forecast URL from /points onto the configured base', async () => {
    const result = await call(weather.client, 'get_forecast', { latitude: 37.7749, longitude: -122.4194 });
    expect(result.isError).toBeFalsy();
    expect(textOf(result)).toContain('Forecast for San Francisco, CA');
    expect(textOf(result)).toContain('Temperature: 61°F');
    const data = result.structuredContent as { location: string; periods: { name: string }[] };
    expect(data.location).toBe('San Francisco, CA');
    expect(data.periods.map((p) => p.name)).toEqual(['Today', 'Tonight', 'Wednesday', 'Wednesday Night']);
    expect(data.periods[0]).toEqual({
      name: 'Today',
      temperature: 61,
      temperatureUnit: 'F',
      windSpeed: '15 to 25 mph',
      windDirection: 'N',
      shortForecast: 'Sunny and Breezy',
    });
    // The recorded /points answer names https://api.weather.gov; reaching the fixture proves the rewrite.
    expect(fixture.requests).toContain('/points/37.7749,-122.4194');
    expect(fixture.requests).toContain('/gridpoints/MTR/85,105/forecast');
  });

  it('reports a point NWS does not cover as an error naming the URL and status', async () => {
    const result = await call(weather.client, 'get_forecast', { latitude: 0, longitude: 0 });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain(`${fixture.url}/points/0,0`);
    expect(textOf(result)).toContain('404');
  });

  it('reports an NWS 500 clearly and keeps serving', async () => {
    const failed = await call(weather.client, 'get_alerts', { state: NWS_FIXTURE_ERROR_STATE });
    expect(failed.isError).toBe(true);
    expect(textOf(failed)).toContain(`GET ${fixture.url}/alerts/active?area=${NWS_FIXTURE_ERROR_STATE}`);
    expect(textOf(failed)).toContain('500');
    expect(textOf(failed)).toContain('Unexpected Problem');

    const next = await call(weather.client, 'get_alerts', { state: 'CA' });
    expect(next.isError).toBeFalsy();
  });

  it('reports a body that is not JSON, and a request that times out', async () => {
    const notJson = await call(weather.client, 'get_alerts', { state: NWS_FIXTURE_NOT_JSON_STATE });
    expect(notJson.isError).toBe(true);
    expect(textOf(notJson)).toMatch(/is not valid JSON/);

    const hung = await call(weather.client, 'get_alerts', { state: NWS_FIXTURE_HANG_STATE });
    expect(hung.isError).toBe(true);
    expect(textOf(hung)).toMatch(/timed out after 1000 ms/);
  });

  it('never writes anything but JSON-RPC to stdout', () => {
    expect(weather.errors).toEqual([]);
    expect(weather.stderr()).toContain(`using NWS API at ${fixture.url}`);
  });

  it('reports an unreachable NWS base and keeps serving', async () => {
    const port = await closedPort();
    const offline = await connect('weather.js', [], { NWS_API_BASE: `http://127.0.0.1:${port}` });
    for (let i = 0; i < 2; i++) {
      const result = await call(offline.client, 'get_alerts', { state: 'CA' });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toContain(`GET http://127.0.0.1:${port}/alerts/active?area=CA`);
      expect(textOf(result)).toContain('ECONNREFUSED');
    }
  });
});

/** A port nothing listens on: bind one, then let it go. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('sqlite server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-servers-test-'));
  tempDirs.push(dir);
  const readDb = join(dir, 'nested', 'folder', 'x.db');
  let sqlite: Connected;

  beforeAll(async () => {
    sqlite = await connect('sqlite.js', ['--db-path', readDb]);
  });

  async function count(client: Client, table: string): Promise<number> {
    const result = await call(client, 'read_query', { query: `SELECT COUNT(*) AS n FROM ${table}` });
    return (result.structuredContent as { rows: { n: number }[] }).rows[0]!.n;
  }

  it('creates the sample database, and its folder, on first start', async () => {
    expect(existsSync(readDb)).toBe(true);
    const result = await call(sqlite.client, 'list_tables');
    expect(result.structuredContent).toEqual({ tables: ['customers', 'orders', 'products'] });
    expect(textOf(result)).toContain('customers, orders, products');
    expect(await count(sqlite.client, 'customers')).toBe(10);
    expect(await count(sqlite.client, 'products')).toBe(8);
    expect(await count(sqlite.client, 'orders')).toBe(30);
  });

  it("keeps each customer's total equal to the sum of their orders", async () => {
    const result = await call(sqlite.client, 'read_query', {
      query: `SELECT c.id FROM customers c
              WHERE abs(c.total - (SELECT COALESCE(SUM(amount), 0) FROM orders o WHERE o.customer_id = c.id)) > 0.005`,
    });
    expect(result.structuredContent).toMatchObject({ rowCount: 0 });
  });

  it('does not offer write_query without --allow-writes', async () => {
    const { tools } = await sqlite.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['describe_table', 'list_tables', 'read_query']);
  });

  it('describes a table', async () => {
    const result = await call(sqlite.client, 'describe_table', { table_name: 'customers' });
    expect(result.isError).toBeFalsy();
    const data = result.structuredContent as { table: string; columns: { name: string }[] };
    expect(data.table).toBe('customers');
    expect(data.columns.map((c) => c.name)).toEqual(['id', 'name', 'email', 'city', 'total']);
    expect(data.columns[0]).toEqual({ name: 'id', type: 'INTEGER', notnull: false, pk: 1, dflt_value: null });
    expect(data.columns[4]).toMatchObject({ name: 'total', notnull: true, pk: 0, dflt_value: '0' });
  });

  it('names the existing tables when asked for an unknown one', async () => {
    const result = await call(sqlite.client, 'describe_table', { table_name: 'nope; DROP TABLE customers' });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('Unknown table "nope; DROP TABLE customers"');
    expect(textOf(result)).toContain('customers, orders, products');
  });

  it('returns rows, columns and a count from read_query', async () => {
    const result = await call(sqlite.client, 'read_query', {
      query: 'SELECT id, name, city FROM customers ORDER BY id LIMIT 3',
    });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual({
      rows: [
        { id: 1, name: 'Ada Lovelace', city: 'London' },
        { id: 2, name: 'Grace Hopper', city: 'New York' },
        { id: 3, name: 'Alan Turing', city: 'Manchester' },
      ],
      rowCount: 3,
      columns: ['id', 'name', 'city'],
      truncated: false,
    });
    expect(JSON.parse(textOf(result))).toHaveLength(3);
  });

  it('keeps large integers exact and caps the number of rows', async () => {
    const big = await call(sqlite.client, 'read_query', {
      query: 'SELECT 9007199254740993 AS big, 42 AS small',
    });
    expect(big.structuredContent).toMatchObject({ rows: [{ big: '9007199254740993', small: 42 }] });

    const many = await call(sqlite.client, 'read_query', {
      query: 'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT i FROM n',
    });
    expect(many.structuredContent).toMatchObject({ rowCount: 1000, truncated: true });
    expect(textOf(many)).toContain('truncated to the first 1000 rows');
  });

  it.each([
    ["INSERT INTO customers (name, email, city) VALUES ('Eve', 'eve@example.com', 'X')", /read-only/],
    [`ATTACH DATABASE '${join(dir, 'other.db')}' AS x`, /read-only/],
    ['PRAGMA user_version = 5', /read-only/],
    ['SELECT 1; DELETE FROM customers', /exactly one SQL statement/],
    ['DELETE FROM customers', /read-only/],
  ])('read_query refuses %s', async (query, message) => {
    const result = await call(sqlite.client, 'read_query', { query });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(message);
  });

  it('leaves the database unchanged after refused statements', async () => {
    expect(await count(sqlite.client, 'customers')).toBe(10);
    const version = await call(sqlite.client, 'read_query', { query: 'PRAGMA user_version' });
    expect(version.structuredContent).toMatchObject({ rows: [{ user_version: 0 }] });
    expect(existsSync(join(dir, 'other.db'))).toBe(false);
  });

  it('reports SQL errors as tool errors', async () => {
    const result = await call(sqlite.client, 'read_query', { query: 'SELECT * FROM missing_table' });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('SQLite error: no such table: missing_table');
  });

  it('runs write_query when started with --allow-writes', async () => {
    const writable = await connect('sqlite.js', ['--db-path', join(dir, 'w.db'), '--allow-writes']);
    const { tools } = await writable.client.listTools();
    expect(tools.map((t) => t.name)).toContain('write_query');

    const inserted = await call(writable.client, 'write_query', {
      query: "INSERT INTO customers (name, email, city) VALUES ('Eve', 'eve@example.com', 'Oslo')",
    });
    expect(inserted.isError).toBeFalsy();
    expect(inserted.structuredContent).toEqual({ changes: 1, lastInsertRowid: 11 });
    expect(await count(writable.client, 'customers')).toBe(11);

    const created = await call(writable.client, 'write_query', { query: 'CREATE TABLE notes (body TEXT)' });
    expect(created.isError).toBeFalsy();
    expect((await call(writable.client, 'list_tables')).structuredContent).toEqual({
      tables: ['customers', 'notes', 'orders', 'products'],
    });

    const select = await call(writable.client, 'write_query', { query: 'SELECT 1' });
    expect(select.isError).toBe(true);
    expect(textOf(select)).toContain('use read_query');
    // Writes are allowed, yet read_query still refuses them.
    const viaRead = await call(writable.client, 'read_query', { query: 'DELETE FROM customers' });
    expect(viaRead.isError).toBe(true);
    expect(textOf(viaRead)).toContain('use write_query');
  });

  it('takes the database path from SQLITE_DB_PATH', async () => {
    const file = join(dir, 'from-env.db');
    const fromEnv = await connect('sqlite.js', [], { SQLITE_DB_PATH: file });
    expect((await call(fromEnv.client, 'list_tables')).structuredContent).toEqual({
      tables: ['customers', 'orders', 'products'],
    });
    expect(existsSync(file)).toBe(true);
    expect(sqlite.errors).toEqual([]);
  });
});
