import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ROOT,
  type StdioGateway,
  startStdioGateway,
  structured,
  tempDir,
  textOf,
  waitForTools,
} from '../helpers/gateway.js';
import { startNwsFixture } from '../helpers/nws-fixture-server.js';

/**
 * The shipped gateway.yaml, as a new user runs it: weather (against recorded NWS data served
 * locally), sqlite (a fresh sample database) and the filesystem server in a sandbox; plus two
 * third-party reference servers brought in with --auto-register from a Claude Desktop style file.
 */
describe('the default gateway.yaml with its bundled backends and third-party servers', () => {
  const data = tempDir('mcp-gateway-data-');
  let nws: Awaited<ReturnType<typeof startNwsFixture>>;
  let gw: StdioGateway;

  beforeAll(async () => {
    nws = await startNwsFixture();
    mkdirSync(path.join(data, 'sandbox'), { recursive: true });
    const claudeDesktop = path.join(data, 'claude_desktop_config.json');
    writeFileSync(
      claudeDesktop,
      JSON.stringify({
        mcpServers: {
          everything: {
            command: process.execPath,
            args: [
              path.join(ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js'),
              'stdio',
            ],
          },
          memory: {
            command: process.execPath,
            args: [path.join(ROOT, 'node_modules/@modelcontextprotocol/server-memory/dist/index.js')],
            env: { MEMORY_FILE_PATH: path.join(data, 'memory.jsonl') },
          },
        },
      }),
    );
    gw = await startStdioGateway(
      ['serve', '--config', path.join(ROOT, 'gateway.yaml'), '--auto-register', claudeDesktop],
      { env: { NWS_API_BASE: nws.url, MCP_GATEWAY_DATA: data } },
    );
    const expected = [
      'weather__get_alerts',
      'sqlite__read_query',
      'filesystem__write_file',
      'everything__echo',
      'memory__read_graph',
    ];
    await waitForTools(gw.client, expected);
  });
  afterAll(async () => {
    await gw?.close();
    await nws?.close();
  });

  it('weather answers from the NWS API at NWS_API_BASE', async () => {
    const alerts = await gw.client.callTool({ name: 'weather__get_alerts', arguments: { state: 'CA' } });
    expect(alerts.isError).toBeFalsy();
    expect(structured<{ count: number }>(alerts).count).toBeGreaterThan(0);
    const forecast = await gw.client.callTool({
      name: 'call_backend',
      arguments: {
        server: 'weather',
        tool: 'get_forecast',
        params: { latitude: 37.7749, longitude: -122.4194 },
      },
    });
    expect(forecast.isError).toBeFalsy();
    expect(structured<{ periods: unknown[] }>(forecast).periods.length).toBeGreaterThan(0);
    expect(nws.requests.some((r) => r.includes('/gridpoints/'))).toBe(true);
  });

  it('sqlite creates its sample database on first start and answers read-only queries', async () => {
    const tables = await gw.client.callTool({ name: 'sqlite__list_tables', arguments: {} });
    expect(structured<{ tables: string[] }>(tables).tables).toEqual(['customers', 'orders', 'products']);
    const rows = await gw.client.callTool({
      name: 'sqlite__read_query',
      arguments: { query: 'SELECT count(*) AS n FROM customers' },
    });
    expect(structured<{ rows: { n: number }[] }>(rows).rows[0]?.n).toBeGreaterThan(0);
    const write = await gw.client.callTool({
      name: 'sqlite__read_query',
      arguments: { query: 'DELETE FROM customers' },
    });
    expect(write.isError).toBe(true);
  });

  it('filesystem reads and writes inside its sandbox only', async () => {
    const file = path.join(data, 'sandbox', 'hello.txt');
    const written = await gw.client.callTool({
      name: 'filesystem__write_file',
      arguments: { path: file, content: 'hello from the gateway' },
    });
    expect(written.isError).toBeFalsy();
    expect(readFileSync(file, 'utf8')).toBe('hello from the gateway');
    const outside = await gw.client.callTool({
      name: 'filesystem__read_file',
      arguments: { path: path.join(data, 'memory.jsonl') },
    });
    expect(outside.isError).toBe(true);
  });

  it('server-everything and server-memory work through the gateway (from --auto-register)', async () => {
    const echo = await gw.client.callTool({
      name: 'everything__echo',
      arguments: { message: 'through the gateway' },
    });
    expect(textOf(echo)).toContain('through the gateway');

    const created = await gw.client.callTool({
      name: 'memory__create_entities',
      arguments: {
        entities: [{ name: 'gateway', entityType: 'software', observations: ['routes MCP calls'] }],
      },
    });
    expect(created.isError).toBeFalsy();
    const graph = await gw.client.callTool({ name: 'memory__read_graph', arguments: {} });
    expect(textOf(graph)).toContain('routes MCP calls');

    const { servers } = structured<{ servers: { name: string; source: { kind: string } }[] }>(
      await gw.client.callTool({ name: 'list_servers', arguments: {} }),
    );
    expect(servers.find((s) => s.name === 'memory')?.source.kind).toBe('auto-register');
  });
});
