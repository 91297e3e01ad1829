import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectHttp,
  type HttpGatewayProcess,
  NODE,
  runCli,
  startHttpGateway,
  structured,
  TESTBED,
  testbedServer,
  textOf,
  writeConfig,
} from '../helpers/gateway.js';
import { waitFor } from '../helpers/wait.js';

const TOKEN = 'test-token-0123456789';

/** A raw POST, so a test can send the headers a hostile page or a misconfigured client would. */
function rawPost(
  url: string,
  headers: Record<string, string>,
  body = '{}',
): Promise<{ status: number; body: string }> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Accept: 'application/json, text/event-stream',
          ...headers,
        },
      },
      (res) => {
        let data = '';
        res.on('data', (c: Buffer) => {
          data += c.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const initialize = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
});

describe('gateway over Streamable HTTP', () => {
  let gw: HttpGatewayProcess;

  beforeAll(async () => {
    const config = writeConfig(
      [
        'http:',
        `  allow_commands: [{ command: ${JSON.stringify(NODE)}, args: [${JSON.stringify(TESTBED)}, --name, "*"] }]`,
        'servers:',
        testbedServer('alpha'),
      ].join('\n'),
    );
    gw = await startHttpGateway(['--config', config], { env: { MCP_GATEWAY_TOKEN: TOKEN } });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('listens on loopback at /mcp', () => {
    expect(gw.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
  });

  it('with the token, a client lists tools and calls backends both ways', async () => {
    const client = await connectHttp(gw.url, { token: TOKEN });
    try {
      await waitFor(async () => (await client.listTools()).tools.some((t) => t.name === 'alpha__echo'));
      const direct = await client.callTool({ name: 'alpha__add', arguments: { a: 20, b: 22 } });
      expect(structured(direct)).toEqual({ sum: 42 });
      const routed = await client.callTool({
        name: 'call_backend',
        arguments: { server: 'alpha', tool: 'echo', params: '{"via":"http"}' },
      });
      expect(structured(routed)).toEqual({ server: 'alpha', args: { via: 'http' } });
    } finally {
      await client.close();
    }
  });

  it('refuses a missing or wrong token with 401', async () => {
    await expect(connectHttp(gw.url)).rejects.toThrow(/Missing or wrong bearer token/);
    await expect(connectHttp(gw.url, { token: 'wrong' })).rejects.toThrow(/Missing or wrong bearer token/);
    const raw = await rawPost(gw.url, { Authorization: 'Bearer wrong' }, initialize);
    expect(raw.status).toBe(401);
  });

  it('refuses a foreign Host or Origin header with 403 (DNS rebinding)', async () => {
    const port = new URL(gw.url).port;
    const badHost = await rawPost(
      gw.url,
      { Host: `evil.example.com:${port}`, Authorization: `Bearer ${TOKEN}` },
      initialize,
    );
    expect(badHost.status).toBe(403);
    expect(badHost.body).toContain('evil.example.com');
    const badOrigin = await rawPost(
      gw.url,
      { Origin: 'http://evil.example.com', Authorization: `Bearer ${TOKEN}` },
      initialize,
    );
    expect(badOrigin.status).toBe(403);
  });

  it('answers malformed JSON with a JSON-RPC parse error, and an unknown session with 404', async () => {
    const malformed = await rawPost(gw.url, { Authorization: `Bearer ${TOKEN}` }, '{"jsonrpc":');
    expect(malformed.status).toBe(400);
    expect(malformed.body).toContain('Parse error');
    const unknown = await rawPost(
      gw.url,
      { Authorization: `Bearer ${TOKEN}`, 'mcp-session-id': 'no-such-session' },
      JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    );
    expect(unknown.status).toBe(404);
  });

  it('refuses register_server with a command that is not allow-listed, and takes one that is', async () => {
    const client = await connectHttp(gw.url, { token: TOKEN });
    try {
      const refused = await client.callTool({
        name: 'register_server',
        arguments: { name: 'sneaky', command: 'bash', args: ['-c', 'echo pwned'] },
      });
      expect(refused.isError).toBe(true);
      expect(textOf(refused)).toMatch(/starting 'bash' over HTTP is refused/);

      const allowed = await client.callTool({
        name: 'register_server',
        arguments: { name: 'delta', command: NODE, args: [TESTBED, '--name', 'delta'] },
      });
      expect(allowed.isError).toBeFalsy();
      expect(structured<{ server: { status: string } }>(allowed).server.status).toBe('ready');
      const echoed = await client.callTool({ name: 'delta__echo', arguments: { ok: true } });
      expect(structured(echoed)).toMatchObject({ server: 'delta' });
    } finally {
      await client.close();
    }
  });
});

describe('HTTP bind safety', () => {
  it('refuses to listen beyond loopback without a token', async () => {
    const config = writeConfig('servers: {}\n');
    const result = await runCli(
      ['serve', '--config', config, '--transport', 'streamable-http', '--host', '0.0.0.0', '--port', '0'],
      {
        env: { MCP_GATEWAY_TOKEN: '' },
      },
    );
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/refusing to listen on 0\.0\.0\.0 without a token/);
  });
});
