/**
 * With `http.auth.rules`, the gateway's tools that name other tools answer per caller: a search
 * profile's find_tools never ranks a tool the caller's rules forbid, describe_tool answers for one
 * exactly as for a tool that does not exist, and list_servers / list_pipelines leave such tools and
 * pipelines out — the same as tools/list. A caller the rules do not narrow still sees everything.
 * Real gateway over HTTP, a real authorization server (oidc-provider) and two testbed backends.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
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
import { startIssuer, type TestIssuer } from '../helpers/oidc-issuer.js';
import { waitFor } from '../helpers/wait.js';

const RESOURCE = 'https://gateway.test/mcp';
const SEARCH_RESOURCE = `${RESOURCE}/searchable`;
/** Words matching every testbed tool: a find that would return any tool of `hidden` if it could. */
const BROAD = 'echo add numbers sleep wait fail error throw crash stderr tool flood huge late pid';

let issuer: TestIssuer;
let gw: HttpGatewayProcess;

beforeAll(async () => {
  issuer = await startIssuer();
  const dir = tempDir();
  mkdirSync(path.join(dir, 'pipelines'));
  for (const server of ['open', 'hidden'])
    writeFileSync(
      path.join(dir, 'pipelines', `${server}-echo.json`),
      JSON.stringify({
        name: `${server}-echo`,
        description: `Echoes through ${server}`,
        steps: { echo: { server, tool: 'echo', args: { text: 'hi' } } },
      }),
    );
  const config = writeConfig(
    `servers:
${testbedServer('open')}
${testbedServer('hidden')}
http:
  console: true
  auth:
    issuer: ${issuer.issuer}
    audience: ${RESOURCE}
    clock_skew: 0s
    required_scopes: [mcp]
    rules:
      - name: narrow agents
        when: { scopes: [mcp:read] }
        servers: [open]
        pipelines: [open-echo]
        meta: [list_servers, list_pipelines, find_tools, describe_tool, call_tool]
        profiles: [searchable]
      - name: admins
        when: { scopes: [mcp:admin] }
        servers: ["*"]
        pipelines: ["*"]
        meta: ["*"]
        profiles: ["*"]
profiles:
  searchable:
    mode: search
    meta_tools: [list_servers, list_pipelines]
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

async function connect(scope: string, negotiation: Negotiation): Promise<Client> {
  const client_ = scope.includes('admin') ? 'admin-agent' : 'analyst-agent';
  const token = await issuer.clientToken(client_, scope, SEARCH_RESOURCE);
  return bearerClient(`${gw.url}/searchable`, token, negotiation, 'search-rules-test');
}

async function found(client: Client, query: string): Promise<string[]> {
  const res = await client.callTool({ name: 'find_tools', arguments: { query, limit: 50 } });
  expect(res.isError).toBeFalsy();
  return structured<{ tools: { name: string }[] }>(res).tools.map((t) => t.name);
}

/** Runs `body` with a client for `scope`, once both backends are up (the admin finds both echoes). */
async function withClient(scope: string, negotiation: Negotiation, body: (c: Client) => Promise<void>) {
  const client = await connect(scope, negotiation);
  try {
    await body(client);
  } finally {
    await client.close();
  }
}

beforeAll(async () => {
  await withClient('mcp mcp:admin', { mode: 'legacy' }, async (admin) => {
    await waitFor(async () => (await found(admin, 'echo')).includes('hidden__echo'), { timeoutMs: 20_000 });
    await waitFor(async () => (await found(admin, 'echo')).includes('open__echo'), { timeoutMs: 20_000 });
  });
}, 60_000);

describe.each(ERAS)('a %s client of a search profile', (_era, negotiation) => {
  it("find_tools never returns a tool the caller's rules forbid; an admin finds every tool", async () => {
    await withClient('mcp mcp:read', negotiation, async (narrow) => {
      const names = await found(narrow, BROAD);
      expect(names).toContain('open__echo');
      expect(names).toContain('open__add');
      // Nothing of `hidden`: neither its tools nor the pipeline through it (the allowed pipeline and
      // gateway tools of the profile may rank too).
      expect(names.filter((n) => n.includes('hidden'))).toEqual([]);
      // The limit counts only what the caller may see: the forbidden tools take no places.
      const one = await narrow.callTool({
        name: 'find_tools',
        arguments: { query: 'add numbers', limit: 1 },
      });
      expect(structured<{ tools: { name: string }[] }>(one).tools.map((t) => t.name)).toEqual(['open__add']);
      expect(textOf(one)).not.toContain('hidden__');
    });
    await withClient('mcp mcp:admin', negotiation, async (admin) => {
      const names = await found(admin, BROAD);
      expect(names).toEqual(expect.arrayContaining(['open__echo', 'hidden__echo', 'hidden__add']));
    });
  });

  it('describe_tool answers for a forbidden tool as for one that does not exist', async () => {
    await withClient('mcp mcp:read', negotiation, async (narrow) => {
      const allowed = await narrow.callTool({ name: 'describe_tool', arguments: { name: 'open__add' } });
      expect(allowed.isError).toBeFalsy();
      expect(structured(allowed).name).toBe('open__add');

      const describe = async (name: string) => {
        const res = await narrow.callTool({ name: 'describe_tool', arguments: { name } });
        expect(res.isError).toBe(true);
        return { text: textOf(res), data: structured<{ code: string; suggestions: string[] }>(res) };
      };
      const forbidden = await describe('hidden__add');
      const missing = await describe('ghost__add');
      expect(forbidden.data.code).toBe('TOOL_UNKNOWN');
      expect(missing.data.code).toBe('TOOL_UNKNOWN');
      // Same words, same suggestions (only tools the caller may see): nothing tells the two apart.
      expect(forbidden.text.replace('hidden__add', 'X')).toBe(missing.text.replace('ghost__add', 'X'));
      expect(forbidden.data.suggestions).toEqual(missing.data.suggestions);
      expect(forbidden.data.suggestions).toContain('open__add');
      expect(forbidden.data.suggestions.filter((n) => n.includes('hidden'))).toEqual([]);
      expect(JSON.stringify(forbidden)).not.toContain('Adds two numbers');
    });
    await withClient('mcp mcp:admin', negotiation, async (admin) => {
      const res = await admin.callTool({ name: 'describe_tool', arguments: { name: 'hidden__add' } });
      expect(res.isError).toBeFalsy();
      expect(structured(res).description).toContain('Adds two numbers');
    });
  });

  it("call_tool's suggestions for an unknown name are only tools the caller may see", async () => {
    await withClient('mcp mcp:read', negotiation, async (narrow) => {
      const res = await narrow.callTool({ name: 'call_tool', arguments: { name: 'hidden__echo_x' } });
      expect(res.isError).toBe(true);
      expect(structured(res).code).toBe('TOOL_UNKNOWN');
      // The name names `hidden`: without the rules' filter its tools would be the nearest.
      const { suggestions } = structured<{ suggestions: string[] }>(res);
      expect(suggestions).toContain('open__echo');
      expect(suggestions.filter((n) => n.includes('hidden'))).toEqual([]);
    });
  });

  it('list_servers names only the tools the caller may list; list_pipelines only its pipelines', async () => {
    type Row = { name: string; tools: string[]; toolCount: number };
    const servers = async (client: Client) => {
      const res = await client.callTool({ name: 'list_servers', arguments: {} });
      expect(res.isError).toBeFalsy();
      return { text: textOf(res), rows: structured<{ servers: Row[] }>(res).servers };
    };
    const pipelines = async (client: Client) => {
      const res = await client.callTool({ name: 'list_pipelines', arguments: {} });
      expect(res.isError).toBeFalsy();
      const names = structured<{ pipelines: { name: string }[] }>(res).pipelines.map((p) => p.name);
      return { text: textOf(res), names: names.sort() };
    };
    await withClient('mcp mcp:read', negotiation, async (narrow) => {
      const { text, rows } = await servers(narrow);
      const open = rows.find((r) => r.name === 'open');
      const hidden = rows.find((r) => r.name === 'hidden');
      expect(open?.tools).toEqual(expect.arrayContaining(['echo', 'add']));
      // The server stays (its status is no secret); its tools are not named or counted.
      expect(hidden).toMatchObject({ tools: [], toolCount: 0 });
      expect(text).not.toMatch(/hidden.*\n\s+tools:/);
      const listed = await pipelines(narrow);
      expect(listed.names).toEqual(['open-echo']);
      expect(listed.text).not.toContain('hidden-echo');
    });
    // The console's "try it" form calls them as the same caller, and is told the same.
    const token = await issuer.clientToken('analyst-agent', 'mcp mcp:read', RESOURCE);
    const res = await fetch(`${new URL(gw.url).origin}/console/api/tools/call`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'list_servers', arguments: {} }),
    });
    expect(res.status).toBe(200);
    const viaConsole = structured<{ servers: Row[] }>(await res.json()).servers;
    expect(viaConsole.find((r) => r.name === 'hidden')).toMatchObject({ tools: [], toolCount: 0 });
    expect(viaConsole.find((r) => r.name === 'open')?.tools).toContain('echo');
    await withClient('mcp mcp:admin', negotiation, async (admin) => {
      const hidden = (await servers(admin)).rows.find((r) => r.name === 'hidden');
      expect(hidden?.tools).toEqual(expect.arrayContaining(['echo', 'add']));
      expect((await pipelines(admin)).names).toEqual(['hidden-echo', 'open-echo']);
    });
  });
});
