import type { HttpServerConfig, ServerConfig } from '../config/types.js';
import { GatewayError } from '../errors.js';
import type { CallerCredential } from './types.js';

/**
 * The Authorization header for one call to a backend marked `forward_caller_token`: the caller's own
 * access token, when its `aud` names the audience the backend is marked with. Tokens are never passed
 * on by default: an unmarked backend gets undefined here whatever the caller holds. A marked backend
 * with no caller token (stdio, the static token, a pipeline run) or a token for another audience is
 * refused with ACCESS_DENIED, and the token goes nowhere: a token minted for the gateway must not
 * reach a server it was not meant for (the confused deputy the MCP spec warns of).
 */
export function callerAuthorization(
  config: ServerConfig,
  credential: CallerCredential | undefined,
  tool: string,
): string | undefined {
  const forward = config.transport === 'http' ? (config as HttpServerConfig).forwardCallerToken : undefined;
  if (!forward) return undefined;
  if ((config as HttpServerConfig).httpTransport === 'sse') {
    throw new GatewayError(
      'ACCESS_DENIED',
      `${config.name}.${tool}: forward_caller_token needs the Streamable HTTP transport, not transport: sse`,
      { server: config.name, tool },
    );
  }
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
