/**
 * The gateway as an OAuth 2.1 resource server, against a real authorization server in the test
 * process (oidc-provider): tokens from client credentials and from authorization code + PKCE, used
 * with the SDK 2.x client in both eras; discovery (RFC 9728) and the challenges (RFC 6750); tokens
 * that are expired, for another audience, from another issuer, tampered with or short of a scope are
 * refused; the rules give a read-only analyst some tools and an admin everything.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOTH_ERAS, bearerClient, type Negotiation } from '../helpers/eras.js';
import {
  type HttpGatewayProcess,
  startHttpGateway,
  structured,
  tempDir,
  testbedServer,
  textOf,
  writeConfig,
} from '../helpers/gateway.js';
import { MCP_ACCEPT, rawRequest } from '../helpers/http-raw.js';
import { CLIENT_SECRET, signingKeys, startIssuer, type TestIssuer } from '../helpers/oidc-issuer.js';
import { waitFor } from '../helpers/wait.js';

/** The gateway's canonical URL, as behind a reverse proxy: the audience its tokens must name. */
const RESOURCE = 'https://gateway.test/mcp';
const METADATA_URL = 'https://gateway.test/.well-known/oauth-protected-resource/mcp';

let issuer: TestIssuer;
/** Another issuer signing with the same keys: its tokens fail on `iss` alone. */
let otherIssuer: TestIssuer;
let gw: HttpGatewayProcess;
let auditFile: string;

beforeAll(async () => {
  const keys = await signingKeys();
  issuer = await startIssuer({ keys });
  otherIssuer = await startIssuer({ keys });
  const dir = tempDir();
  auditFile = path.join(dir, 'audit.log');
  const config = writeConfig(
    `servers:
${testbedServer('tb')}
audit:
  enabled: true
  file: audit.log
http:
  auth:
    issuer: ${issuer.issuer}
    audience: ${RESOURCE}
    clock_skew: 0s
    required_scopes: [mcp]
    rules:
      - name: analyst agents
        when: { scopes: [mcp:read] }
        tools: [tb__echo]
        meta: [list_servers, find_tools, describe_tool, call_tool]
        profiles: [searchable]
      - name: analysts
        when: { groups: [analysts] }
        tools: [tb__echo]
        meta: [list_servers]
      - name: admins
        when: { groups: [admins], scopes: [mcp:admin] }
        servers: ["*"]
        pipelines: ["*"]
        meta: ["*"]
        profiles: ["*"]
profiles:
  reads:
    tools: [tb__echo]
    meta_tools: []
  searchable:
    mode: search
    meta_tools: []
`,
    dir,
  );
  gw = await startHttpGateway(['--config', config]);
}, 60_000);

afterAll(async () => {
  await gw?.close();
  await issuer?.close();
  await otherIssuer?.close();
});

const ERAS = BOTH_ERAS;

function connect(token: string, versionNegotiation: Negotiation, url = gw.url): Promise<Client> {
  return bearerClient(url, token, versionNegotiation);
}

async function toolNames(client: Client): Promise<string[]> {
  return (await client.listTools()).tools.map((t) => t.name).sort();
}

/** A legacy initialize, raw, with `token`: the answer's status, headers and session. */
function initialize(token?: string, url = gw.url) {
  return rawRequest(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: MCP_ACCEPT,
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    }),
  });
}

function challenge(res: { headers: Record<string, unknown> }): string {
  return String(res.headers['www-authenticate'] ?? '');
}

