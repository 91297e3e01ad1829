/**
 * Names that could shadow or impersonate: server names register_server must refuse, backend tool
 * names the front must not serve, and backend tools named like the gateway's own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  NODE,
  type StdioGateway,
  startStdioGateway,
  structured,
  TESTBED,
  testbedServer,
  textOf,
  writeConfig,
} from '../helpers/gateway.js';
import { waitFor } from '../helpers/wait.js';

const UNSAFE_TOOLS = [
  'has space',
  'with/slash',
  'ünïcode',
  'zero\u200bwidth',
  'new\nline',
  'sеrver', // Cyrillic "е"
  '',
];
/** Served, but shortened to 64 characters (src/surface/fit-names.ts) instead of left out. */
const LONG_TOOL = `long-${'x'.repeat(120)}`;
const SAFE_TOOLS = ['ok.tool-1', 'list_servers', 'register_server', 'call_backend', 'a__b'];

describe('names that could shadow or impersonate', () => {
  let gw: StdioGateway;

  beforeAll(async () => {
    const extra = [...UNSAFE_TOOLS, ...SAFE_TOOLS, LONG_TOOL].flatMap((t) => ['--extra-tool', t]);
    const config = writeConfig(['servers:', testbedServer('alpha'), testbedServer('odd', extra)].join('\n'));
    gw = await startStdioGateway(['--config', config]);
    await waitFor(
      async () => {
        const names = (await gw.client.listTools()).tools.map((t) => t.name);
        return names.includes('odd__echo') && names.includes('alpha__echo');
      },
      { timeoutMs: 15_000 },
    );
  });
  afterAll(async () => {
    await gw?.close();
  });

  async function servers(): Promise<string[]> {
    const result = await gw.client.callTool({ name: 'list_servers', arguments: {} });
    return structured<{ servers: { name: string }[] }>(result).servers.map((s) => s.name);
  }

  it.each([
    ['a__b', /must not contain "__"/],
    ['a_', /must not end with "_"/],
    ['x'.repeat(49), /49 characters long; at most 48/],
    ['x'.repeat(10_000), /10000 characters long/],
    ['аlpha', /must start with a letter or digit and contain only letters, digits/], // Cyrillic "а"
    ['alpha\u200b', /contain only letters, digits/],
    ['al\u200dpha', /contain only letters, digits/],
    ['alpha\u0000', /contain only letters, digits/],
    ['ａlpha', /contain only letters, digits/], // fullwidth "a"
    ['pipeline', /reserved; pipelines are served as "pipeline__<name>"/],
    ['PIPELINE', /reserved/],
    ['list_servers', /reserved; it is the name of one of the gateway's own tools/],
    ['Register_Server', /reserved; it is the name of one of the gateway's own tools/],
    ['call_backend', /reserved/],
    ['route_pipeline', /reserved/],
    ['__proto__', /must start with a letter or digit/],
    ['', /'name' is required/],
    ['my.db', /contain only letters, digits/],
  ])('register_server refuses the name %j with a clear message', async (name, message) => {
    const before = await servers();
    const result = await gw.client.callTool({
      name: 'register_server',
      arguments: { name, command: NODE, args: [TESTBED, '--name', 'x'] },
    });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(message);
    expect(textOf(result).length).toBeLessThan(400);
    expect(await servers()).toEqual(before);
  });

  it('register_server refuses a name already taken, and the first stays', async () => {
    const result = await gw.client.callTool({
      name: 'register_server',
      arguments: { name: 'alpha', command: NODE, args: [TESTBED, '--name', 'impostor'] },
    });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/already exists/);
    const echoed = await gw.client.callTool({ name: 'alpha__echo', arguments: {} });
    expect(structured(echoed)).toMatchObject({ server: 'alpha' });
  });

  it('does not serve backend tools with unsafe names, and says so once on stderr', async () => {
    const names = (await gw.client.listTools()).tools.map((t) => t.name);
    for (const tool of SAFE_TOOLS) expect(names).toContain(`odd__${tool}`);
    for (const tool of UNSAFE_TOOLS) expect(names).not.toContain(`odd__${tool}`);
    for (const name of names) {
      expect(name).toMatch(/^[A-Za-z0-9_.-]{1,64}$/);
    }
    // Every listed name is unique and is exactly one tool.
    expect(new Set(names).size).toBe(names.length);
    await gw.client.listTools();
    const warnings = gw
      .stderr()
      .split('\n')
      .filter((l) => l.includes("not serving a tool of server 'odd'"));
    expect(warnings).toHaveLength(UNSAFE_TOOLS.length);
    expect(warnings.join('\n')).toMatch(/has characters other than letters/);
    expect(names.filter((n) => n.startsWith('odd__long-xxx'))).toHaveLength(1);
  });

  it('an unsafe tool is still reachable through call_backend by its own name', async () => {
    const result = await gw.client.callTool({
      name: 'call_backend',
      arguments: { server: 'odd', tool: 'has space', params: { x: 1 } },
    });
    expect(result.isError).toBeFalsy();
    expect(structured(result)).toEqual({ server: 'odd', tool: 'has space', args: { x: 1 } });
  });

  it("a backend tool named like a gateway tool cannot shadow the gateway's own", async () => {
    const tools = (await gw.client.listTools()).tools;
    expect(tools.filter((t) => t.name === 'list_servers')).toHaveLength(1);
    expect(tools.filter((t) => t.name === 'register_server')).toHaveLength(1);
    const own = await gw.client.callTool({ name: 'list_servers', arguments: {} });
    expect(structured<{ servers: unknown[] }>(own).servers.length).toBeGreaterThanOrEqual(2);
    const theirs = await gw.client.callTool({ name: 'odd__list_servers', arguments: { y: 2 } });
    expect(structured(theirs)).toEqual({ server: 'odd', tool: 'list_servers', args: { y: 2 } });
    const described = tools.find((t) => t.name === 'odd__list_servers');
    expect(described?.description).toMatch(/^\[odd\] /);
  });
});
