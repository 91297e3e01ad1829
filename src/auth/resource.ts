import type { OAuthProtectedResourceMetadata } from '@modelcontextprotocol/server';
import type { AuthSettings } from '../config/index.js';

/**
 * RFC 9728 discovery: one protected resource per MCP endpoint. `/mcp` is the resource named by
 * `http.auth.audience`; another endpoint (a profile's `/mcp/<profile>`) is that URL's origin plus its
 * own path, so a token minted for one endpoint is refused at another.
 */

export const PROTECTED_RESOURCE_PREFIX = '/.well-known/oauth-protected-resource';

/** The resource identifier (and token audience) of the endpoint at `endpointPath`. */
export function resourceFor(settings: AuthSettings, endpointPath: string): string {
  const main = new URL(settings.audience);
  if (endpointPath === main.pathname || endpointPath === '/mcp') return settings.audience;
  return new URL(endpointPath, main.origin).href;
}

/** Where the metadata of the endpoint at `endpointPath` is served (the `resource_metadata` of a challenge). */
export function resourceMetadataUrl(settings: AuthSettings, endpointPath: string): string {
  const resource = new URL(resourceFor(settings, endpointPath));
  const path = resource.pathname === '/' ? '' : resource.pathname;
  return `${resource.origin}${PROTECTED_RESOURCE_PREFIX}${path}`;
}

/**
 * The endpoint path a well-known request asks about, or undefined when `pathname` is not one:
 * `/.well-known/oauth-protected-resource/mcp` → `/mcp`; the bare prefix (a client that tries the
 * root) → `/mcp`.
 */
export function metadataEndpointPath(pathname: string): string | undefined {
  if (pathname === PROTECTED_RESOURCE_PREFIX || pathname === `${PROTECTED_RESOURCE_PREFIX}/`) return '/mcp';
  if (!pathname.startsWith(`${PROTECTED_RESOURCE_PREFIX}/`)) return undefined;
  return pathname.slice(PROTECTED_RESOURCE_PREFIX.length);
}

export function protectedResourceMetadata(
  settings: AuthSettings,
  endpointPath: string,
): OAuthProtectedResourceMetadata {
  return {
    resource: resourceFor(settings, endpointPath),
    authorization_servers: settings.authorizationServers,
    scopes_supported: scopesSupported(settings),
    bearer_methods_supported: ['header'],
    resource_name: 'mcp-gateway',
  };
}

/** `scopes_supported`: as configured, else the required scopes and every scope a rule mentions. */
export function scopesSupported(settings: AuthSettings): string[] {
  if (settings.scopesSupported) return settings.scopesSupported;
  const all = new Set(settings.requiredScopes);
  for (const rule of settings.rules ?? []) for (const s of rule.when.scopes ?? []) all.add(s);
  return [...all];
}
