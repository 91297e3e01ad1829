import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type HttpGatewayProcess,
  type StdioGateway,
  startHttpGateway,
  startStdioGateway,
  structured,
  testbedServer,
  textOf,
  writeConfig,
} from '../helpers/gateway.js';
import { CLIENT_SECRET, startIssuer, type TestIssuer } from '../helpers/oidc-issuer.js';
import { freePort } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait.js';

let issuer: TestIssuer;
let backend: HttpGatewayProcess;
let backendUrl: string;

beforeAll(async () => {
  issuer = await startIssuer();
  const port = await freePort();
  backendUrl = `http://127.0.0.1:${port}/mcp`;
  const config = writeConfig(`servers:
${testbedServer('tb')}
http:
  auth:
    issuer: ${issuer.issuer}
    audience: ${backendUrl}
    required_scopes: [mcp]
`);
  backend = await startHttpGateway(['--config', config, '--port', String(port)]);
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
