/**
 * Profiles over Streamable HTTP: each profile at /mcp/<profile>, in both eras (a 2025-era session and
 * 2026-07-28 stateless requests, through the SDK 2 Client), with the tool surface composed in (a
 * per-server include/exclude, an override's new name, a name shortened to 64 characters), static
 * tokens each opening only its profiles (http.tokens), and a hot reload of a profile that reaches
 * that endpoint's sessions and listeners with list_changed. Real backends: three testbeds and the
 * reference server-everything; over stdio, `serve --profile` serves the same renamed names.
 */
import path from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NEGOTIATION } from '../helpers/eras.js';
import {
  type HttpGatewayProcess,
  ROOT,
  runCli,
  type StdioGateway,
  startHttpGateway,
  startStdioGateway,
  structured,
  tempDir,
  testbedServer,
  textOf,
  writeConfig,
} from '../helpers/gateway.js';
import { waitFor } from '../helpers/wait.js';

const EVERYTHING = path.join(ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
/** 64 characters: with the `alpha__` prefix its served name is too long and is shortened. */
const LONG = 'fetch_the_quarterly_report_for_the_region_and_product_line_alpha';
const SMALL_TOKEN = 'small-token-0123456789';
const WIDE_TOKEN = 'wide-token-0123456789';
const LATE_TOKEN = 'late-token-0123456789';

const config = (smallTools: string, late = false) =>
  [
    'timeout: 20s',
    'metrics: true',
    'rate_limits:',
    '  servers: { gamma: { calls: 2, per: 1h } }',
    'http:',
    '  tokens:',
    `    - { token: ${SMALL_TOKEN}, profiles: [small] }`,
    `    - { token: ${WIDE_TOKEN}, profiles: [default, small, finder, metered] }`,
    ...(late ? [`    - { token: ${LATE_TOKEN}, profiles: [late] }`] : []),
    'servers:',
    testbedServer('alpha', ['--extra-tool', 'renamed_me', '--extra-tool', LONG]),
    '    tools:',
    '      exclude: [crash]',
    '      overrides:',
    '        renamed_me: { name: nice_name, description: Told by the config }',
    testbedServer('beta'),
    testbedServer('gamma'),
    '  everything:',
    `    command: ${JSON.stringify(process.execPath)}`,
    `    args: ${JSON.stringify([EVERYTHING, 'stdio'])}`,
    '    tools:',
    '      include: [echo, get-sum, get-env]',
    '      exclude: [get-env]',
    '      overrides:',
    '        get-sum: { name: sum }',
    'profiles:',
    '  small:',
    '    servers: [alpha, everything]',
    `    tools: [${smallTools}]`,
    '    meta_tools: [list_servers, call_backend]',
    '  finder:',
    '    mode: search',
    '    exclude: ["beta__*"]',
    '    meta_tools: []',
    '  metered:',
    '    servers: [gamma]',
    '    mode: search',
    '    meta_tools: []',
    ...(late ? ['  late:', '    servers: [beta]', '    meta_tools: []'] : []),
  ].join('\n');

const SMALL_TOOLS = 'alpha__echo, alpha__nice_name, "alpha__fetch_*", "everything__*"';

async function connect(url: string, era: 'legacy' | 'modern', token?: string): Promise<Client> {
  const client = new Client(
    { name: `profiles-${era}`, version: '1.0.0' },
    { versionNegotiation: NEGOTIATION[era] },
  );
  const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  return client;
}

const names = async (client: Client) => (await client.listTools()).tools.map((t) => t.name).sort();

/** A raw initialize, so a test sees the status and body a refused client gets. */
async function rawInitialize(url: string, token?: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    }),
  });
  const body = await res.text();
  return { status: res.status, body };
}

