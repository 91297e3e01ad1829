import { ClientCredentialsProvider } from '@modelcontextprotocol/client';
import type { BackendOAuth } from '../config/types.js';

/**
 * The gateway as an OAuth client of one HTTP backend (`servers.<name>.oauth`): the SDK's
 * client_credentials provider. On the backend's 401 the SDK finds its authorization server (RFC 9728
 * metadata, then RFC 8414 / OpenID discovery), asks the token endpoint for a token for the backend's
 * resource (RFC 8707), keeps it in memory and asks again when the backend refuses it (expiry). Only
 * these credentials reach the backend: the gateway's own callers' tokens never do.
 */
export function clientCredentials(oauth: BackendOAuth): ClientCredentialsProvider {
  return new ClientCredentialsProvider({
    clientId: oauth.clientId,
    clientSecret: oauth.clientSecret,
    clientName: 'mcp-gateway',
    ...(oauth.scope ? { scope: oauth.scope } : {}),
    ...(oauth.issuer ? { expectedIssuer: oauth.issuer } : {}),
  });
}
