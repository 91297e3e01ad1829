/**
 * The HTTP endpoint under hostile requests: tokens, DNS rebinding, oversized and malformed bodies,
 * unknown sessions, and clients that open sessions and walk away. The first suite drives the real
 * gateway process; the second starts the HTTP front in process to shrink its idle and count limits.
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import { Server } from '@modelcontextprotocol/server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type HttpFront, MAX_BODY_BYTES, startHttpFront } from '../../src/front/http.js';
import { silentLogger } from '../../src/log.js';
import {
  connectHttp,
  type HttpGatewayProcess,
  startHttpGateway,
  structured,
  testbedServer,
  writeConfig,
} from '../helpers/gateway.js';
import {
  INITIALIZE,
  MCP_ACCEPT,
  openRawSession,
  rawListTools,
  rawRequest,
  rssKiB,
} from '../helpers/http-raw.js';
import { waitFor } from '../helpers/wait.js';

const TOKEN = 'hardening-token-3f9c1e7a5b';

/** Writes `text` on a fresh TCP connection to 127.0.0.1:port and resolves with what comes back. */
function rawSocket(port: string, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.end(text));
    let data = '';
    socket.on('data', (c: Buffer) => {
      data += c.toString();
    });
    socket.on('close', () => resolve(data));
    socket.on('error', reject);
    socket.setTimeout(5_000, () => socket.destroy());
  });
}
const AUTH = { Authorization: `Bearer ${TOKEN}` };
const MiB = 1024 * 1024;

