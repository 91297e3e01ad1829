import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/**
 * The checks every HTTP request passes before it reaches MCP: the Host (and Origin) must name this
 * gateway, which defeats DNS rebinding from a browser; and the bearer token must match when one is set.
 */

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];

export function isLoopbackHost(host: string): boolean {
  const bare = stripBrackets(host);
  return LOOPBACK_NAMES.includes(bare) || (isIP(bare) === 4 && bare.startsWith('127.'));
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** The hostname of a Host header value, without port; lower-cased. */
export function hostnameOf(hostHeader: string): string {
  const value = hostHeader.trim().toLowerCase();
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    return end === -1 ? value : value.slice(1, end);
  }
  const colon = value.lastIndexOf(':');
  return colon === -1 ? value : value.slice(0, colon);
}

export function allowedHostnames(bindHost: string, extra: readonly string[]): Set<string> {
  const names = new Set([...LOOPBACK_NAMES, ...extra.map((h) => hostnameOf(h))]);
  // A wildcard bind has no name of its own; the user lists the names it is reached by in allowed_hosts.
  if (bindHost !== '0.0.0.0' && bindHost !== '::') names.add(stripBrackets(bindHost.toLowerCase()));
  return names;
}

export type GuardVerdict =
  | { ok: true }
  | { ok: false; status: number; message: string; headers?: Record<string, string> };

export function checkRequest(
  req: IncomingMessage,
  allowed: Set<string>,
  token: string | undefined,
): GuardVerdict {
  const host = req.headers.host;
  if (!host || !allowed.has(hostnameOf(host))) {
    return { ok: false, status: 403, message: `Host header '${host ?? ''}' is not allowed` };
  }
  const origin = req.headers.origin;
  if (origin !== undefined && !originAllowed(origin, allowed)) {
    return { ok: false, status: 403, message: `Origin '${origin}' is not allowed` };
  }
  if (token !== undefined && !bearerMatches(req.headers.authorization, token)) {
    return {
      ok: false,
      status: 401,
      message: 'Missing or wrong bearer token',
      headers: { 'WWW-Authenticate': 'Bearer realm="mcp-gateway"' },
    };
  }
  return { ok: true };
}

function originAllowed(origin: string, allowed: Set<string>): boolean {
  try {
    return allowed.has(stripBrackets(new URL(origin).hostname.toLowerCase()));
  } catch {
    return false;
  }
}

/** Compares digests so the time taken says nothing about how much of the token was right. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
  const given = createHash('sha256')
    .update(match?.[1]?.trim() ?? '')
    .digest();
  const expected = createHash('sha256').update(token).digest();
  return timingSafeEqual(given, expected) && match !== null;
}
