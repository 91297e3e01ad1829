/**
 * The gateway as an OAuth client of an HTTP backend whose authorization server wants a person's
 * login (authorization code + PKCE): the backend is another gateway with `http.auth`, behind a real
 * authorization server (oidc-provider). Until an admin runs `mcp-gateway login`, list_servers says
 * "needs login" with the command; the login prints the authorization URL (followed here as a
 * browser would), receives the redirect on its loopback port and stores the tokens encrypted; the
 * running gateway then connects without a restart, and refreshes the short-lived token by itself.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GATEWAY_BIN,
  NODE,
  type StdioGateway,
  startStdioGateway,
  stopProcess,
  structured,
  textOf,
  writeConfig,
} from '../helpers/gateway.js';
import { startIssuer, type TestIssuer } from '../helpers/oidc-issuer.js';
import { freePort } from '../helpers/ports.js';
import { startTokenBackend, type TokenBackend } from '../helpers/token-backend.js';
import { waitFor } from '../helpers/wait.js';

const KEY = 'a passphrase only this test knows';
let issuer: TestIssuer;
let backend: TokenBackend;
let backendUrl: string;
let callbackPort: number;

beforeAll(async () => {
  callbackPort = await freePort();
  issuer = await startIssuer({
    loginRedirects: [`http://127.0.0.1:${callbackPort}/callback`],
    loginTokenTtl: 3,
  });
  backend = await startTokenBackend({ issuer: issuer.issuer, auth: '    clock_skew: 0s\n' });
  backendUrl = backend.url;
}, 60_000);

afterAll(async () => {
  await backend?.close();
  await issuer?.close();
});

interface ServerRow {
  name: string;
  status: string;
  lastError?: string;
}

async function serverRow(gw: StdioGateway, name: string): Promise<ServerRow | undefined> {
  const listed = await gw.client.callTool({ name: 'list_servers', arguments: {} });
  return structured<{ servers: ServerRow[] }>(listed).servers.find((s) => s.name === name);
}

/** Runs `mcp-gateway login`, and completes the login in the "browser" once it prints the URL. */
async function login(
  config: string,
  user: string,
  env: Record<string, string> = { MCP_GATEWAY_TOKEN_KEY: KEY },
): Promise<{ code: number | null; stdout: string }> {
  const { MCP_GATEWAY_TOKEN_KEY: _inherited, ...inherited } = process.env;
  const child: ChildProcess = spawn(NODE, [GATEWAY_BIN, 'login', 'remote', '--config', config], {
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => {
    stdout += String(d);
  });
  child.stderr?.on('data', (d) => {
    stderr += String(d);
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    await waitFor(() => /https?:\/\/\S+\/auth\?\S+/.test(stdout), { timeoutMs: 20_000 });
    const url = /(https?:\/\/\S+\/auth\?\S+)/.exec(stdout)?.[1] ?? '';
    const redirect = await issuer.completeLogin(url, user);
    expect(redirect.startsWith(`http://127.0.0.1:${callbackPort}/callback?`)).toBe(true);
    const page = await fetch(redirect);
    expect(await page.text()).toContain('logged in');
    const code = await exited;
    if (code !== 0) throw new Error(`login exited ${code}: ${stderr}`);
    return { code, stdout };
  } finally {
    if (child.exitCode === null) await stopProcess(child);
  }
}

describe('a backend that wants a person to log in (authorization code + PKCE)', () => {
  it('shows needs login, connects after `mcp-gateway login` without a restart, and refreshes', async () => {
    const config = writeConfig(`servers:
  remote:
    url: ${backendUrl}
    oauth:
      grant: authorization_code
      client_id: gateway-login
      scope: mcp
      issuer: ${issuer.issuer}
      callback_port: ${callbackPort}
token_store:
  path: tokens.enc
`);
    const store = path.join(path.dirname(config), 'tokens.enc');
    const gw = await startStdioGateway(['serve', '--config', config], {
      env: { MCP_GATEWAY_TOKEN_KEY: KEY },
    });
    try {
      await waitFor(async () => (await serverRow(gw, 'remote'))?.status === 'needs login', {
        timeoutMs: 20_000,
      });
      expect((await serverRow(gw, 'remote'))?.lastError).toContain(
        `mcp-gateway login remote --config ${config}`,
      );
      // It waits for the login instead of trying again and again: one attempt, one warning. (Saving
      // the configured client to the store on each attempt used to wake this wait into a loop that
      // could overwrite the tokens a login was writing.)
      await new Promise((r) => setTimeout(r, 1500));
      expect(gw.stderr().match(/needs login: run/g)).toHaveLength(1);

      const done = await login(config, 'bob');
      expect(done.stdout).toContain('Logged in');

      // Encrypted at rest, readable by its owner only.
      const text = readFileSync(store, 'utf8');
      expect(text).not.toMatch(/access_token|refresh_token|eyJ/);
      expect(statSync(store).mode & 0o777).toBe(0o600);

      await waitFor(async () => (await serverRow(gw, 'remote'))?.status === 'ready', { timeoutMs: 20_000 });
      const call = () =>
        gw.client.callTool({
          name: 'call_backend',
          arguments: { server: 'remote', tool: 'tb__echo', params: { text: 'logged in once' } },
        });
      const first = await call();
      expect(first.isError, textOf(first)).toBeFalsy();
      expect(textOf(first)).toContain('logged in once');

      // The access token lives 3 s: the next call meets a 401, and the refresh token gets a new one.
      const before = statSync(store).mtimeMs;
      await new Promise((r) => setTimeout(r, 4000));
      const second = await call();
      expect(second.isError, textOf(second)).toBeFalsy();
      expect(textOf(second)).toContain('logged in once');
      expect(statSync(store).mtimeMs).toBeGreaterThan(before);
    } finally {
      await gw.close();
    }
  }, 90_000);

  it('registers a client dynamically (RFC 7591) when none is configured; the key file is made', async () => {
    const config = writeConfig(`servers:
  remote:
    url: ${backendUrl}
    oauth:
      grant: authorization_code
      scope: mcp
      callback_port: ${callbackPort}
`);
    const store = path.join(path.dirname(config), '.data', 'oauth-tokens.enc');
    // No MCP_GATEWAY_TOKEN_KEY: the first login makes the key file, the owner's alone.
    const done = await login(config, 'alice', {});
    expect(done.stdout).toContain('Logged in');
    expect(readFileSync(store, 'utf8')).not.toMatch(/client_id|access_token/);
    expect(statSync(`${store}.key`).mode & 0o777).toBe(0o600);
    const gw = await startStdioGateway(['serve', '--config', config]);
    try {
      await waitFor(async () => (await serverRow(gw, 'remote'))?.status === 'ready', { timeoutMs: 20_000 });
    } finally {
      await gw.close();
    }
  }, 60_000);
});