describe('HTTP endpoint under hostile requests (gateway process)', () => {
  let gw: HttpGatewayProcess;
  let url: string;
  let port: string;

  beforeAll(async () => {
    const config = writeConfig(['servers:', testbedServer('alpha')].join('\n'));
    gw = await startHttpGateway(['--config', config], { env: { MCP_GATEWAY_TOKEN: TOKEN } });
    url = gw.url;
    port = new URL(url).port;
  });
  afterAll(async () => {
    await gw?.close();
  });

  /** The gateway still serves a well-behaved client, end to end. */
  async function stillServes(): Promise<void> {
    const client = await connectHttp(url, { token: TOKEN });
    try {
      await waitFor(async () => (await client.listTools()).tools.some((t) => t.name === 'alpha__echo'));
      const echoed = await client.callTool({ name: 'alpha__echo', arguments: { ok: 1 } });
      expect(structured(echoed)).toEqual({ server: 'alpha', args: { ok: 1 } });
    } finally {
      await client.close();
    }
  }

  it('refuses every missing or wrong token with 401 and a WWW-Authenticate challenge', async () => {
    const wrong: Record<string, string>[] = [
      {},
      { Authorization: '' },
      { Authorization: 'Bearer' },
      { Authorization: 'Bearer ' },
      { Authorization: `Bearer ${TOKEN.slice(0, -1)}` },
      { Authorization: `Bearer ${TOKEN}x` },
      { Authorization: `Bearer ${TOKEN.toUpperCase()}` },
      { Authorization: `Bearer x${TOKEN.slice(1)}` },
      { Authorization: `Basic ${Buffer.from(`user:${TOKEN}`).toString('base64')}` },
      { Authorization: `Token ${TOKEN}` },
      { Authorization: TOKEN },
      { Authorization: `Bearer ${'a'.repeat(8_000)}` },
      { Authorization: `Bearer ${TOKEN} ${TOKEN}` },
    ];
    for (const headers of wrong) {
      const res = await rawRequest(url, { headers, body: INITIALIZE });
      expect(res.status, JSON.stringify(headers).slice(0, 80)).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer /);
      expect(res.body).not.toContain(TOKEN);
    }
    const right = await rawRequest(url, { headers: AUTH, body: INITIALIZE });
    expect(right.status).toBe(200);
    // The scheme is case-insensitive (RFC 9110); the token is not.
    const lower = await rawRequest(url, { headers: { Authorization: `bearer ${TOKEN}` }, body: INITIALIZE });
    expect(lower.status).toBe(200);
  });

  it('refuses DNS-rebinding Host and Origin headers with 403, before looking at the token', async () => {
    const hosts = [
      `evil.example.com:${port}`,
      `localhost.evil.example.com:${port}`,
      `127.0.0.1.nip.io:${port}`,
      `:${port}`,
      `127.0.0.1@evil.example.com:${port}`,
    ];
    for (const host of hosts) {
      for (const headers of [{ Host: host }, { Host: host, ...AUTH }]) {
        const res = await rawRequest(url, { headers, body: INITIALIZE });
        expect(res.status, `Host: ${host}`).toBe(403);
      }
    }
    const origins = [
      'http://evil.example.com',
      `http://evil.example.com:${port}`,
      'null',
      `http://localhost@evil.example.com`,
      `http://localhost.evil.example.com:${port}`,
      'file://',
      'not a url',
    ];
    for (const origin of origins) {
      const res = await rawRequest(url, { headers: { Origin: origin, ...AUTH }, body: INITIALIZE });
      expect(res.status, `Origin: ${origin}`).toBe(403);
    }
    for (const version of ['1.0', '1.1']) {
      const noHost = await rawSocket(
        port,
        `POST /mcp HTTP/${version}\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: ${INITIALIZE.length}\r\n\r\n${INITIALIZE}`,
      );
      expect(noHost, `HTTP/${version} without Host`).toMatch(/^HTTP\/1\.[01] (400|403) /);
    }
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `LOCALHOST:${port}`]) {
      const res = await rawRequest(url, {
        headers: { Host: host, Origin: `http://localhost:${port}`, ...AUTH },
        body: INITIALIZE,
      });
      expect(res.status, `Host: ${host}`).toBe(200);
    }
  });

  it('refuses an oversized body with 413, declared or streamed, without reading it all', async () => {
    const declared = await rawRequest(url, {
      headers: { ...AUTH, 'Content-Length': String(64 * MiB) },
      body: Buffer.alloc(MiB, 'a'),
    });
    expect(declared.status).toBe(413);
    expect(declared.body).toContain('Request body too large');
    expect(declared.headers.connection).toBe('close');

    // Chunked: no content-length, the bound is counted while reading. 64 MiB offered; the
    // connection is closed soon after the bound, so the upload stops early.
    const start = Date.now();
    const chunk = Buffer.alloc(MiB, '[');
    const streamed = await rawRequest(url, { headers: AUTH, body: Array(64).fill(chunk) });
    expect(streamed.status === 413 || streamed.error !== undefined).toBe(true);
    if (streamed.status === 413) expect(streamed.body).toContain(`limit ${MAX_BODY_BYTES} bytes`);
    expect(Date.now() - start).toBeLessThan(10_000);

    const justUnder = await rawRequest(url, {
      headers: AUTH,
      body: JSON.stringify({ pad: 'x'.repeat(MAX_BODY_BYTES - 100) }),
    });
    expect(justUnder.status).toBe(400); // not an initialize, no session: refused, but read in full
    await stillServes();
  });

  it('answers malformed JSON-RPC with errors, never a crash', async () => {
    const sid = await openRawSession(url, AUTH);
    const inSession = { ...AUTH, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' };
    const cases: [string, Record<string, string>, string, number, RegExp?][] = [
      ['truncated JSON', AUTH, '{"jsonrpc":', 400, /Parse error/],
      ['empty body', AUTH, '', 400, /Parse error/],
      ['not JSON at all', AUTH, '<xml/>', 400, /Parse error/],
      ['a string, no session', AUTH, '"hello"', 400, /send initialize first/],
      ['a number, no session', AUTH, '42', 400, /send initialize first/],
      ['null, no session', AUTH, 'null', 400, /send initialize first/],
      ['batch garbage, no session', AUTH, '[1, 2, {"x": 1}]', 400, /send initialize first/],
      ['a string, in a session', inSession, '"hello"', 400, /Invalid JSON-RPC message/],
      ['batch garbage, in a session', inSession, '[1, 2, {"x": 1}]', 400, /Invalid JSON-RPC message/],
      ['a batch of invalid requests', inSession, '[{"jsonrpc":"1.0","id":1}]', 400, /Invalid JSON-RPC/],
      ['initialize again, in a session', inSession, INITIALIZE, 400, /already initialized/],
      [
        'an unknown method',
        inSession,
        JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'no/such/method' }),
        200,
        /Method not found/,
      ],
      [
        'tools/call with a non-string name',
        inSession,
        JSON.stringify({ jsonrpc: '2.0', id: 6, method: 'tools/call', params: { name: 5 } }),
        200,
        /"error"/,
      ],
      [
        'tools/call of an unknown tool',
        inSession,
        JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'nope__nope' } }),
        200,
        /Unknown tool/,
      ],
      [
        'deeply nested params',
        inSession,
        `{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"alpha__echo","arguments":{"a":${'['.repeat(50_000)}${']'.repeat(50_000)}}}}`,
        200,
        /"id":8/,
      ],
    ];
    for (const [label, headers, body, status, pattern] of cases) {
      const res = await rawRequest(url, { headers, body });
      expect(res.status, label).toBe(status);
      if (pattern) expect(res.body, label).toMatch(pattern);
    }
    const wrongType = await rawRequest(url, {
      headers: { ...inSession, 'Content-Type': 'text/plain' },
      body: '{}',
    });
    expect(wrongType.status).toBe(415);
    const put = await rawRequest(url, { method: 'PUT', headers: AUTH, body: '{}' });
    expect(put.status).toBe(405);
    const elsewhere = await rawRequest(url.replace(/\/mcp$/, '/admin'), { headers: AUTH, body: '{}' });
    expect(elsewhere.status).toBe(404);
    expect((await rawListTools(url, sid, AUTH)).tools).toContain('alpha__echo');
    await stillServes();
  });

  it('answers an unknown session id with 404 on POST, GET and DELETE, quoting it only in part', async () => {
    const list = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    for (const id of ['no-such-session', '00000000-0000-0000-0000-000000000000', 'x'.repeat(4_000)]) {
      for (const method of ['POST', 'GET', 'DELETE']) {
        const res = await rawRequest(url, {
          method,
          headers: { ...AUTH, 'mcp-session-id': id },
          body: method === 'POST' ? list : undefined,
        });
        expect(res.status, `${method} ${id.slice(0, 20)}`).toBe(404);
        expect(res.body.length).toBeLessThan(300);
      }
    }
  });

  it('keeps serving with 300 sessions opened and dropped, and closes the ones deleted', async () => {
    const pid = gw.child.pid!;
    const rssBefore = await rssKiB(pid);
    const ids: string[] = [];
    for (let batch = 0; batch < 15; batch++) {
      ids.push(...(await Promise.all(Array.from({ length: 20 }, () => openRawSession(url, AUTH)))));
    }
    expect(new Set(ids).size).toBe(300);
    const deleted = ids.slice(0, 100);
    for (const id of deleted) {
      const res = await rawRequest(url, { method: 'DELETE', headers: { ...AUTH, 'mcp-session-id': id } });
      expect(res.status).toBe(200);
    }
    for (const id of deleted.slice(0, 20)) expect((await rawListTools(url, id, AUTH)).status).toBe(404);
    for (const id of ids.slice(-20))
      expect((await rawListTools(url, id, AUTH)).tools).toContain('alpha__echo');
    await stillServes();
    const rssAfter = await rssKiB(pid);
    // /proc is Linux's; there the figures must be read, not silently missing.
    if (process.platform === 'linux') {
      expect(rssBefore, 'RSS before').toBeDefined();
      expect(rssAfter, 'RSS after').toBeDefined();
      // A sanity bound, not a measurement: 300 sessions must not cost hundreds of megabytes.
      expect((rssAfter ?? 0) - (rssBefore ?? 0)).toBeLessThan(200 * 1024);
    }
  });

  it('never logs the token', () => {
    expect(gw.stderr()).not.toContain(TOKEN);
  });
});

