import { startStdioGateway, writeConfig, testbedServer } from '../test/helpers/gateway.ts';
const gw = await startStdioGateway(['--config', writeConfig(['timeout: 3s', 'servers:', testbedServer('quitter', ['--exit-after-initialize'])].join('\n'))], { env: { MCP_GATEWAY_LOG_LEVEL: 'debug' } });
const t0 = Date.now();
for (let i = 0; i < 8; i++) {
  const l = await gw.client.callTool({ name: 'list_servers', arguments: {} });
  const s = (l.structuredContent as any).servers[0];
  console.log(Date.now() - t0, s.status, s.restarts, s.lastError);
  await new Promise((r) => setTimeout(r, 1000));
}
await gw.close();
