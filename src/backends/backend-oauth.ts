import { ClientCredentialsProvider, type OAuthClientProvider } from '@modelcontextprotocol/client';
import type { ClientCredentialsOAuth, HttpServerConfig } from '../config/types.js';
import { LoginProvider } from './login-provider.js';
import { TokenStore } from './token-store.js';

/**
 * The OAuth client provider for an HTTP backend with `oauth`, or undefined. client_credentials: the
 * SDK's provider (below). authorization_code: tokens from an admin's login, kept in the token store
 * (login-provider.ts). Only these credentials reach the backend: the gateway's callers' tokens never do.
 */
export function backendAuthProvider(config: HttpServerConfig): OAuthClientProvider | undefined {
  const oauth = config.oauth;
  if (!oauth) return undefined;
  if (oauth.grant === 'client_credentials') return clientCredentials(oauth);
  return new LoginProvider(
    {
      name: config.name,
      url: config.url,
      oauth,
      ...(config.source.kind === 'config' ? { configFile: config.source.file } : {}),
    },
    new TokenStore(oauth.store),
  );
}

/**
 * The SDK's client_credentials provider. On the backend's 401 the SDK finds its authorization server
 * (RFC 9728 metadata, then RFC 8414 / OpenID discovery), asks the token endpoint for a token for the
 * backend's resource (RFC 8707), keeps it in memory and asks again when the backend refuses it (expiry).
 */
function clientCredentials(oauth: ClientCredentialsOAuth): ClientCredentialsProvider {
  return new ClientCredentialsProvider({
    clientId: oauth.clientId,
    clientSecret: oauth.clientSecret,
    clientName: 'mcp-gateway',
    ...(oauth.scope ? { scope: oauth.scope } : {}),
    ...(oauth.issuer ? { expectedIssuer: oauth.issuer } : {}),
  });
}
