import { startStdioGateway, writeConfig, testbedServer } from '../test/helpers/gateway.ts';
const N = 8;
const names = Array.from({ length: N }, (_, i) => `looper${i}`);
const gw = await startStdioGateway(['--config', writeConfig(['timeout: 5s', 'servers:', ...names.map((n) => testbedServer(n, ['--exit-after', '150']))].join('\n'))], { env: { MCP_GATEWAY_LOG_LEVEL: 'debug' } });
const t0 = Date.now();
const lastChange = new Map<string, [number, string]>();
let stuck = new Set<string>();
while (Date.now() - t0 < 40000) {
  const l = await gw.client.callTool({ name: 'list_servers', arguments: {} });
  for (const s of (l.structuredContent as any).servers) {
    const key = `${s.status} ${s.restarts}`;
    const prev = lastChange.get(s.name);
    if (!prev || prev[1] !== key) lastChange.set(s.name, [Date.now(), key]);
    else if (Date.now() - prev[0] > 12000 && !stuck.has(s.name) && s.restarts < 6) { stuck.add(s.name); console.log('STUCK', s.name, key, Date.now() - t0); }
  }
  await new Promise((r) => setTimeout(r, 200));
}
for (const name of stuck) console.log(gw.stderr().split('\n').filter((l) => l.includes(`/${name}:`)).slice(-14).join('\n'));
console.log('done', [...lastChange.entries()].map(([n, [, k]]) => `${n}=${k}`).join(' '));
await gw.close();
