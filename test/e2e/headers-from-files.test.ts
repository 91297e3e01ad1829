/**
 * `headers_from_files`: a backend's header read from a file (a mounted secret) when it connects. The
 * backend is another gateway that takes a static bearer token; the front sends it from a file, never
 * logs it, and a backend whose file is missing fails naming the file.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectHttp,
  type HttpGatewayProcess,
  startHttpGateway,
  structured,
  tempDir,
  textOf,
  writeConfig,
} from '../helpers/gateway.js';
import { startTokenBackend, type TokenBackend } from '../helpers/token-backend.js';
import { waitFor } from '../helpers/wait.js';

const BACKEND_TOKEN = 'backend-secret-token-0123456789';

let backend: TokenBackend;
let front: HttpGatewayProcess;

beforeAll(async () => {
  backend = await startTokenBackend({ token: BACKEND_TOKEN });
  const dir = tempDir();
  // As a secret manager mounts it: one line, with the newline `echo` adds.
  writeFileSync(path.join(dir, 'backend-auth'), `Bearer ${BACKEND_TOKEN}\n`, { mode: 0o600 });
  front = await startHttpGateway([
    '--config',
    writeConfig(
      `servers:
  remote:
    url: ${backend.url}
    headers_from_files:
      Authorization: backend-auth
  missing:
    url: ${backend.url}
    headers_from_files:
      Authorization: ${path.join(dir, 'no-such-file')}
`,
      dir,
    ),
  ]);
}, 60_000);

afterAll(async () => {
  await front?.close();
  await backend?.close();
});

describe('headers_from_files', () => {
  it('sends a header read from a file, logs no value, and fails a backend whose file is missing, naming it', async () => {
    const client = await connectHttp(front.url);
    try {
      type Row = { name: string; status: string; lastError?: string };
      let rows: Row[] = [];
      await waitFor(
        async () => {
          const listed = await client.callTool({ name: 'list_servers', arguments: {} });
          rows = structured<{ servers: Row[] }>(listed).servers;
          return rows.find((r) => r.name === 'remote')?.status === 'ready' && rows.some((r) => r.lastError);
        },
        { timeoutMs: 20_000 },
      );
      const echoed = await client.callTool({
        name: 'call_backend',
        arguments: { server: 'remote', tool: 'tb__echo', params: { text: 'through the file' } },
      });
      expect(echoed.isError, textOf(echoed)).toBeFalsy();
      expect(textOf(echoed)).toContain('through the file');
      const missing = rows.find((r) => r.name === 'missing');
      expect(missing?.lastError).toMatch(/header Authorization: cannot read .*no-such-file \(ENOENT\)/);
      expect(front.stderr()).not.toContain(BACKEND_TOKEN);
    } finally {
      await client.close();
    }
  }, 60_000);
});
