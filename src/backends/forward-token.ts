import type { HttpServerConfig, ServerConfig } from '../config/types.js';
import { GatewayError } from '../errors.js';
import { exchangedAuthorization } from './token-exchange.js';
import type { CallerCredential } from './types.js';

/**
 * The Authorization header for one call to a backend marked `forward_caller_token`: the caller's own
 * access token, when its `aud` names the audience the backend is marked with. Tokens are never passed
 * on by default: an unmarked backend gets undefined here whatever the caller holds. A marked backend
 * with no caller token (stdio, the static token, a pipeline run) or a token for another audience is
 * refused with ACCESS_DENIED, and the token goes nowhere: a token minted for the gateway must not
 * reach a server it was not meant for (the confused deputy the MCP spec warns of).
 */
export async function callerAuthorization(
  config: ServerConfig,
  credential: CallerCredential | undefined,
  tool: string,
): Promise<string | undefined> {
  if (config.transport !== 'http') return undefined;
  const http = config as HttpServerConfig;
  const forward = http.forwardCallerToken;
  if (!forward && !http.tokenExchange) return undefined;
  if (http.httpTransport === 'sse') {
    throw new GatewayError(
      'ACCESS_DENIED',
      `${config.name}.${tool}: ${forward ? 'forward_caller_token' : 'token_exchange'} needs the Streamable HTTP transport, not transport: sse`,
      { server: config.name, tool },
    );
  }
  // RFC 8693: the caller's token goes to the identity provider, and what it answers to the backend.
  if (!forward && http.tokenExchange)
    return exchangedAuthorization(config.name, http.tokenExchange, credential, tool);
  if (!forward) return undefined;
  if (!credential) {
    throw new GatewayError(
      'ACCESS_DENIED',
      `${config.name}.${tool}: this backend takes the caller's own OAuth token (forward_caller_token), and this call has none`,
      { server: config.name, tool },
    );
  }
  if (!credential.audience.includes(forward.audience)) {
    throw new GatewayError(
      'ACCESS_DENIED',
      `${config.name}.${tool}: the caller's token is not for ${forward.audience} (its audience: ${credential.audience.join(', ') || 'none'}), so it is not passed on`,
      { server: config.name, tool, audience: forward.audience },
    );
  }
  return `Bearer ${credential.token}`;
}
