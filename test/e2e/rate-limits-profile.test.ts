/**
 * `rate_limits.per_profile` over HTTP, counters in the process (no Redis): the calls made at one
 * profile endpoint count together whoever makes them; another profile, and `/mcp` (not a profile),
 * have their own count.
 */
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type HttpGatewayProcess,
  startHttpGateway,
  tempDir,
  testbedServer,
  writeConfig,
} from '../helpers/gateway.js';
import { MCP_ACCEPT, rawRequest } from '../helpers/http-raw.js';
import { waitFor } from '../helpers/wait.js';

let gw: HttpGatewayProcess;
const clients: Client[] = [];

beforeAll(async () => {
  const config = writeConfig(
    [
      'rate_limits:',
      '  per_profile: { calls: 2, per: 1h }',
      'servers:',
      testbedServer('tb'),
      'profiles:',
      '  one: { meta_tools: [] }',
      '  two: { meta_tools: [] }',
    ].join('\n'),
    tempDir(),
  );
  gw = await startHttpGateway(['--config', config]);
}, 30_000);

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await gw?.close();
});

async function connect(path: string, name: string): Promise<Client> {
  const client = new Client({ name, version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${gw.url}${path}`)));
  clients.push(client);
  await waitFor(async () => (await client.listTools()).tools.some((t) => t.name === 'tb__echo'), {
    timeoutMs: 20_000,
  });
  return client;
}

const echo = (client: Client) => client.callTool({ name: 'tb__echo', arguments: {} });

describe('rate_limits.per_profile', () => {
  it('counts the calls at one profile endpoint over all its callers; other endpoints count apart', async () => {
    const [first, second, other, plain] = await Promise.all([
      connect('/one', 'first'),
      connect('/one', 'second'),
      connect('/two', 'other'),
      connect('', 'plain'),
    ]);
    expect((await echo(first)).isError).toBeFalsy();
    expect((await echo(second)).isError).toBeFalsy();
    // The third call at /mcp/one, from either client, is over the limit.
    await expect(echo(first)).rejects.toThrow(/Rate limit reached \(rate_limits\.per_profile\)/);
    await expect(echo(second)).rejects.toThrow(/rate_limits\.per_profile/);
    for (let i = 0; i < 2; i++) expect((await echo(other)).isError).toBeFalsy();
    for (let i = 0; i < 3; i++) expect((await echo(plain)).isError).toBeFalsy();
  });

  it('answers HTTP 429 with Retry-After and RATE_LIMITED', async () => {
    const init = await rawRequest(`${gw.url}/one`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: MCP_ACCEPT },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-11-25',
          capabilities: {},
          clientInfo: { name: 'raw', version: '1' },
        },
      }),
    });
    const session = init.headers['mcp-session-id'];
    expect(session).toBeTruthy();
    const call = await rawRequest(`${gw.url}/one`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: MCP_ACCEPT,
        'mcp-session-id': String(session),
        'mcp-protocol-version': '2025-11-25',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: { name: 'tb__echo', arguments: {} },
      }),
    });
    expect(call.status).toBe(429);
    expect(Number(call.headers['retry-after'])).toBeGreaterThan(0);
    expect(call.body).toContain('RATE_LIMITED');
  });
});