describe('discovery', () => {
  it('serves protected-resource metadata for /mcp, naming the issuer and the scopes', async () => {
    const url = new URL(gw.url);
    const res = await fetch(`${url.origin}/.well-known/oauth-protected-resource/mcp`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as Record<string, unknown>;
    expect(doc.resource).toBe(RESOURCE);
    expect(doc.authorization_servers).toEqual([issuer.issuer]);
    expect(doc.scopes_supported).toEqual(expect.arrayContaining(['mcp', 'mcp:read', 'mcp:admin']));
    const elsewhere = await fetch(`${url.origin}/.well-known/oauth-protected-resource/nothing`);
    expect(elsewhere.status).toBe(404);
  });

  it('answers a request without a token 401 with resource_metadata and no error code', async () => {
    const res = await initialize();
    expect(res.status).toBe(401);
    expect(challenge(res)).toBe(`Bearer resource_metadata="${METADATA_URL}"`);
  });
});

describe.each(ERAS)('a %s client', (_era, negotiation) => {
  it('as a read-only analyst agent (client credentials) sees and calls only its tools', async () => {
    const token = await issuer.clientToken('analyst-agent', 'mcp mcp:read', RESOURCE);
    const client = await connect(token, negotiation);
    try {
      await waitFor(async () => (await toolNames(client)).includes('tb__echo'), { timeoutMs: 20_000 });
      expect(await toolNames(client)).toEqual(['list_servers', 'tb__echo']);
      const echoed = await client.callTool({ name: 'tb__echo', arguments: { text: 'hi' } });
      expect(echoed.isError).toBeFalsy();
      // Not listed, and refused when called anyway: no scope would help (admins are a group too).
      const refused = await client.callTool({
        name: 'register_server',
        arguments: { name: 'x', command: 'node' },
      });
      expect(refused.isError).toBe(true);
      expect(structured(refused).code).toBe('ACCESS_DENIED');
      const viaBackend = await client.callTool({
        name: 'call_backend',
        arguments: { server: 'tb', tool: 'add', params: { a: 1, b: 2 } },
      });
      expect(structured(viaBackend).code).toBe('ACCESS_DENIED');
    } finally {
      await client.close();
    }
  });

  it('as an admin agent sees everything and may call any tool', async () => {
    const token = await issuer.clientToken('admin-agent', 'mcp mcp:admin', RESOURCE);
    const client = await connect(token, negotiation);
    try {
      await waitFor(async () => (await toolNames(client)).includes('tb__add'), { timeoutMs: 20_000 });
      expect(await toolNames(client)).toEqual(
        expect.arrayContaining(['register_server', 'tb__echo', 'tb__sleep']),
      );
      const sum = await client.callTool({ name: 'tb__add', arguments: { a: 2, b: 3 } });
      expect(textOf(sum)).toContain('5');
    } finally {
      await client.close();
    }
  });
});

describe('people, through authorization code + PKCE', () => {
  it('an analyst (group analysts) gets the analysts tools', async () => {
    const token = await issuer.userToken('alice', 'mcp', RESOURCE);
    const client = await connect(token, { mode: 'legacy' });
    try {
      expect(await toolNames(client)).toEqual(['list_servers', 'tb__echo']);
    } finally {
      await client.close();
    }
  });

  it('an admin without the admin scope is asked to step up: 403 insufficient_scope naming it', async () => {
    const token = await issuer.userToken('bob', 'mcp', RESOURCE);
    const init = await initialize(token);
    expect(init.status).toBe(200);
    const res = await rawRequest(gw.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: MCP_ACCEPT,
        authorization: `Bearer ${token}`,
        'mcp-session-id': String(init.headers['mcp-session-id']),
        'mcp-protocol-version': '2025-11-25',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: { name: 'tb__add', arguments: { a: 1, b: 1 } },
      }),
    });
    expect(res.status).toBe(403);
    expect(challenge(res)).toContain('error="insufficient_scope"');
    expect(challenge(res)).toMatch(/scope="[^"]*mcp:admin[^"]*"/);
    expect(challenge(res)).toContain(`resource_metadata="${METADATA_URL}"`);
  });
});

