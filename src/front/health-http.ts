import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from './http-body.js';

/**
 * `/healthz` (the process is up and answering) and `/readyz` (it should be sent traffic: the config
 * is loaded, it is not draining, and Redis answers when `cluster.redis` is set). For load balancers
 * and Kubernetes probes, which come by pod IP with no token: so they pass before the Host and token
 * checks, and say nothing but the status.
 */
export const HEALTH_PATH = '/healthz';
export const READY_PATH = '/readyz';

export function isHealthPath(pathname: string): boolean {
  return pathname === HEALTH_PATH || pathname === READY_PATH;
}

export function serveHealth(
  req: IncomingMessage,
  res: ServerResponse,
  pathname: string,
  ready: () => boolean,
): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    sendJson(res, 405, { status: 'method not allowed' });
    return;
  }
  const ok = pathname === HEALTH_PATH || ready();
  // Never cached: a probe must see the state of now.
  sendJson(res, ok ? 200 : 503, { status: ok ? 'ok' : 'unavailable' }, { 'Cache-Control': 'no-store' });
}
