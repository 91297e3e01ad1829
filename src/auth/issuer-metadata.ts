/**
 * The issuer's metadata, for its `jwks_uri`: RFC 8414 (`/.well-known/oauth-authorization-server`
 * inserted before the issuer's path) first, then OpenID Connect Discovery (`/.well-known/openid-
 * configuration` appended, as Keycloak, Auth0 and Okta serve it), the order the MCP spec gives.
 */
export function discoverJwksUri(issuer: string): Promise<string> {
  return discoverEndpoint(issuer, 'jwks_uri');
}

/** One endpoint (`jwks_uri`, `token_endpoint`, …) of the issuer's metadata, found as above. */
export async function discoverEndpoint(issuer: string, field: string): Promise<string> {
  const tried: string[] = [];
  for (const url of metadataUrls(issuer)) {
    tried.push(url);
    let res: Response;
    try {
      res = await fetch(url, {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(10_000),
      });
    } catch {
      continue;
    }
    if (!res.ok) continue;
    const doc = (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined;
    // RFC 8414 §3.3: the document must name the issuer asked for, or it is someone else's.
    if (doc?.issuer !== issuer) continue;
    const value = doc[field];
    if (typeof value === 'string') return value;
  }
  throw new Error(`no metadata with a ${field} for issuer ${issuer} (tried ${tried.join(', ')})`);
}

function metadataUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  const urls = [
    `${url.origin}/.well-known/oauth-authorization-server${path}`,
    `${url.origin}/.well-known/openid-configuration${path}`,
    `${url.origin}${path}/.well-known/openid-configuration`,
  ];
  return [...new Set(urls)];
}