describe('refused tokens', () => {
  const refusedWith = async (token: string, description: RegExp) => {
    const res = await initialize(token);
    expect(res.status).toBe(401);
    expect(challenge(res)).toContain('error="invalid_token"');
    expect(challenge(res)).toContain(`resource_metadata="${METADATA_URL}"`);
    expect(challenge(res)).toMatch(description);
  };

  it('an expired token', async () => {
    const token = await issuer.clientToken('short-agent', 'mcp', RESOURCE);
    await new Promise((r) => setTimeout(r, 2_100));
    await refusedWith(token, /expired/);
  });

  it('a token for another audience', async () => {
    const token = await issuer.clientToken('admin-agent', 'mcp mcp:admin', 'https://elsewhere.test/mcp');
    await refusedWith(token, /not issued for this resource/);
  });

  it('a token from another issuer', async () => {
    const token = await otherIssuer.clientToken('admin-agent', 'mcp mcp:admin', RESOURCE);
    await refusedWith(token, /another issuer/);
  });

  it('a tampered token', async () => {
    const token = await issuer.clientToken('analyst-agent', 'mcp mcp:read', RESOURCE);
    const [header, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, scope: 'mcp mcp:admin' })).toString('base64url');
    await refusedWith(`${header}.${forged}.${signature}`, /signature/);
  });

  it('a token without the scope every request needs: 403 insufficient_scope', async () => {
    const token = await issuer.clientToken('plain-agent', 'mcp:read', RESOURCE);
    const res = await initialize(token);
    expect(res.status).toBe(403);
    expect(challenge(res)).toContain('error="insufficient_scope"');
    expect(challenge(res)).toContain('scope="mcp"');
  });

  it("another caller's token cannot use a session", async () => {
    const alice = await issuer.userToken('alice', 'mcp', RESOURCE);
    const init = await initialize(alice);
    const sessionId = String(init.headers['mcp-session-id']);
    const admin = await issuer.clientToken('admin-agent', 'mcp mcp:admin', RESOURCE);
    const res = await rawRequest(gw.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: MCP_ACCEPT,
        authorization: `Bearer ${admin}`,
        'mcp-session-id': sessionId,
        'mcp-protocol-version': '2025-11-25',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    });
    expect(res.status).toBe(403);
  });
});

describe('the caller in the audit log', () => {
  it('names the subject, never the token', async () => {
    const token = await issuer.clientToken('analyst-agent', 'mcp mcp:read', RESOURCE);
    const client = await connect(token, { mode: 'legacy' });
    try {
      await client.callTool({ name: 'tb__echo', arguments: { text: 'audited' } });
    } finally {
      await client.close();
    }
    await waitFor(() => readFileSync(auditFile, 'utf8').includes('audited'), { timeoutMs: 5_000 });
    const log = readFileSync(auditFile, 'utf8');
    const line = log.split('\n').find((l) => l.includes('audited')) ?? '';
    expect(JSON.parse(line).identity).toBe('analyst-agent');
    expect(log).not.toContain(token.split('.')[2]);
  });
});

describe('opaque tokens, through introspection (RFC 7662)', () => {
  let introspecting: HttpGatewayProcess;
  beforeAll(async () => {
    const config = writeConfig(`servers:
${testbedServer('tb')}
http:
  auth:
    issuer: ${issuer.issuer}
    audience: ${RESOURCE}
    introspection:
      url: ${issuer.issuer}/token/introspection
      client_id: gateway
      client_secret: ${CLIENT_SECRET}
    rules:
      - when: { scopes: [mcp:read] }
        tools: [tb__echo]
`);
    introspecting = await startHttpGateway(['--config', config]);
  }, 30_000);
  afterAll(async () => {
    await introspecting?.close();
  });

  it('accepts an active token for this resource, with its scopes', async () => {
    const token = await issuer.clientToken('opaque-agent', 'mcp mcp:read', RESOURCE);
    expect(token.split('.')).toHaveLength(1);
    const client = await bearerClient(introspecting.url, token);
    try {
      await waitFor(async () => (await toolNames(client)).includes('tb__echo'), { timeoutMs: 20_000 });
      expect(await toolNames(client)).toEqual(['tb__echo']);
    } finally {
      await client.close();
    }
  });

  it('refuses a token the authorization server does not know, and one for another resource', async () => {
    const post = (token: string) =>
      rawRequest(introspecting.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: MCP_ACCEPT, authorization: `Bearer ${token}` },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
      });
    const unknown = await post('not-a-token-anyone-issued');
    expect(unknown.status).toBe(401);
    expect(challenge(unknown)).toContain('not active');
    const elsewhere = await issuer.clientToken('opaque-agent', 'mcp', 'https://elsewhere.test/mcp');
    const wrong = await post(elsewhere);
    expect(wrong.status).toBe(401);
    expect(challenge(wrong)).toContain('not issued for this resource');
  });
});