describe('profiles over Streamable HTTP', () => {
  const dir = tempDir('mcp-gateway-profiles-http-');
  const file = writeConfig(config(SMALL_TOOLS), dir);
  let gw: HttpGatewayProcess;
  let base: string;
  const clients: Client[] = [];
  const open = async (url: string, era: 'legacy' | 'modern', token?: string) => {
    const client = await connect(url, era, token);
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    gw = await startHttpGateway(['--config', file], { env: { MCP_GATEWAY_LOG_LEVEL: 'info' } });
    base = gw.url;
    const wide = await open(base, 'legacy', WIDE_TOKEN);
    await waitFor(
      async () => {
        const all = await names(wide);
        return ['alpha__nice_name', 'beta__echo', 'everything__sum'].every((n) => all.includes(n));
      },
      { timeoutMs: 30_000, message: 'every backend listed' },
    );
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    await gw?.close();
  });

  it.each(['legacy', 'modern'] as const)(
    'in the %s era, /mcp/small serves exactly its tools, with the surface names',
    async (era) => {
      const small = await open(`${base}/small`, era, SMALL_TOKEN);
      const served = await names(small);
      const short = served.find((n) => n.startsWith('alpha__fetch_'));
      expect(short).toBeDefined();
      expect(short!.length).toBeLessThanOrEqual(64);
      expect(served).toEqual(
        [
          'alpha__echo',
          'alpha__nice_name',
          short!,
          'call_backend',
          'everything__echo',
          'everything__sum',
          'list_servers',
        ].sort(),
      );
      // Renamed by an override: called by its new name, the backend receives its own.
      const renamed = await small.callTool({ name: 'alpha__nice_name', arguments: { x: 1 } });
      expect(structured(renamed)).toMatchObject({ server: 'alpha', tool: 'renamed_me' });
      const longCall = await small.callTool({ name: short!, arguments: {} });
      expect(structured(longCall)).toMatchObject({ server: 'alpha', tool: LONG });
      const sum = await small.callTool({ name: 'everything__sum', arguments: { a: 2, b: 3 } });
      expect(textOf(sum)).toContain('5');
      // Outside the profile, or filtered by the server's include/exclude: unknown.
      await expect(small.callTool({ name: 'beta__echo', arguments: {} })).rejects.toThrow(/beta__echo/);
      await expect(small.callTool({ name: 'alpha__add', arguments: { a: 1, b: 1 } })).rejects.toThrow();
      await expect(small.callTool({ name: 'everything__get-env', arguments: {} })).rejects.toThrow();
    },
  );

  it('call_backend on a profile endpoint checks the name the surface serves', async () => {
    const small = await open(`${base}/small`, 'legacy', SMALL_TOKEN);
    // renamed_me is served as alpha__nice_name, which the profile keeps.
    const renamed = await small.callTool({
      name: 'call_backend',
      arguments: { server: 'alpha', tool: 'renamed_me', params: {} },
    });
    expect(renamed.isError).toBeFalsy();
    expect(structured(renamed)).toMatchObject({ server: 'alpha', tool: 'renamed_me' });
    const outside = await small.callTool({
      name: 'call_backend',
      arguments: { server: 'alpha', tool: 'add', params: { a: 1, b: 2 } },
    });
    expect(outside.isError).toBe(true);
    expect(textOf(outside)).toMatch(/profile 'small' has no tool 'add' of server 'alpha'/);
  });

  it('the default /mcp serves everything the surface lets through', async () => {
    const wide = await open(base, 'modern', WIDE_TOKEN);
    const served = await names(wide);
    expect(served).toEqual(expect.arrayContaining(['alpha__add', 'beta__echo', 'everything__sum']));
    expect(served).not.toContain('alpha__renamed_me');
    expect(served).not.toContain('everything__get-env');
  });

  it.each(['legacy', 'modern'] as const)('in the %s era, a search profile serves its view', async (era) => {
    const finder = await open(`${base}/finder`, era, WIDE_TOKEN);
    expect(await names(finder)).toEqual(['call_tool', 'describe_tool', 'find_tools']);
    const found = await finder.callTool({ name: 'find_tools', arguments: { query: 'add two numbers' } });
    const hits = structured<{ tools: { name: string }[] }>(found).tools.map((t) => t.name);
    expect(hits.some((h) => h === 'alpha__add' || h === 'everything__sum')).toBe(true);
    expect(hits.some((h) => h.startsWith('beta__'))).toBe(false);
    const called = await finder.callTool({
      name: 'call_tool',
      arguments: { name: 'alpha__nice_name', arguments: {} },
    });
    expect(structured(called)).toMatchObject({ tool: 'renamed_me' });
    const hidden = await finder.callTool({ name: 'call_tool', arguments: { name: 'beta__echo' } });
    expect(hidden.isError).toBe(true);
  });

  it('a token opens only its profiles: 403 elsewhere, 401 without or with an unknown one', async () => {
    const denied = await rawInitialize(`${base}/finder`, SMALL_TOKEN);
    expect(denied.status).toBe(403);
    expect(denied.body).toContain('This token may not use /mcp/finder');
    expect(denied.body).toContain('it may use: /mcp/small');
    const deniedDefault = await rawInitialize(base, SMALL_TOKEN);
    expect(deniedDefault.status).toBe(403);
    expect((await rawInitialize(`${base}/small`)).status).toBe(401);
    const unknown = await rawInitialize(`${base}/small`, 'not-a-token');
    expect(unknown.status).toBe(401);
    expect(unknown.body).toContain('Missing or wrong bearer token');
    await expect(connect(`${base}/finder`, 'modern', SMALL_TOKEN)).rejects.toThrow(/403|may not use/);
    expect((await rawInitialize(`${base}/small`, SMALL_TOKEN)).status).toBe(200);
  });

  it('/metrics opens to what opens /mcp: a token listing default', async () => {
    const metrics = new URL('/metrics', base).href;
    const get = (token?: string) =>
      fetch(metrics, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
    expect((await get()).status).toBe(401);
    expect((await get(SMALL_TOKEN)).status).toBe(403);
    const ok = await get(WIDE_TOKEN);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('# HELP');
  });

  it("rate_limits count search mode's call_tool against the server of the tool it calls", async () => {
    const metered = await open(`${base}/metered`, 'legacy', WIDE_TOKEN);
    const call = () =>
      metered.callTool({ name: 'call_tool', arguments: { name: 'gamma__echo', arguments: {} } });
    for (let i = 0; i < 2; i++) expect((await call()).isError).toBeFalsy();
    await expect(call()).rejects.toThrow(/Rate limit reached \(rate_limits\.servers\.gamma\)/);
  });

  it('an unknown profile endpoint is 404, naming the profiles served', async () => {
    const missing = await rawInitialize(`${base}/smal`, WIDE_TOKEN);
    expect(missing.status).toBe(404);
    expect(missing.body).toContain("No profile 'smal' in the gateway config");
    expect(missing.body).toContain('profiles you may use: /mcp/small, /mcp/finder');
    // A token learns only the names of the profiles it opens; without one, nothing.
    const narrow = await rawInitialize(`${base}/smal`, SMALL_TOKEN);
    expect(narrow.status).toBe(404);
    expect(narrow.body).toContain('profiles you may use: /mcp/small"');
    expect((await rawInitialize(`${base}/smal`)).status).toBe(401);
  });

  it('a session is known at the endpoint that opened it only', async () => {
    const init = await fetch(`${base}/small`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream',
        Authorization: `Bearer ${WIDE_TOKEN}`,
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'raw', version: '1' },
        },
      }),
    });
    const session = init.headers.get('mcp-session-id');
    await init.text();
    expect(session).toBeTruthy();
    const elsewhere = await fetch(`${base}/finder`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream',
        Authorization: `Bearer ${WIDE_TOKEN}`,
        'mcp-session-id': session!,
        'mcp-protocol-version': '2025-06-18',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    });
    expect(elsewhere.status).toBe(404);
    await elsewhere.text();
  });

  it('a reload of a profile reaches its endpoint with list_changed, in both eras, and adds endpoints', async () => {
    const legacy = await open(`${base}/small`, 'legacy', SMALL_TOKEN);
    const modern = await open(`${base}/small`, 'modern', SMALL_TOKEN);
    const finder = await open(`${base}/finder`, 'legacy', WIDE_TOKEN);
    let legacyChanged = 0;
    let modernChanged = 0;
    let finderChanged = 0;
    legacy.setNotificationHandler('notifications/tools/list_changed', () => {
      legacyChanged++;
    });
    modern.setNotificationHandler('notifications/tools/list_changed', () => {
      modernChanged++;
    });
    finder.setNotificationHandler('notifications/tools/list_changed', () => {
      finderChanged++;
    });
    expect(await names(legacy)).toContain('alpha__echo');
    await names(finder);
    const subscription = await modern.listen({ toolsListChanged: true });
    await waitFor(() => gw.stderr().includes(`watching ${file} for changes`));
    // Neither the profile nor its token exist yet.
    expect((await rawInitialize(`${base}/late`, LATE_TOKEN)).status).toBe(401);
    expect((await rawInitialize(`${base}/late`, WIDE_TOKEN)).status).toBe(404);

    writeConfig(config('alpha__nice_name, "everything__*"', true), dir);
    await waitFor(() => legacyChanged > 0 && modernChanged > 0, {
      timeoutMs: 15_000,
      message: 'list_changed on /mcp/small in both eras',
    });
    for (const client of [legacy, modern]) expect(await names(client)).not.toContain('alpha__echo');
    expect(await names(legacy)).toContain('alpha__nice_name');
    // The search profile did not change: its session heard nothing.
    expect(finderChanged).toBe(0);
    await subscription.close();

    // A profile and a token added by the reload are served at once.
    const late = await open(`${base}/late`, 'legacy', LATE_TOKEN);
    const lateTools = await names(late);
    expect(lateTools).toContain('beta__echo');
    expect(lateTools.some((n) => n.startsWith('alpha__'))).toBe(false);
    expect((await rawInitialize(`${base}/small`, LATE_TOKEN)).status).toBe(403);
  });
});

