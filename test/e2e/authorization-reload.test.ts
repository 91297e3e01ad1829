/**
 * `http.auth.rules` are hot-reloaded: an edit of gateway.yaml changes what an OAuth caller may list
 * and call from its next request, on the session it already has (which hears list_changed); a change to the rest of
 * `http.auth` (the audience here) is reported as needing a restart and the old value stays.
 */
import { writeFileSync } from 'node:fs';
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearerClient, NEGOTIATION } from '../helpers/eras.js';
import {
  type HttpGatewayProcess,
  startHttpGateway,
  structured,
  tempDir,
  testbedServer,
  writeConfig,
} from '../helpers/gateway.js';
import { startIssuer, type TestIssuer } from '../helpers/oidc-issuer.js';
import { waitFor } from '../helpers/wait.js';

const RESOURCE = 'https://gateway.test/mcp';

const yaml = (issuer: string, tools: string, audience = RESOURCE) => `servers:
${testbedServer('tb')}
http:
  auth:
    issuer: ${issuer}
    audience: ${audience}
    required_scopes: [mcp]
    rules:
      - name: analyst agents
        when: { scopes: [mcp:read] }
        tools: [${tools}]
`;

let issuer: TestIssuer;
let gw: HttpGatewayProcess;
let file: string;
let client: Client;
let listChanged = 0;

beforeAll(async () => {
  issuer = await startIssuer();
  file = writeConfig(yaml(issuer.issuer, 'tb__echo'), tempDir());
  gw = await startHttpGateway(['--config', file]);
  const token = await issuer.clientToken('analyst-agent', 'mcp mcp:read', RESOURCE);
  // A 2025 session: list_changed reaches it on its standing stream.
  client = await bearerClient(gw.url, token, NEGOTIATION.legacy, 'rules-reload');
  client.setNotificationHandler('notifications/tools/list_changed', () => {
    listChanged++;
  });
  await waitFor(() => gw.stderr().includes(`watching ${file} for changes`));
}, 60_000);

afterAll(async () => {
  await client?.close();
  await gw?.close();
  await issuer?.close();
});

const tools = async () => (await client.listTools()).tools.map((t) => t.name).sort();

describe('http.auth.rules, hot-reloaded', () => {
  it('an edited rule lets the same session list and call a tool from its next request', async () => {
    await waitFor(async () => (await tools()).includes('tb__echo'), { timeoutMs: 20_000 });
    expect(await tools()).toEqual(['tb__echo']);
    const refused = await client.callTool({ name: 'tb__add', arguments: { a: 1, b: 2 } });
    expect(refused.isError).toBe(true);
    expect(JSON.stringify(refused.content)).toMatch(/not allowed/);

    writeFileSync(file, yaml(issuer.issuer, 'tb__echo, tb__add'));
    const heard = listChanged;
    await waitFor(() => gw.stderr().includes('http.auth.rules changed'), { timeoutMs: 15_000 });
    await waitFor(() => listChanged > heard, { timeoutMs: 5_000, message: 'the session hears list_changed' });
    expect(await tools()).toEqual(['tb__add', 'tb__echo']);
    const sum = await client.callTool({ name: 'tb__add', arguments: { a: 1, b: 2 } });
    expect(structured(sum)).toEqual({ sum: 3 });
  });

  it('a change to the rest of http.auth waits for a restart, and the old audience still holds', async () => {
    writeFileSync(file, yaml(issuer.issuer, 'tb__echo, tb__add', 'https://elsewhere.test/mcp'));
    await waitFor(() => /http\.auth changed; restart the gateway to apply/.test(gw.stderr()), {
      timeoutMs: 15_000,
    });
    expect(await tools()).toEqual(['tb__add', 'tb__echo']);
  });
});