describe('profile endpoints: each its own resource, opened by the rules', () => {
  const PROFILE_RESOURCE = 'https://gateway.test/mcp/reads';
  const PROFILE_METADATA = 'https://gateway.test/.well-known/oauth-protected-resource/mcp/reads';
  const profileUrl = () => `${gw.url}/reads`;

  it('serves RFC 9728 metadata per profile endpoint, and none for a profile the config lacks', async () => {
    const origin = new URL(gw.url).origin;
    const res = await fetch(`${origin}/.well-known/oauth-protected-resource/mcp/reads`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as Record<string, unknown>).resource).toBe(PROFILE_RESOURCE);
    const missing = await fetch(`${origin}/.well-known/oauth-protected-resource/mcp/nope`);
    expect(missing.status).toBe(404);
  });

  it("refuses a token minted for /mcp at a profile's endpoint, pointing at that endpoint's metadata", async () => {
    const token = await issuer.clientToken('admin-agent', 'mcp mcp:admin', RESOURCE);
    const res = await initialize(token, profileUrl());
    expect(res.status).toBe(401);
    expect(challenge(res)).toContain('error="invalid_token"');
    expect(challenge(res)).toContain(`resource_metadata="${PROFILE_METADATA}"`);
  });

  it.each(ERAS)('a %s client whose rule lists the profile gets its view', async (_era, negotiation) => {
    const token = await issuer.clientToken('admin-agent', 'mcp mcp:admin', PROFILE_RESOURCE);
    const client = await connect(token, negotiation, profileUrl());
    try {
      await waitFor(async () => (await toolNames(client)).includes('tb__echo'), { timeoutMs: 20_000 });
      expect(await toolNames(client)).toEqual(['tb__echo']);
    } finally {
      await client.close();
    }
  });

  it('a caller no rule gives the profile is refused 403, with the reason', async () => {
    const token = await issuer.clientToken('analyst-agent', 'mcp mcp:read', PROFILE_RESOURCE);
    const res = await initialize(token, profileUrl());
    expect(res.status).toBe(403);
    expect(String(res.body)).toMatch(/may not use \/mcp\/reads: no rule of http.auth.rules/);
  });
});

describe('a search profile over OAuth', () => {
  it("call_tool reaches only what the caller's rules allow", async () => {
    const resource = 'https://gateway.test/mcp/searchable';
    const token = await issuer.clientToken('analyst-agent', 'mcp mcp:read', resource);
    const client = await connect(token, { mode: 'legacy' }, `${gw.url}/searchable`);
    try {
      expect(await toolNames(client)).toEqual(['call_tool', 'describe_tool', 'find_tools']);
      const allowed = await client.callTool({
        name: 'call_tool',
        arguments: { name: 'tb__echo', arguments: { text: 'hi' } },
      });
      expect(allowed.isError).toBeFalsy();
      const refused = await client.callTool({
        name: 'call_tool',
        arguments: { name: 'tb__add', arguments: { a: 1, b: 2 } },
      });
      expect(refused.isError).toBe(true);
      expect(structured(refused).code).toBe('ACCESS_DENIED');
    } finally {
      await client.close();
    }
  });
});
