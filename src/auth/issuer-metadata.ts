/**
 * The issuer's metadata: RFC 8414 (`/.well-known/oauth-authorization-server` inserted before the
 * issuer's path) first, then OpenID Connect Discovery (`/.well-known/openid-configuration` appended,
 * as Keycloak, Auth0 and Okta serve it), the order the MCP spec gives.
 */

/** The first metadata document that names `issuer` and passes `usable`; throws naming what was tried. */
export async function discoverIssuerMetadata(
  issuer: string,
  usable: (doc: Record<string, unknown>) => boolean,
  what: string,
): Promise<Record<string, unknown>> {
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
    if (usable(doc)) return doc;
  }
  throw new Error(`no metadata with ${what} for issuer ${issuer} (tried ${tried.join(', ')})`);
}

/** For the signing keys: `jwks_uri`. */
export async function discoverJwksUri(issuer: string): Promise<string> {
  const doc = await discoverIssuerMetadata(issuer, (d) => typeof d.jwks_uri === 'string', 'a jwks_uri');
  return doc.jwks_uri as string;
}

/** For a sign-in (the web console's): where to send the person, and where to exchange the code. */
export async function discoverLoginEndpoints(
  issuer: string,
): Promise<{ authorizationEndpoint: string; tokenEndpoint: string }> {
  const doc = await discoverIssuerMetadata(
    issuer,
    (d) => typeof d.authorization_endpoint === 'string' && typeof d.token_endpoint === 'string',
    'an authorization_endpoint and a token_endpoint',
  );
  return {
    authorizationEndpoint: doc.authorization_endpoint as string,
    tokenEndpoint: doc.token_endpoint as string,
  };
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
