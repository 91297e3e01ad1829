/**
 * `/metrics` for Prometheus: on the HTTP front (`metrics: true`), or on a listener of its own
 * (`serve --metrics-port N`). Either way it passes the same checks as /mcp — the Host (and Origin)
 * must name the gateway, and the bearer token is required when one is set — so a gateway reachable
 * beyond loopback never shows its backends and traffic to strangers.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import { allowedHostnames, checkRequest, isLoopbackHost } from './http-guard.js';

export const METRICS_PATH = '/metrics';

/** What `/metrics` serves: the text exposition format (see src/observability/metrics.ts). */
export interface MetricsSource {
  contentType: string;
  text(): Promise<string>;
}

/** Answers a request for `/metrics`, after the checks every HTTP request passes. */
export async function serveMetrics(
  req: IncomingMessage,
  res: ServerResponse,
  source: MetricsSource,
  allowed: Set<string>,
  token: string | undefined,
): Promise<void> {
  const verdict = checkRequest(req, allowed, token);
  if (!verdict.ok) {
    res.writeHead(verdict.status, { 'Content-Type': 'application/json', ...verdict.headers });
    res.end(JSON.stringify({ error: verdict.message }));
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ error: `Method ${req.method} not allowed` }));
    return;
  }
  const body = await source.text();
  res.writeHead(200, { 'Content-Type': source.contentType });
  res.end(req.method === 'HEAD' ? undefined : body);
}

export interface MetricsListenerOptions {
  host: string;
  port: number;
  token?: string;
  allowedHosts: readonly string[];
  source: MetricsSource;
  logger: Logger;
}

export interface MetricsListener {
  url: string;
  close(): Promise<void>;
}

/** A listener serving `/metrics` only; refuses a non-loopback bind without a token, as the front does. */
export async function startMetricsListener(options: MetricsListenerOptions): Promise<MetricsListener> {
  const { host, port, token, source, logger } = options;
  if (!isLoopbackHost(host) && !token) {
    throw new GatewayError(
      'USAGE',
      `refusing to serve metrics on ${host} without a token: set http.token in the config or MCP_GATEWAY_TOKEN`,
    );
  }
  const allowed = allowedHostnames(host, options.allowedHosts);
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://gateway').pathname;
    if (path !== METRICS_PATH) {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: `Not found; metrics are at ${METRICS_PATH}` }));
      return;
    }
    serveMetrics(req, res, source, allowed, token).catch((err: unknown) => {
      logger.warn(`metrics: ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new GatewayError(
          'USAGE',
          `cannot serve metrics on ${host}:${port}: ${err.code === 'EADDRINUSE' ? 'port in use' : err.message}`,
        ),
      ),
    );
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${shown}:${address.port}${METRICS_PATH}`;
  logger.info(`metrics on ${url}${token ? ' (bearer token required)' : ''}`);
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
