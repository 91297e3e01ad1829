/**
 * A real gateway serving the shipped gateway.yaml (weather against recorded NWS data, sqlite,
 * filesystem in a temp sandbox) with the web console on, for the console's tests.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type HttpGatewayProcess, ROOT, startHttpGateway, tempDir } from './gateway.js';
import { type NwsFixture, startNwsFixture } from './nws-fixture-server.js';

export interface ConsoleGateway {
  /** `http://127.0.0.1:<port>` */
  base: string;
  token: string;
  gw: HttpGatewayProcess;
  close(): Promise<void>;
}

/**
 * gateway.yaml with `http.console` set as asked and its relative paths made absolute, so it can be
 * written to a temp folder.
 */
export function bundledConfig(
  consoleOn: boolean,
  dir = tempDir('mcp-gateway-console-'),
  pipelinesDir = `${ROOT}/pipelines`,
): string {
  const text = readFileSync(path.join(ROOT, 'gateway.yaml'), 'utf8')
    .replaceAll('dist/servers/', `${ROOT}/dist/servers/`)
    .replaceAll('node_modules/', `${ROOT}/node_modules/`)
    .replace('pipelines: ./pipelines', `pipelines: ${pipelinesDir}`)
    .replace(/^ {2}allow_commands: \[\].*$/m, `  allow_commands: []\n  console: ${consoleOn}`);
  if (!text.includes(`console: ${consoleOn}`))
    throw new Error('gateway.yaml changed shape: no http.allow_commands line');
  const file = path.join(dir, 'gateway.yaml');
  writeFileSync(file, text);
  return file;
}

export async function startConsoleGateway(
  options: { console?: boolean; token?: string; pipelinesDir?: string } = {},
): Promise<ConsoleGateway> {
  const token = options.token ?? 'console-test-token';
  const nws: NwsFixture = await startNwsFixture();
  const data = tempDir('mcp-gateway-data-');
  mkdirSync(path.join(data, 'sandbox'), { recursive: true });
  const gw = await startHttpGateway(
    ['--config', bundledConfig(options.console ?? true, undefined, options.pipelinesDir)],
    {
      env: { NWS_API_BASE: nws.url, MCP_GATEWAY_DATA: data, MCP_GATEWAY_TOKEN: token },
    },
  );
  return {
    base: gw.url.replace(/\/mcp$/, ''),
    token,
    gw,
    async close() {
      await gw.close();
      await nws.close();
    },
  };
}
