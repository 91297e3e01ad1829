/**
 * The protected MCP server of the OAuth and header e2e tests: a real gateway serving testbed `tb`
 * over HTTP on a loopback port chosen before it starts, which checks every request's bearer token as
 * a protected server does — OAuth access tokens of one issuer whose audience is its own URL and whose
 * scopes include `mcp`, or one static token. Its tools are served as `tb__<tool>`.
 */
import { type HttpGatewayProcess, startHttpGateway, testbedServer, writeConfig } from './gateway.js';
import { freePort } from './ports.js';

export interface TokenBackend {
  /** Its MCP endpoint, `http://127.0.0.1:<port>/mcp`: also the audience its OAuth tokens must name. */
  url: string;
  gateway: HttpGatewayProcess;
  close(): Promise<void>;
}

export type TokenCheck =
  | {
      /** Accepts access tokens from this issuer (`http.auth`). */
      issuer: string;
      /** More YAML lines under `http.auth`, indented four spaces (rules, clock_skew…). */
      auth?: string;
    }
  | {
      /** Accepts this one bearer token (`http.token`, given through the environment). */
      token: string;
    };

/**
 * `http.auth.rules`: the gateway's own client (`admin-agent`) may use everything, `analyst-agent`
 * only `tb__echo` — so a call that reached the backend as the analyst cannot use `tb__add`.
 */
export const ADMIN_AND_ANALYST_RULES = `    rules:
      - name: the gateway itself
        when: { clients: [admin-agent] }
        servers: ["*"]
        meta: ["*"]
      - name: analysts
        when: { clients: [analyst-agent] }
        tools: [tb__echo]
`;

/**
 * Starts the backend. `port`: one the caller already chose (a redirect URI registered with the issuer
 * names it); a free one otherwise. `http`: more YAML lines under `http:`, indented two spaces.
 */
export async function startTokenBackend(
  check: TokenCheck,
  options: { port?: number; http?: string } = {},
): Promise<TokenBackend> {
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}/mcp`;
  const auth =
    'token' in check
      ? `  token: \${BACKEND_TOKEN}\n`
      : `  auth:
    issuer: ${check.issuer}
    audience: ${url}
    required_scopes: [mcp]
${check.auth ?? ''}`;
  const config = writeConfig(`servers:\n${testbedServer('tb')}http:\n${options.http ?? ''}${auth}`);
  const gateway = await startHttpGateway(
    ['--config', config, '--port', String(port)],
    'token' in check ? { env: { BACKEND_TOKEN: check.token } } : {},
  );
  return { url, gateway, close: () => gateway.close() };
}
