import { request } from 'node:http';
import { startHttpGateway, writeConfig, testbedServer } from '../test/helpers/gateway.ts';
const TOKEN = 'tok-123';
const gw = await startHttpGateway(['--config', writeConfig(['servers:', testbedServer('alpha')].join('\n'))], { env: { MCP_GATEWAY_TOKEN: TOKEN } });
const u = new URL(gw.url);
function send(opts: { method?: string; headers?: Record<string, string>; chunks?: (string | Buffer)[]; chunked?: boolean }): Promise<{ status: number; body: string; headers: any; err?: string }> {
  return new Promise((resolve) => {
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: opts.method ?? 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', Authorization: `Bearer ${TOKEN}`, ...opts.headers } }, (res) => {
      let data = ''; res.on('data', (c) => { data += c; if (data.length > 2000) res.destroy(); }); res.on('end', () => resolve({ status: res.statusCode!, body: data.slice(0, 300), headers: res.headers })); res.on('close', () => resolve({ status: res.statusCode!, body: data.slice(0, 300), headers: res.headers }));
    });
    req.on('error', (e) => resolve({ status: 0, body: '', headers: {}, err: e.message }));
    (async () => { for (const c of opts.chunks ?? []) { if (!req.write(c)) await new Promise((r) => req.once('drain', r)); } req.end(); })().catch((e) => resolve({ status: -1, body: '', headers: {}, err: e.message }));
  });
}
const init = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
const r0 = await send({ chunks: [init] });
const sid = r0.headers['mcp-session-id'];
console.log('init', r0.status, sid);
await send({ headers: { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' }, chunks: [JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })] });
const big = Buffer.alloc(1024 * 1024, 'a');
const cases: [string, Parameters<typeof send>[0]][] = [
  ['declared oversize', { headers: { 'Content-Length': String(5 * 1024 * 1024) }, chunks: [big, big, big, big, big] }],
  ['streamed oversize (chunked)', { chunks: Array(6).fill(big) }],
  ['parse error', { chunks: ['{"jsonrpc":'] }],
  ['non-object string', { chunks: ['"hello"'] }],
  ['number', { chunks: ['42'] }],
  ['null', { chunks: ['null'] }],
  ['empty body', { chunks: [''] }],
  ['batch garbage no session', { chunks: ['[1,2,{"x":1}]'] }],
  ['batch garbage with session', { headers: { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' }, chunks: ['[1,2,{"x":1}]'] }],
  ['empty batch with session', { headers: { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' }, chunks: ['[]'] }],
  ['non-object with session', { headers: { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' }, chunks: ['"x"'] }],
  ['unknown method with session', { headers: { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' }, chunks: [JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'nope' })] }],
  ['bad params tools/call', { headers: { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' }, chunks: [JSON.stringify({ jsonrpc: '2.0', id: 6, method: 'tools/call', params: { name: 5 } })] }],
  ['wrong content type', { headers: { 'Content-Type': 'text/plain', 'mcp-session-id': sid }, chunks: ['{}'] }],
  ['unknown session', { headers: { 'mcp-session-id': 'nope' }, chunks: [JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' })] }],
  ['GET unknown session', { method: 'GET', headers: { 'mcp-session-id': 'nope' } }],
  ['PUT', { method: 'PUT' }],
  ['second initialize in session', { headers: { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' }, chunks: [init] }],
  ['bearer lowercase', { headers: { Authorization: `bearer ${TOKEN}` }, chunks: ['{'] }],
  ['token prefix', { headers: { Authorization: `Bearer ${TOKEN.slice(0, -1)}` }, chunks: ['{'] }],
  ['token suffix', { headers: { Authorization: `Bearer ${TOKEN}x` }, chunks: ['{'] }],
  ['Basic', { headers: { Authorization: `Basic ${TOKEN}` }, chunks: ['{'] }],
  ['double header', { headers: { Authorization: `Bearer x, Bearer ${TOKEN}` }, chunks: ['{'] }],
  ['host with port only', { headers: { Host: `:${u.port}` }, chunks: ['{'] }],
  ['host localhost.evil', { headers: { Host: `localhost.evil.com` }, chunks: ['{'] }],
  ['host 127.0.0.1.nip.io', { headers: { Host: `127.0.0.1.nip.io:${u.port}` }, chunks: ['{'] }],
  ['origin null', { headers: { Origin: 'null' }, chunks: ['{'] }],
  ['origin localhost', { headers: { Origin: `http://localhost:${u.port}` }, chunks: ['{'] }],
  ['origin evil w/ localhost userinfo', { headers: { Origin: `http://localhost@evil.com` }, chunks: ['{'] }],
];
for (const [label, opts] of cases) {
  const t = performance.now();
  const r = await send(opts);
  console.log(label.padEnd(32), r.status, (performance.now() - t).toFixed(0) + 'ms', r.err ?? '', r.body.slice(0, 160).replace(/\n/g, '\\n'));
}
const after = await send({ chunks: [init] });
console.log('still serving', after.status);
await gw.close();
console.log(gw.stderr().split('\n').filter((l) => /error|warn/i.test(l)).slice(0, 10).join('\n'));
