import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GATEWAY_BIN,
  NODE,
  type StdioGateway,
  startStdioGateway,
  structured,
  tempDir,
  testbedServer,
  waitUntilWatching,
  writeConfig,
} from '../helpers/gateway.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Profiles over stdio (`serve --profile NAME`), with real testbed backends: a small profile lists and
 * calls only its tools (by name and through call_backend), a search profile serves find_tools,
 * describe_tool and call_tool, and an edit of the profile in gateway.yaml reaches the open session
 * with list_changed.
 */
const yaml = (smallTools: string) =>
  [
    'timeout: 5s',
    'servers:',
    testbedServer('alpha'),
    testbedServer('beta'),
    'profiles:',
    '  small:',
    '    servers: [alpha]',
    `    tools: [${smallTools}]`,
    '    meta_tools: [list_servers, call_backend, route_pipeline]',
    '  finder:',
    '    mode: search',
    '    exclude: ["beta__*"]',
    '    meta_tools: []',
  ].join('\n');

const names = async (gw: StdioGateway) => (await gw.client.listTools()).tools.map((t) => t.name).sort();

describe('profiles over stdio', () => {
  const dir = tempDir('mcp-gateway-profiles-');
  const file = writeConfig(yaml('alpha__echo, alpha__add'), dir);
  let small: StdioGateway;
  let finder: StdioGateway;
  let listChanged = 0;

  beforeAll(async () => {
    [small, finder] = await Promise.all([
      startStdioGateway(['serve', '--config', file, '--profile', 'small'], {
        env: { MCP_GATEWAY_LOG_LEVEL: 'info' },
      }),
      startStdioGateway(['serve', '--config', path.join(dir, 'gateway.yaml'), '--profile', 'finder']),
    ]);
    small.client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      listChanged++;
    });
    await waitFor(async () => (await names(small)).includes('alpha__add'));
    await waitUntilWatching(small, file);
  }, 30_000);
  afterAll(async () => {
    await Promise.all([small?.close(), finder?.close()]);
  });

  it('a small profile lists only its tools and meta tools', async () => {
    expect(await names(small)).toEqual([
      'alpha__add',
      'alpha__echo',
      'call_backend',
      'list_servers',
      'route_pipeline',
    ]);
  });

  it('a tool outside the profile is unknown, by name and through call_backend', async () => {
    await expect(small.client.callTool({ name: 'beta__echo', arguments: {} })).rejects.toThrow(/beta__echo/);
    await expect(small.client.callTool({ name: 'alpha__sleep', arguments: { ms: 1 } })).rejects.toThrow();
    const viaMeta = await small.client.callTool({
      name: 'call_backend',
      arguments: { server: 'beta', tool: 'echo', params: {} },
    });
    expect(viaMeta.isError).toBe(true);
    expect(JSON.stringify(viaMeta.content)).toMatch(/profile 'small' has no tool 'echo' of server 'beta'/);
    const custom = await small.client.callTool({
      name: 'route_pipeline',
      arguments: {
        scenario: 'custom',
        pipeline: JSON.stringify({ name: 'sneak', steps: { s: { server: 'beta', tool: 'echo', args: {} } } }),
      },
    });
    expect(custom.isError).toBe(true);
    expect(JSON.stringify(custom.content)).toMatch(/runs only named pipelines, not custom ones/);
    const allowed = await small.client.callTool({ name: 'alpha__add', arguments: { a: 2, b: 3 } });
    expect(structured<{ sum: number }>(allowed).sum).toBe(5);
  });

  it('list_servers shows only the profile’s servers and, of them, its tools', async () => {
    const listed = structured(await small.client.callTool({ name: 'list_servers', arguments: {} })) as {
      servers: { name: string; tools: string[]; toolCount: number }[];
    };
    expect(listed.servers.map((s) => s.name)).toEqual(['alpha']);
    expect(listed.servers[0]?.tools.sort()).toEqual(['add', 'echo']);
    expect(listed.servers[0]?.toolCount).toBe(2);
  });

  it('a search profile serves find_tools, describe_tool and call_tool over its view', async () => {
    await waitFor(async () => {
      const r = await finder.client.callTool({
        name: 'find_tools',
        arguments: { query: 'sum of two numbers' },
      });
      return structured<{ tools: { name: string }[] }>(r).tools.some((t) => t.name === 'alpha__add');
    });
    expect(await names(finder)).toEqual(['call_tool', 'describe_tool', 'find_tools']);
    const found = await finder.client.callTool({
      name: 'find_tools',
      arguments: { query: 'echo', limit: 20 },
    });
    const hits = structured<{ tools: { name: string }[] }>(found).tools.map((t) => t.name);
    expect(hits).toContain('alpha__echo');
    expect(hits).not.toContain('beta__echo');
    const described = await finder.client.callTool({
      name: 'describe_tool',
      arguments: { name: 'alpha__add' },
    });
    expect(structured<{ inputSchema: unknown }>(described).inputSchema).toMatchObject({ type: 'object' });
    const called = await finder.client.callTool({
      name: 'call_tool',
      arguments: { name: 'alpha__add', arguments: { a: 4, b: 5 } },
    });
    expect(structured<{ sum: number }>(called).sum).toBe(9);
    const hidden = await finder.client.callTool({ name: 'call_tool', arguments: { name: 'beta__echo' } });
    expect(hidden.isError).toBe(true);
    await expect(finder.client.callTool({ name: 'alpha__add', arguments: { a: 1, b: 1 } })).rejects.toThrow();
  });

  it('an edited profile reaches the open session with list_changed', async () => {
    const before = listChanged;
    writeConfig(yaml('alpha__echo'), dir);
    await waitFor(() => listChanged > before, { timeoutMs: 15_000 });
    await waitFor(async () => !(await names(small)).includes('alpha__add'));
    expect(await names(small)).toEqual(['alpha__echo', 'call_backend', 'list_servers', 'route_pipeline']);
  });

  it('mcp-gateway list --profile shows what the profile serves', () => {
    const run = (profile: string) =>
      spawnSync(NODE, [GATEWAY_BIN, 'list', '--config', file, '--profile', profile], { encoding: 'utf8' });
    const listed = run('small');
    expect(listed.status).toBe(0);
    expect(listed.stdout).toMatch(
      /^profile small \(full list\); meta tools: list_servers, call_backend, route_pipeline/,
    );
    expect(listed.stdout).toContain('  echo — ');
    expect(listed.stdout).not.toContain('beta');
    expect(listed.stdout).not.toContain('  sleep');
    const unknown = run('smal');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("no profile 'smal' in the config; profiles: small, finder");
  });
});
