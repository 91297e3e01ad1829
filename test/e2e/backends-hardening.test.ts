/**
 * The example backends hold their lines through the gateway: sqlite's read_query cannot change the
 * database (the file's bytes are compared), write_query is absent without --allow-writes, and the
 * reference filesystem server cannot read or write outside its sandbox (`..`, absolute paths,
 * symlinks planted inside pointing out).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  NODE,
  ROOT,
  type StdioGateway,
  startStdioGateway,
  structured,
  tempDir,
  textOf,
  writeConfig,
} from '../helpers/gateway.js';
import { waitFor } from '../helpers/wait.js';

const dir = tempDir('mcp-gateway-backends-');
const dbDir = path.join(dir, 'db');
const db = path.join(dbDir, 'shop.db');
const sandbox = path.join(dir, 'sandbox');
const outside = path.join(dir, 'outside');
const secret = path.join(outside, 'secret.txt');
const SECRET_TEXT = 'top secret: 7c1d0e';

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function listing(folder: string): string[] {
  return readdirSync(folder, { recursive: true, encoding: 'utf8' }).sort();
}

describe('example backends through the gateway', () => {
  let gw: StdioGateway;

  beforeAll(async () => {
    mkdirSync(dbDir, { recursive: true });
    mkdirSync(path.join(sandbox, 'inner'), { recursive: true });
    mkdirSync(outside, { recursive: true });
    writeFileSync(secret, SECRET_TEXT);
    writeFileSync(path.join(sandbox, 'inner', 'hello.txt'), 'hello from the sandbox');
    symlinkSync(secret, path.join(sandbox, 'link-to-secret.txt'));
    symlinkSync(outside, path.join(sandbox, 'link-to-outside'));
    symlinkSync('../outside/secret.txt', path.join(sandbox, 'relative-link.txt'));
    const config = writeConfig(
      [
        'servers:',
        '  sqlite:',
        `    command: ${JSON.stringify(NODE)}`,
        `    args: ${JSON.stringify([path.join(ROOT, 'dist/servers/sqlite.js'), '--db-path', db])}`,
        '  filesystem:',
        `    command: ${JSON.stringify(NODE)}`,
        `    args: ${JSON.stringify([path.join(ROOT, 'node_modules/@modelcontextprotocol/server-filesystem/dist/index.js'), sandbox])}`,
      ].join('\n'),
      dir,
    );
    gw = await startStdioGateway(['--config', config]);
    await waitFor(
      async () => {
        const names = new Set((await gw.client.listTools()).tools.map((t) => t.name));
        return names.has('sqlite__read_query') && names.has('filesystem__read_text_file');
      },
      { timeoutMs: 20_000 },
    );
  });
  afterAll(async () => {
    await gw?.close();
  });

  async function call(name: string, args: Record<string, unknown>) {
    return gw.client.callTool({ name, arguments: args });
  }

  describe('sqlite read_query cannot write', () => {
    let before: string;
    let filesBefore: string[];

    beforeAll(async () => {
      // The sample database is created on first start; let it settle, then fingerprint it.
      await call('sqlite__list_tables', {});
      before = sha256(db);
      filesBefore = listing(dbDir);
    });

    const ATTEMPTS: [string, RegExp][] = [
      ["INSERT INTO customers (name, email, city) VALUES ('Eve', 'e@x', 'X')", /read-only/],
      ['DELETE FROM customers', /read-only/],
      ['UPDATE customers SET total = 0', /read-only/],
      ['DROP TABLE orders', /read-only/],
      ['CREATE TABLE t (x)', /read-only/],
      ['CREATE TEMP TABLE t (x)', /read-only/],
      ['WITH doomed AS (SELECT id FROM customers) DELETE FROM customers WHERE id IN doomed', /read-only/],
      ['WITH x AS (SELECT 1) UPDATE customers SET total = 0', /read-only/],
      ['INSERT INTO customers SELECT * FROM customers RETURNING id', /read-only/],
      ['DELETE FROM customers RETURNING *', /read-only/],
      [`ATTACH DATABASE '${path.join(dbDir, 'attached.db')}' AS evil`, /read-only/],
      [`ATTACH '${db}' AS again`, /read-only/],
      ['DETACH DATABASE main', /read-only|SQLite error/],
      [`VACUUM INTO '${path.join(dbDir, 'copy.db')}'`, /read-only/],
      [`VACUUM INTO '${path.join(outside, 'exfiltrated.db')}'`, /read-only/],
      ['VACUUM', /read-only/],
      ['REINDEX', /read-only/],
      ['ANALYZE', /read-only/],
      ['PRAGMA user_version = 99', /read-only/],
      ['PRAGMA journal_mode = WAL', /read-only|SQLite error/],
      ['PRAGMA query_only = OFF', /read-only/],
      ['PRAGMA writable_schema = ON', /read-only/],
      ['PRAGMA foreign_keys = OFF', /read-only/],
      ['SELECT 1; DELETE FROM customers', /exactly one SQL statement/],
      ['SELECT 1;DROP TABLE orders;', /exactly one SQL statement/],
      ['BEGIN; DELETE FROM customers; COMMIT', /exactly one SQL statement/],
      ['BEGIN IMMEDIATE', /read-only/],
      ['SAVEPOINT s', /read-only/],
      [`SELECT load_extension('${path.join(outside, 'evil.so')}')`, /SQLite error|not authorized/],
      ["SELECT writefile('/tmp/x', 'y')", /SQLite error/],
      ['SELECT * FROM customers -- ; DELETE FROM customers', /./],
    ];

    it.each(ATTEMPTS)('refuses or neutralises: %s', async (query, message) => {
      const result = await call('sqlite__read_query', { query });
      if (query.includes('-- ;')) {
        // A comment is a comment: the SELECT runs, nothing else does.
        expect(result.isError).toBeFalsy();
        return;
      }
      expect(result.isError, textOf(result)).toBe(true);
      expect(textOf(result)).toMatch(message);
    });

    it('column names are data: SELECT … AS __proto__ pollutes nothing', async () => {
      const result = await call('sqlite__read_query', {
        query: "SELECT 1 AS __proto__, 'x' AS constructor, 2 AS polluted",
      });
      expect(result.isError).toBeFalsy();
      expect(structured<{ columns: string[] }>(result).columns).toEqual([
        '__proto__',
        'constructor',
        'polluted',
      ]);
      expect(textOf(result)).toContain('"__proto__": 1');
    });

    it('leaves the database file byte-for-byte unchanged, with no new files beside it', async () => {
      const counts = await call('sqlite__read_query', {
        query:
          'SELECT (SELECT count(*) FROM customers) AS c, (SELECT count(*) FROM orders) AS o, (SELECT count(*) FROM products) AS p',
      });
      expect(structured<{ rows: unknown[] }>(counts).rows).toEqual([{ c: 10, o: 30, p: 8 }]);
      const version = await call('sqlite__read_query', { query: 'PRAGMA user_version' });
      expect(structured<{ rows: unknown[] }>(version).rows).toEqual([{ user_version: 0 }]);
      expect(sha256(db)).toBe(before);
      expect(listing(dbDir)).toEqual(filesBefore);
      expect(listing(outside)).toEqual(['secret.txt']);
    });

    it('does not offer write_query without --allow-writes, and refuses it by name', async () => {
      const names = (await gw.client.listTools()).tools.map((t) => t.name);
      expect(names).not.toContain('sqlite__write_query');
      const result = await call('call_backend', {
        server: 'sqlite',
        tool: 'write_query',
        params: { query: 'DELETE FROM customers' },
      });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toMatch(/has no tool 'write_query'/);
      expect(sha256(db)).toBe(before);
    });
  });

  describe('the filesystem server stays in its sandbox', () => {
    let outsideBefore: string[];

    beforeAll(() => {
      outsideBefore = listing(outside);
    });

    it('reads inside the sandbox (the control)', async () => {
      const result = await call('filesystem__read_text_file', {
        path: path.join(sandbox, 'inner', 'hello.txt'),
      });
      expect(result.isError).toBeFalsy();
      expect(textOf(result)).toContain('hello from the sandbox');
    });

    const READS: [string, Record<string, unknown>][] = [
      ['an absolute path outside', { path: secret }],
      ['.. out of the sandbox', { path: path.join(sandbox, '..', 'outside', 'secret.txt') }],
      ['.. spelled without normalising', { path: `${sandbox}/inner/../../outside/secret.txt` }],
      ['a relative path with ..', { path: '../outside/secret.txt' }],
      ['a symlink to a file outside', { path: path.join(sandbox, 'link-to-secret.txt') }],
      ['a relative symlink to a file outside', { path: path.join(sandbox, 'relative-link.txt') }],
      ['through a symlinked folder', { path: path.join(sandbox, 'link-to-outside', 'secret.txt') }],
      ['/etc/passwd', { path: '/etc/passwd' }],
      ['the home folder', { path: '~/.ssh/id_rsa' }],
      ['a NUL byte', { path: `${path.join(sandbox, 'inner', 'hello.txt')}\u0000../../outside/secret.txt` }],
      ['a prefix-sharing sibling', { path: `${sandbox}-evil/secret.txt` }],
    ];

    it.each(READS)('refuses to read %s', async (_label, args) => {
      for (const tool of ['filesystem__read_text_file', 'filesystem__get_file_info']) {
        const result = await call(tool, args);
        expect(result.isError, `${tool}: ${textOf(result)}`).toBe(true);
        expect(textOf(result)).not.toContain(SECRET_TEXT);
      }
    });

    it('refuses read_multiple_files, listings and searches outside', async () => {
      const multi = await call('filesystem__read_multiple_files', {
        paths: [secret, path.join(sandbox, 'link-to-secret.txt')],
      });
      expect(textOf(multi)).not.toContain(SECRET_TEXT);
      for (const target of [outside, path.join(sandbox, 'link-to-outside'), '/', dir]) {
        const listed = await call('filesystem__list_directory', { path: target });
        expect(listed.isError, `list ${target}`).toBe(true);
        expect(textOf(listed)).not.toContain('secret.txt');
      }
      const tree = await call('filesystem__directory_tree', { path: path.join(sandbox, 'link-to-outside') });
      expect(textOf(tree)).not.toContain('secret.txt');
      const search = await call('filesystem__search_files', { path: sandbox, pattern: 'secret' });
      expect(textOf(search)).not.toContain(path.join(outside, 'secret.txt'));
    });

    const WRITES: [string, string, Record<string, unknown>][] = [
      [
        'write_file outside by absolute path',
        'filesystem__write_file',
        { path: path.join(outside, 'new.txt'), content: 'x' },
      ],
      [
        'write_file through ..',
        'filesystem__write_file',
        { path: path.join(sandbox, '..', 'outside', 'new.txt'), content: 'x' },
      ],
      [
        'write_file through a symlinked folder',
        'filesystem__write_file',
        { path: path.join(sandbox, 'link-to-outside', 'new.txt'), content: 'x' },
      ],
      [
        'write_file over a symlink to a file outside',
        'filesystem__write_file',
        { path: path.join(sandbox, 'link-to-secret.txt'), content: 'overwritten' },
      ],
      [
        'edit_file through a symlink',
        'filesystem__edit_file',
        { path: path.join(sandbox, 'link-to-secret.txt'), edits: [{ oldText: 'top', newText: 'NOT' }] },
      ],
      ['create_directory outside', 'filesystem__create_directory', { path: path.join(outside, 'made') }],
      [
        'create_directory through a symlinked folder',
        'filesystem__create_directory',
        { path: path.join(sandbox, 'link-to-outside', 'made') },
      ],
      [
        'move_file out of the sandbox',
        'filesystem__move_file',
        { source: path.join(sandbox, 'inner', 'hello.txt'), destination: path.join(outside, 'moved.txt') },
      ],
      [
        'move_file in from outside',
        'filesystem__move_file',
        { source: secret, destination: path.join(sandbox, 'stolen.txt') },
      ],
    ];

    it.each(WRITES)('refuses %s', async (_label, tool, args) => {
      const result = await call(tool, args);
      expect(result.isError, textOf(result)).toBe(true);
    });

    it('leaves everything outside the sandbox as it was', () => {
      expect(listing(outside)).toEqual(outsideBefore);
      expect(readFileSync(secret, 'utf8')).toBe(SECRET_TEXT);
      expect(readFileSync(path.join(sandbox, 'inner', 'hello.txt'), 'utf8')).toBe('hello from the sandbox');
    });
  });
});
