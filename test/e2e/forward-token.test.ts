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

let issuer: TestIssuer;
let backend: TokenBackend;
let front: HttpGatewayProcess;
let backendUrl: string;

beforeAll(async () => {
  issuer = await startIssuer();
  backend = await startTokenBackend({ issuer: issuer.issuer, auth: ADMIN_AND_ANALYST_RULES });
  backendUrl = backend.url;
  // The front accepts tokens for the backend's audience too: the one audience both share, so that a
  // caller's token may be passed on to `remote` (and to `elsewhere` it may not).
  const server = (name: string, audience: string) => `  ${name}:
    url: ${backendUrl}
    protocol: modern
    oauth:
      client_id: admin-agent
      client_secret: \${GW_SECRET}
      scope: mcp
      issuer: ${issuer.issuer}
    forward_caller_token:
      audience: ${audience}
`;
  front = await startHttpGateway(
    [
      '--config',
      writeConfig(`servers:
${server('remote', backendUrl)}${server('elsewhere', 'https://elsewhere.example.com/mcp')}${server('plain', backendUrl).replace(/ {4}forward_caller_token:\n.*\n/, '')}
http:
  auth:
    issuer: ${issuer.issuer}
    audience: ${backendUrl}
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

async function callAs(client: Client, server: string, tool: string, params: Record<string, unknown>) {
  return client.callTool({ name: 'call_backend', arguments: { server, tool, params } });
}

describe('forward_caller_token', () => {
  it('passes the caller’s token to a marked backend only when its audience matches', async () => {
    const token = await issuer.clientToken('analyst-agent', 'mcp', backendUrl);
    const client = await connectHttp(front.url, { token });
    try {
      await waitFor(
        async () => {
          const listed = await client.callTool({ name: 'list_servers', arguments: {} });
          const rows = structured<{ servers: { status: string }[] }>(listed).servers;
          return rows.length === 3 && rows.every((r) => r.status === 'ready');
        },
        { timeoutMs: 20_000 },
      );
      // The analyst's own token reached the backend: echo is allowed to it…
      const echoed = await callAs(client, 'remote', 'tb__echo', { text: 'as myself' });
      expect(echoed.isError, textOf(echoed)).toBeFalsy();
      expect(textOf(echoed)).toContain('as myself');
      // …add is not (the gateway's own identity could have called it).
      const added = await callAs(client, 'remote', 'tb__add', { a: 1, b: 2 });
      expect(added.isError).toBe(true);
      expect(textOf(added)).toMatch(/not allowed for .*analyst-agent/);

      // An unmarked backend gets the gateway's own credentials, never the caller's.
      const plain = await callAs(client, 'plain', 'tb__add', { a: 1, b: 2 });
      expect(plain.isError, textOf(plain)).toBeFalsy();

      // The token's audience is not the one `elsewhere` is marked with: refused, nothing sent.
      const refused = await callAs(client, 'elsewhere', 'tb__echo', { text: 'x' });
      expect(refused.isError).toBe(true);
      expect(structured<{ code: string }>(refused).code).toBe('ACCESS_DENIED');
      expect(textOf(refused)).toMatch(/not for https:\/\/elsewhere\.example\.com\/mcp/);
      expect(front.stderr()).not.toContain(token);
    } finally {
      await client.close();
    }
  }, 60_000);
});
