/**
 * `http.auth.rules` for resources and prompts, against a real authorization server in the test
 * process (oidc-provider) and two real backends (era-legacy: resources, prompts, completions,
 * subscriptions). A read-only analyst agent may use one backend's resources by URI glob and one prompt
 * by name; an admin (`servers: ["*"]`) every backend's. Checked on resources/list, resources/read,
 * prompts/list, prompts/get, completion/complete, resources/subscribe (2025) and subscriptions/listen
 * (2026-07-28).
 */
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOTH_ERAS, bearerClient, ERA_LEGACY, type Era, eraServer, NEGOTIATION } from '../helpers/eras.js';
import { type HttpGatewayProcess, startHttpGateway, tempDir, writeConfig } from '../helpers/gateway.js';
import { startIssuer, type TestIssuer } from '../helpers/oidc-issuer.js';
import { waitFor } from '../helpers/wait.js';

const RESOURCE = 'https://gateway.test/mcp';
const DOCS_NOTE = 'mcpgw://docs/era://note';
const HR_NOTE = 'mcpgw://hr/era://note';

let issuer: TestIssuer;
let gw: HttpGatewayProcess;

beforeAll(async () => {
  issuer = await startIssuer();
  const dir = tempDir();
  const config = writeConfig(
    `servers:
${eraServer('docs', ERA_LEGACY, 'legacy')}
${eraServer('hr', ERA_LEGACY, 'legacy')}
http:
  auth:
    issuer: ${issuer.issuer}
    audience: ${RESOURCE}
    required_scopes: [mcp]
    rules:
      - name: analyst agents
        when: { scopes: [mcp:read] }
        tools: [docs__touch, hr__touch]
        resources: ["mcpgw://docs/**"]
        prompts: [docs__greet]
      - name: admins
        when: { scopes: [mcp:admin] }
        servers: ["*"]
`,
    dir,
  );
  gw = await startHttpGateway(['--config', config]);
}, 60_000);

afterAll(async () => {
  await gw?.close();
  await issuer?.close();
});

const ERAS = BOTH_ERAS;

async function connect(scope: string, era: Era): Promise<Client> {
  const token = await issuer.clientToken(
    scope.includes('admin') ? 'admin-agent' : 'analyst-agent',
    scope,
    RESOURCE,
  );
  return bearerClient(gw.url, token, NEGOTIATION[era], 'auth-resources');
}

/** Waits for both backends to be listed to an admin: the lists are shared, so then they are complete. */
async function bothBackendsUp(): Promise<void> {
  const admin = await connect('mcp mcp:admin', 'legacy');
  try {
    await waitFor(
      async () => {
        const uris = (await admin.listResources()).resources.map((r) => r.uri);
        return uris.includes(DOCS_NOTE) && uris.includes(HR_NOTE);
      },
      { timeoutMs: 20_000 },
    );
  } finally {
    await admin.close();
  }
}