describe('profiles over stdio serve the surface names', () => {
  let gw: StdioGateway;
  let file: string;
  beforeAll(async () => {
    file = writeConfig(config(SMALL_TOOLS));
    gw = await startStdioGateway(['serve', '--config', file, '--profile', 'small']);
    await waitFor(async () => (await gw.client.listTools()).tools.some((t) => t.name === 'everything__sum'), {
      timeoutMs: 30_000,
    });
  }, 60_000);
  afterAll(() => gw?.close());

  it('lists and calls the renamed and shortened tools the profile keeps', async () => {
    const served = (await gw.client.listTools()).tools.map((t) => t.name);
    expect(served).toContain('alpha__nice_name');
    expect(served).not.toContain('alpha__renamed_me');
    expect(served).not.toContain('beta__echo');
    expect(served.every((n) => n.length <= 64)).toBe(true);
    const viaMeta = await gw.client.callTool({
      name: 'call_backend',
      arguments: { server: 'everything', tool: 'get-sum', params: { a: 4, b: 5 } },
    });
    expect(viaMeta.isError).toBeFalsy();
    expect(textOf(viaMeta)).toContain('9');
  });

  it('list --profile matches the profile against the served names too', async () => {
    const listed = await runCli(['list', '--config', file, '--profile', 'small'], { timeoutMs: 60_000 });
    expect(listed.code).toBe(0);
    // renamed_me is kept as alpha__nice_name; add is outside the profile.
    expect(listed.stdout).toContain('  renamed_me');
    expect(listed.stdout).not.toMatch(/^ {2}add /m);
    expect(listed.stdout).not.toContain('beta');
  }, 70_000);
});