describe('HTTP session bounds (front in process, small limits)', () => {
  let front: HttpFront | undefined;
  let created = 0;
  let closed = 0;

  function session(): Server {
    const server = new Server({ name: 'bounds', version: '1' }, { capabilities: { tools: {} } });
    created++;
    server.onclose = () => {
      closed++;
    };
    server.setRequestHandler('tools/list', () => ({
      tools: [{ name: 'only', inputSchema: { type: 'object' } }],
    }));
    return server;
  }

  async function start(sessionIdleMs: number, maxSessions: number): Promise<string> {
    front = await startHttpFront({
      settings: { host: '127.0.0.1', port: 0, allowedHosts: [], allowCommands: [], allowUrlHosts: [] },
      createSession: session,
      logger: silentLogger,
      sessionIdleMs,
      maxSessions,
    });
    return front.url;
  }

  /** Opens a GET stream on a session and keeps it open until the returned function is called. */
  async function holdStream(url: string, sessionId: string): Promise<() => void> {
    const target = new URL(url);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'GET',
          headers: { Accept: MCP_ACCEPT, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' },
        },
        (res) => {
          if (res.statusCode !== 200) reject(new Error(`GET stream: ${res.statusCode}`));
          else resolve(() => req.destroy());
        },
      );
      req.on('error', () => {});
      req.end();
    });
  }

  afterEach(async () => {
    await front?.close();
    front = undefined;
    created = 0;
    closed = 0;
  });

  it('closes sessions idle longer than the limit; a session with an open stream is not idle', async () => {
    const url = await start(300, 100);
    const idle = await openRawSession(url);
    const streaming = await openRawSession(url);
    const release = await holdStream(url, streaming);
    expect(front!.sessionCount()).toBe(2);
    await waitFor(() => front!.sessionCount() === 1, { timeoutMs: 3_000 });
    expect((await rawListTools(url, idle)).status).toBe(404);
    expect((await rawListTools(url, streaming)).tools).toEqual(['only']);
    release();
    await waitFor(() => front!.sessionCount() === 0, { timeoutMs: 3_000 });
    expect((await rawListTools(url, streaming)).status).toBe(404);
  });

  it('at the session limit a new session replaces the one idle longest; with all busy it is 503', async () => {
    const url = await start(60_000, 5);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await openRawSession(url));
    await rawListTools(url, ids[0]!); // the first is now more recent than the second
    const sixth = await openRawSession(url);
    expect(front!.sessionCount()).toBe(5);
    expect((await rawListTools(url, ids[1]!)).status).toBe(404);
    for (const id of [ids[0]!, ...ids.slice(2), sixth])
      expect((await rawListTools(url, id)).status).toBe(200);

    const live = [ids[0]!, ...ids.slice(2), sixth];
    const releases = await Promise.all(live.map((id) => holdStream(url, id)));
    const refused = await rawRequest(url, { body: INITIALIZE });
    expect(refused.status).toBe(503);
    expect(refused.body).toContain('Too many open sessions');
    releases[0]!();
    await waitFor(async () => (await rawRequest(url, { body: INITIALIZE })).status === 200, {
      timeoutMs: 3_000,
    });
    expect(front!.sessionCount()).toBe(5);
    for (const release of releases) release();
  });

  it('an initialize refused by the transport leaves no session behind', async () => {
    const url = await start(60_000, 5);
    for (let i = 0; i < 20; i++) {
      const res = await rawRequest(url, { headers: { Accept: 'text/html' }, body: INITIALIZE });
      expect(res.status).toBe(406);
    }
    expect(front!.sessionCount()).toBe(0);
    // Each refused initialize made a server; every one of them was closed (none left subscribed).
    await waitFor(() => closed === created);
    expect(created).toBe(20);
  });
});