describe.each(ERAS)('a %s client', (era) => {
  it('as an analyst lists, reads, gets and completes only what its rules give', async () => {
    await bothBackendsUp();
    const client = await connect('mcp mcp:read', era);
    try {
      const uris = (await client.listResources()).resources.map((r) => r.uri).sort();
      expect(uris).toEqual(['mcpgw://docs/era://asked', DOCS_NOTE]);
      const prompts = (await client.listPrompts()).prompts.map((p) => p.name);
      expect(prompts).toEqual(['docs__greet']);

      const read = await client.readResource({ uri: DOCS_NOTE });
      expect(JSON.stringify(read.contents)).toContain('note');
      await expect(client.readResource({ uri: HR_NOTE })).rejects.toThrow(
        /resource mcpgw:\/\/hr\/era:\/\/note of server hr is not allowed/,
      );
      const refused = await client
        .readResource({ uri: 'mcpgw://hr/era://asked' })
        .catch((err: unknown) => err);
      expect((refused as { data?: { code?: string } }).data?.code).toBe('ACCESS_DENIED');

      const greeted = await client.getPrompt({ name: 'docs__greet', arguments: { name: 'Ada' } });
      expect(JSON.stringify(greeted.messages)).toContain('Hello, Ada');
      await expect(client.getPrompt({ name: 'hr__greet', arguments: { name: 'Ada' } })).rejects.toThrow(
        /prompt hr__greet of server hr is not allowed/,
      );
      await expect(client.getPrompt({ name: 'docs__greet_asking' })).rejects.toThrow(/not allowed/);

      const completed = await client.complete({
        ref: { type: 'ref/prompt', name: 'docs__greet' },
        argument: { name: 'name', value: 'A' },
      });
      expect(completed.completion.values).toContain('Ada');
      await expect(
        client.complete({
          ref: { type: 'ref/prompt', name: 'hr__greet' },
          argument: { name: 'name', value: 'A' },
        }),
      ).rejects.toThrow(/not allowed/);
    } finally {
      await client.close();
    }
  });

  it('as an admin (servers: ["*"]) uses every backend\u2019s resources and prompts', async () => {
    await bothBackendsUp();
    const client = await connect('mcp mcp:admin', era);
    try {
      const uris = (await client.listResources()).resources.map((r) => r.uri);
      expect(uris).toEqual(expect.arrayContaining([DOCS_NOTE, HR_NOTE]));
      const prompts = (await client.listPrompts()).prompts.map((p) => p.name);
      expect(prompts).toEqual(expect.arrayContaining(['docs__greet', 'hr__greet', 'hr__greet_asking']));
      const read = await client.readResource({ uri: HR_NOTE });
      expect(JSON.stringify(read.contents)).toContain('note');
      const greeted = await client.getPrompt({ name: 'hr__greet', arguments: { name: 'Alan' } });
      expect(JSON.stringify(greeted.messages)).toContain('Hello, Alan');
    } finally {
      await client.close();
    }
  });
});

describe('subscriptions', () => {
  it('a 2025 analyst may subscribe to what it may read, and is refused the rest', async () => {
    await bothBackendsUp();
    const client = await connect('mcp mcp:read', 'legacy');
    try {
      const heard: string[] = [];
      client.setNotificationHandler('notifications/resources/updated', (n) => {
        heard.push(n.params.uri);
      });
      await client.subscribeResource({ uri: DOCS_NOTE });
      await expect(client.subscribeResource({ uri: HR_NOTE })).rejects.toThrow(/not allowed/);
      await client.callTool({ name: 'docs__touch', arguments: {} });
      await waitFor(() => heard.includes(DOCS_NOTE), { timeoutMs: 10_000 });
    } finally {
      await client.close();
    }
  });

  it('a 2026 analyst listening to an allowed and a refused URI hears only the allowed one', async () => {
    await bothBackendsUp();
    const client = await connect('mcp mcp:read', 'modern');
    // An admin subscribed to hr's note: its updates flow in the gateway, and must still not reach the analyst.
    const admin = await connect('mcp mcp:admin', 'legacy');
    const heard: string[] = [];
    client.setNotificationHandler('notifications/resources/updated', (n) => {
      heard.push(n.params.uri);
    });
    const adminHeard: string[] = [];
    admin.setNotificationHandler('notifications/resources/updated', (n) => {
      adminHeard.push(n.params.uri);
    });
    await admin.subscribeResource({ uri: HR_NOTE });
    const listening = await client.listen({ resourceSubscriptions: [DOCS_NOTE, HR_NOTE] });
    try {
      await client.callTool({ name: 'hr__touch', arguments: {} });
      await waitFor(() => adminHeard.includes(HR_NOTE), { timeoutMs: 10_000 });
      await client.callTool({ name: 'docs__touch', arguments: {} });
      await waitFor(() => heard.includes(DOCS_NOTE), { timeoutMs: 10_000 });
      expect(heard).not.toContain(HR_NOTE);
    } finally {
      await listening.close();
      await client.close();
      await admin.close();
    }
  });
});
