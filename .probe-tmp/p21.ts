import { startStdioGateway, writeConfig, testbedServer } from '../test/helpers/gateway.ts';
const gw = await startStdioGateway(['--config', writeConfig(['timeout: 5s', 'servers:', testbedServer('looper', ['--exit-after', '150'])].join('\n'))], { env: { MCP_GATEWAY_LOG_LEVEL: 'debug' } });
const t0 = Date.now();
let last = '';
while (Date.now() - t0 < 25000) {
  const l = await gw.client.callTool({ name: 'list_servers', arguments: {} });
  const s = (l.structuredContent as any).servers[0];
  const line = `${s.status} ${s.restarts} ${(s.lastError ?? '').slice(0, 50)}`;
  if (line !== last) { console.log(Date.now() - t0, line); last = line; }
  await new Promise((r) => setTimeout(r, 100));
}
console.log(gw.stderr().split('\n').filter((l) => /looper/.test(l) && !/debug/.test(l)).slice(-8).join('\n'));
await gw.close();
