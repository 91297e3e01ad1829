/**
 * The tool surface over real backends (the testbed): filters and overrides, what call_backend and a
 * custom pipeline may reach, names that fit 64 characters, pinned definitions, hot reload of filters.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  runCli,
  type StdioGateway,
  startStdioGateway,
  structured,
  testbedServer,
  textOf,
  waitForTools,
  waitUntilWatching,
  writeConfig,
} from '../helpers/gateway.js';
import { waitFor } from '../helpers/wait.js';

const LONG_HEAD = `fetch_the_quarterly_report_for_the_region_and_product_line`;
const LONG_A = `${LONG_HEAD}_alpha`;
const LONG_B = `${LONG_HEAD}_beta`;

const names = async (gw: StdioGateway) => (await gw.client.listTools()).tools.map((t) => t.name);

describe('filters, overrides and names that fit', () => {
  let gw: StdioGateway;
  let file: string;
  let listChanged = 0;
  const config = (exclude: string) =>
    [
      'servers:',
      testbedServer('kept', ['--extra-tool', 'hidden_one', '--extra-tool', 'renamed_me']),
      `    tools:`,
      `      exclude: [${exclude}]`,
      '      overrides:',
      '        renamed_me: { name: nice_name, description: Told by the config }',
      testbedServer('longs', ['--extra-tool', LONG_A, '--extra-tool', LONG_B]),
    ].join('\n');

  beforeAll(async () => {
    file = writeConfig(config('"hidden_*", "crash"'));
    gw = await startStdioGateway(['serve', '--config', file]);
    gw.client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      listChanged++;
    });
    await waitForTools(gw.client, ['kept__echo', 'longs__echo']);
  }, 30_000);
  afterAll(() => gw?.close());

  it('serves neither excluded tools nor a renamed tool by its old name', async () => {
    const served = await names(gw);
    expect(served).toContain('kept__nice_name');
    expect(served).not.toContain('kept__hidden_one');
    expect(served).not.toContain('kept__crash');
    expect(served).not.toContain('kept__renamed_me');
    const tool = (await gw.client.listTools()).tools.find((t) => t.name === 'kept__nice_name');
    expect(tool?.description).toBe('Told by the config');
  });

  it('an overridden tool is called by its new name and the backend receives its own', async () => {
    const result = await gw.client.callTool({ name: 'kept__nice_name', arguments: { x: 1 } });
    expect(structured(result)).toMatchObject({ server: 'kept', tool: 'renamed_me' });
  });

  it('call_backend refuses a filtered tool, and calls one that is served', async () => {
    const refused = await gw.client.callTool({
      name: 'call_backend',
      arguments: { server: 'kept', tool: 'hidden_one' },
    });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toMatch(/tool 'hidden_one' of server 'kept' is not served/);
    const ok = await gw.client.callTool({
      name: 'call_backend',
      arguments: { server: 'kept', tool: 'echo' },
    });
    expect(ok.isError).toBeFalsy();
  });

  it('a custom pipeline sent to route_pipeline cannot reach a filtered tool', async () => {
    const pipeline = ['name: sneaky', 'steps:', '  s:', '    server: kept', '    tool: hidden_one'].join(
      '\n',
    );
    const result = await gw.client.callTool({
      name: 'route_pipeline',
      arguments: { scenario: 'custom', pipeline },
    });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/not served/);
  });

  it('names longer than 64 characters are shortened, distinct, and reach the original', async () => {
    const served = (await names(gw)).filter((n) => n.startsWith('longs__fetch'));
    expect(served).toHaveLength(2);
    for (const n of served) expect(n.length).toBeLessThanOrEqual(64);
    expect(served[0]).not.toBe(served[1]);
    for (const n of await names(gw)) expect(n.length).toBeLessThanOrEqual(64);
    const [a, b] = await Promise.all(served.map((name) => gw.client.callTool({ name, arguments: {} })));
    expect(new Set([structured(a).tool, structured(b).tool])).toEqual(new Set([LONG_A, LONG_B]));
    const list = await gw.client.callTool({ name: 'list_servers', arguments: {} });
    const longs = structured<{ servers: { name: string; renamed?: Record<string, string> }[] }>(
      list,
    ).servers.find((s) => s.name === 'longs');
    expect(Object.keys(longs?.renamed ?? {}).sort()).toEqual([LONG_A, LONG_B]);
    expect(Object.values(longs?.renamed ?? {}).sort()).toEqual([...served].sort());
  });

  it('a filter changed in gateway.yaml applies on reload, with list_changed and no backend restart', async () => {
    await waitUntilWatching(gw, file);
    const pid = async () =>
      structured<{ servers: { name: string; pid?: number; restarts?: number }[] }>(
        await gw.client.callTool({ name: 'list_servers', arguments: {} }),
      ).servers.find((s) => s.name === 'kept');
    const before = await pid();
    const seen = listChanged;
    writeFileSync(file, config('"crash"'));
    await waitFor(async () => (await names(gw)).includes('kept__hidden_one'), {
      message: 'hidden_one served',
    });
    expect(listChanged).toBeGreaterThan(seen);
    const after = await pid();
    expect(after?.restarts).toBe(before?.restarts);
    expect(after?.pid).toBe(before?.pid);
    expect((before as { hidden?: string[] }).hidden).toContain('hidden_one');
    expect((after as { hidden?: string[] }).hidden ?? []).not.toContain('hidden_one');
  });
});

describe('pinned tool definitions', () => {
  let gw: StdioGateway;
  let file: string;

  beforeAll(async () => {
    file = writeConfig(['servers:', testbedServer('pinned', [], '    pin: true')].join('\n'));
    gw = await startStdioGateway(['serve', '--config', file]);
    await waitForTools(gw.client, ['pinned__echo']);
  }, 30_000);
  afterAll(() => gw?.close());

  it('a changed definition is withheld until `mcp-gateway tools approve`', async () => {
    await gw.client.callTool({ name: 'pinned__add_tool', arguments: { name: 'grown' } });
    await waitForTools(gw.client, ['pinned__grown']);
    await gw.client.callTool({
      name: 'pinned__add_tool',
      arguments: {
        name: 'grown',
        inputSchema: { type: 'object', properties: { secret: { type: 'string' } } },
      },
    });
    await waitFor(async () => !(await names(gw)).includes('pinned__grown'), { message: 'grown withheld' });
    expect(gw.stderr()).toMatch(/tool 'grown' of server 'pinned' changed its definition; it is withheld/);
    const refused = await gw.client.callTool({
      name: 'call_backend',
      arguments: { server: 'pinned', tool: 'grown' },
    });
    expect(textOf(refused)).toMatch(/tools approve pinned grown/);
    const pins = path.join(path.dirname(file), '.data/tool-pins.json');
    expect(JSON.parse(readFileSync(pins, 'utf8')).pending.pinned.grown).toBeDefined();

    const cli = await runCli(['tools', 'approve', 'pinned', 'grown', '--config', file]);
    expect(cli.code).toBe(0);
    await waitFor(async () => (await names(gw)).includes('pinned__grown'), { message: 'grown served again' });
    const tool = (await gw.client.listTools()).tools.find((t) => t.name === 'pinned__grown');
    expect(tool?.inputSchema.properties).toHaveProperty('secret');
  });

  it('approve_tool (over stdio) serves a withheld tool again', async () => {
    await gw.client.callTool({
      name: 'pinned__add_tool',
      arguments: {
        name: 'grown',
        inputSchema: { type: 'object', properties: { other: { type: 'number' } } },
      },
    });
    await waitFor(async () => !(await names(gw)).includes('pinned__grown'), { message: 'grown withheld' });
    const approved = await gw.client.callTool({
      name: 'approve_tool',
      arguments: { server: 'pinned', tool: 'grown' },
    });
    expect(approved.isError).toBeFalsy();
    await waitFor(async () => (await names(gw)).includes('pinned__grown'), { message: 'grown served again' });
  });
});

describe('resource and prompt filters', () => {
  let gw: StdioGateway;

  beforeAll(async () => {
    const file = writeConfig(
      [
        'servers:',
        testbedServer('open', ['--slow-resources']),
        testbedServer(
          'shut',
          ['--slow-resources'],
          '    resources: { exclude: ["testbed://*"] }\n    prompts: { exclude: ["slow"] }',
        ),
      ].join('\n'),
    );
    gw = await startStdioGateway(['serve', '--config', file]);
    await waitForTools(gw.client, ['open__echo', 'shut__echo']);
  }, 30_000);
  afterAll(() => gw?.close());

  it('a filtered resource is neither listed nor readable; a filtered prompt is not served', async () => {
    const uris = (await gw.client.listResources()).resources.map((r) => r.uri);
    expect(uris).toContain('mcpgw://open/testbed://slow');
    expect(uris).not.toContain('mcpgw://shut/testbed://slow');
    await expect(gw.client.readResource({ uri: 'mcpgw://shut/testbed://slow' })).rejects.toThrow(
      /does not serve it/,
    );
    const prompts = (await gw.client.listPrompts()).prompts.map((p) => p.name);
    expect(prompts).toContain('open__slow');
    expect(prompts).not.toContain('shut__slow');
    await expect(gw.client.getPrompt({ name: 'shut__slow', arguments: { ms: '0' } })).rejects.toThrow(
      /Unknown prompt/,
    );
  });
});
