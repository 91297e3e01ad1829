/**
 * `mcp-gateway login <server>`: the one-time OAuth login an admin completes in a browser for an HTTP
 * backend with `oauth: { grant: authorization_code }`. It asks the backend, unauthenticated, for its
 * 401 (whose WWW-Authenticate names the protected-resource metadata, RFC 9728), lets the SDK discover
 * the authorization server, register a client when none is configured (RFC 7591) and build the
 * authorization URL with PKCE; prints the URL; receives the redirect on a loopback port; checks
 * `state`; redeems the code. The tokens go to the encrypted token store, where a running gateway
 * finds them and connects the backend without a restart.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { auth, extractWWWAuthenticateParams } from '@modelcontextprotocol/client';
import { LoginProvider, type LoginTarget, redirectUri, TokenStore } from '../backends/index.js';
import { parseDuration } from '../config/index.js';
import { parseOptions, UsageError } from './args.js';
import { resolveConfig } from './config.js';

const options = {
  config: { type: 'string', short: 'c' },
  timeout: { type: 'string', default: '10m' },
} as const;

export async function loginCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseOptions(argv, options);
  if (positionals.length !== 1)
    throw new UsageError('login takes one server name: mcp-gateway login <server>');
  const name = positionals[0] as string;
  const config = await resolveConfig(values.config);
  const server = config.servers.find((s) => s.name === name);
  if (!server) throw new UsageError(`no server '${name}' in ${config.file ?? 'the config'}`);
  if (server.transport !== 'http' || server.oauth?.grant !== 'authorization_code') {
    throw new UsageError(
      `server '${name}' has no oauth login: give it oauth: { grant: authorization_code } (and a url)`,
    );
  }
  let timeoutMs: number;
  try {
    timeoutMs = parseDuration(values.timeout);
  } catch (err) {
    throw new UsageError(`--timeout: ${err instanceof Error ? err.message : String(err)}`);
  }
  const oauth = server.oauth;
  const target: LoginTarget = {
    name,
    url: server.url,
    oauth,
    ...(config.file ? { configFile: config.file } : {}),
  };
  const store = new TokenStore(server.oauth.store);
  const callback = await listen(server.oauth.callbackPort);
  try {
    const provider = new LoginProvider(target, store, (url) => {
      out(`Open this URL in a browser to let mcp-gateway reach '${name}':\n\n  ${url.href}\n\n`);
      out(`Waiting for the authorization server to redirect to ${redirectUri(oauth)} …\n`);
    });
    // A new login starts from scratch: stale tokens would make the SDK refresh instead of asking.
    provider.forgetTokens();
    const challenge = await challengeOf(server.url, server.headers);
    const first = await auth(provider, {
      serverUrl: server.url,
      ...(challenge.resourceMetadataUrl ? { resourceMetadataUrl: challenge.resourceMetadataUrl } : {}),
      ...(challenge.scope && !server.oauth.scope ? { scope: challenge.scope } : {}),
    });
    if (first === 'AUTHORIZED') {
      out(`'${name}' is authorized.\n`);
      return 0;
    }
    const params = await callback.next(timeoutMs);
    const error = params.get('error');
    if (error) {
      callback.reply(400, `Login failed: ${error}`);
      throw new UsageError(
        `the authorization server refused: ${error} ${params.get('error_description') ?? ''}`.trim(),
      );
    }
    const code = params.get('code');
    if (!code || params.get('state') !== provider.state()) {
      callback.reply(400, 'Login failed: the redirect had no code, or another login’s state.');
      throw new UsageError('the redirect had no authorization code or a state that is not this login’s');
    }
    const iss = params.get('iss');
    await auth(provider, { serverUrl: server.url, authorizationCode: code, ...(iss ? { iss } : {}) });
    callback.reply(200, `mcp-gateway is logged in to '${name}'. You can close this tab.`);
    out(`Logged in: tokens for '${name}' are stored encrypted in ${store.settings.path}.\n`);
    return 0;
  } finally {
    await callback.close();
  }
}

/**
 * The backend's answer to an unauthenticated request: a 401 whose WWW-Authenticate names its
 * metadata and maybe a scope. Nothing when it answers otherwise (the SDK then tries the well-known URLs).
 */
async function challengeOf(url: string, headers: Record<string, string>) {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        ...headers,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'ping' }),
    });
    await res.body?.cancel();
    return res.status === 401 ? extractWWWAuthenticateParams(res) : {};
  } catch {
    return {};
  }
}

interface Callback {
  /** The query of the next request to /callback. */
  next(timeoutMs: number): Promise<URLSearchParams>;
  /** Answers that request (the browser's tab). */
  reply(status: number, text: string): void;
  close(): Promise<void>;
}

/** The loopback server the authorization server redirects the browser to. */
async function listen(port: number): Promise<Callback> {
  let pending: { res: ServerResponse; params: URLSearchParams } | undefined;
  let waiter: ((p: URLSearchParams) => void) | undefined;
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    if (url.pathname !== '/callback' || pending) {
      res.writeHead(404).end();
      return;
    }
    pending = { res, params: url.searchParams };
    waiter?.(url.searchParams);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(new UsageError(`cannot listen on 127.0.0.1:${port} for the redirect: ${err.message}`)),
    );
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    next: (timeoutMs) =>
      new Promise((resolve, reject) => {
        if (pending) return resolve(pending.params);
        const timer = setTimeout(
          () => reject(new UsageError('no redirect came back in time; run login again')),
          timeoutMs,
        );
        waiter = (p) => {
          clearTimeout(timer);
          resolve(p);
        };
      }),
    reply: (status, text) => {
      pending?.res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(`${text}\n`);
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (pending && !pending.res.writableEnded) pending.res.writeHead(500).end();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function out(text: string): void {
  process.stdout.write(text);
}
