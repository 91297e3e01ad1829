import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectHttp,
  type HttpGatewayProcess,
  startHttpGateway,
  structured,
  textOf,
  writeConfig,
} from '../helpers/gateway.js';
import { CLIENT_SECRET, startIssuer, type TestIssuer } from '../helpers/oidc-issuer.js';
import { ADMIN_AND_ANALYST_RULES, startTokenBackend, type TokenBackend } from '../helpers/token-backend.js';
import { waitFor } from '../helpers/wait.js';

/** The front gateway's own audience: callers' tokens name it and nothing else. */
const FRONT = 'https://gateway.test/mcp';

let issuer: TestIssuer;
let backend: TokenBackend;
let front: HttpGatewayProcess;
let backendUrl: string;

beforeAll(async () => {
  issuer = await startIssuer();
  backend = await startTokenBackend({ issuer: issuer.issuer, auth: ADMIN_AND_ANALYST_RULES });
  backendUrl = backend.url;
  front = await startHttpGateway(
    [
      '--config',
      writeConfig(`servers:
  remote:
    url: ${backendUrl}
    protocol: modern
    oauth:
      client_id: admin-agent
      client_secret: \${GW_SECRET}
      scope: mcp
      issuer: ${issuer.issuer}
    token_exchange:
      issuer: ${issuer.issuer}
      client_id: exchanger
      client_secret: \${GW_SECRET}
      audience: ${backendUrl}
      scope: mcp
http:
  auth:
    issuer: ${issuer.issuer}
    audience: ${FRONT}
    required_scopes: [mcp]
`),
    ],
    { env: { GW_SECRET: CLIENT_SECRET } },
  );
}, 60_000);

afterAll(async () => {
  await front?.close();
  await backend?.close();
  await issuer?.close();
});

async function callAs(client: Client, tool: string, params: Record<string, unknown>) {
  return client.callTool({ name: 'call_backend', arguments: { server: 'remote', tool, params } });
}

async function ready(client: Client): Promise<void> {
  await waitFor(
    async () => {
      const listed = await client.callTool({ name: 'list_servers', arguments: {} });
      return structured<{ servers: { status: string }[] }>(listed).servers.every((r) => r.status === 'ready');
    },
    { timeoutMs: 20_000 },
  );
}

describe('token_exchange', () => {
  it('sends the backend a token exchanged for the caller’s, with the caller’s identity, once per caller token', async () => {
    const token = await issuer.clientToken('analyst-agent', 'mcp', FRONT);
    const client = await connectHttp(front.url, { token });
    try {
      await ready(client);
      const before = issuer.exchanges();
      // The analyst's token is for the front only; exchanged, it reaches the backend as the analyst.
      const echoed = await callAs(client, 'tb__echo', { text: 'as myself' });
      expect(echoed.isError, textOf(echoed)).toBeFalsy();
      expect(textOf(echoed)).toContain('as myself');
      // add is not the analyst's at the backend (the gateway's own identity could have called it).
      const added = await callAs(client, 'tb__add', { a: 1, b: 2 });
      expect(added.isError).toBe(true);
      expect(textOf(added)).toMatch(/not allowed for .*analyst-agent/);
      // Two calls, one exchange: the exchanged token is reused until it nears its expiry.
      expect(issuer.exchanges() - before).toBe(1);
      expect(front.stderr()).not.toContain(token);
    } finally {
      await client.close();
    }
  }, 60_000);

  it('refuses a call whose token the identity provider will not exchange, with ACCESS_DENIED', async () => {
    const token = await issuer.clientToken('plain-agent', 'mcp', FRONT);
    const client = await connectHttp(front.url, { token });
    try {
      await ready(client);
      const refused = await callAs(client, 'tb__echo', { text: 'x' });
      expect(refused.isError).toBe(true);
      expect(structured<{ code: string }>(refused).code).toBe('ACCESS_DENIED');
      expect(textOf(refused)).toMatch(/identity provider refused \(400 invalid_grant/);
    } finally {
      await client.close();
    }
  }, 60_000);
});
