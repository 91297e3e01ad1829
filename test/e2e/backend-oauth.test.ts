import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StdioGateway, startStdioGateway, structured, textOf, writeConfig } from '../helpers/gateway.js';
import { CLIENT_SECRET, startIssuer, type TestIssuer } from '../helpers/oidc-issuer.js';
import { startTokenBackend, type TokenBackend } from '../helpers/token-backend.js';
import { waitFor } from '../helpers/wait.js';

let issuer: TestIssuer;
let backend: TokenBackend;
let backendUrl: string;

beforeAll(async () => {
  issuer = await startIssuer();
  backend = await startTokenBackend({ issuer: issuer.issuer });
  backendUrl = backend.url;
}, 60_000);

afterAll(async () => {
  await backend?.close();
  await issuer?.close();
});

interface ServerRow {
  name: string;
  status: string;
  lastError?: string;
}

async function serverRow(gw: StdioGateway, name: string): Promise<ServerRow | undefined> {
  const listed = await gw.client.callTool({ name: 'list_servers', arguments: {} });
  return structured<{ servers: ServerRow[] }>(listed).servers.find((s) => s.name === name);
}

describe('a backend that wants OAuth access tokens', () => {
  it('is reached with client credentials from its authorization server', async () => {
    const config = writeConfig(`servers:
  remote:
    url: ${backendUrl}
    oauth:
      client_id: admin-agent
      client_secret: \${REMOTE_SECRET}
      scope: mcp
      issuer: ${issuer.issuer}
`);
    const gw = await startStdioGateway(['serve', '--config', config], {
      env: { REMOTE_SECRET: CLIENT_SECRET },
    });
    try {
      await waitFor(async () => (await serverRow(gw, 'remote'))?.status === 'ready', { timeoutMs: 20_000 });
      const result = await gw.client.callTool({
        name: 'call_backend',
        arguments: { server: 'remote', tool: 'tb__echo', params: { text: 'through two gateways' } },
      });
      expect(result.isError).toBeFalsy();
      expect(textOf(result)).toContain('through two gateways');
      expect(gw.stderr()).not.toContain(CLIENT_SECRET);
    } finally {
      await gw.close();
    }
  });

  it('without credentials stays unreachable, and says it needs authorization', async () => {
    const config = writeConfig(`servers:\n  remote:\n    url: ${backendUrl}\n`);
    const gw = await startStdioGateway(['serve', '--config', config]);
    try {
      await waitFor(async () => (await serverRow(gw, 'remote'))?.status === 'failed', { timeoutMs: 20_000 });
      expect((await serverRow(gw, 'remote'))?.lastError ?? '').toMatch(/401|auth/i);
    } finally {
      await gw.close();
    }
  });
});
