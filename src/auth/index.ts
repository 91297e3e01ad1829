/**
 * Authorization: the gateway as an OAuth 2.1 resource server (token checks, RFC 9728 discovery,
 * RFC 6750 challenges) and who may use what (`http.auth.rules`). The HTTP front calls
 * {@link createAuthenticator}; the MCP handlers read the caller from the SDK's `authInfo`.
 */
export {
  type Access,
  type AccessTarget,
  accessFor,
  allowedProfiles,
  scopesToReach,
} from './access.js';
export { type Authenticator, type AuthVerdict, createAuthenticator } from './authenticator.js';
export { type Caller, callerLabel, callerOf, sameCaller } from './caller.js';
export { type AuthAnswer, AuthFailure } from './challenge.js';
export { discoverLoginEndpoints } from './issuer-metadata.js';
export {
  PROTECTED_RESOURCE_PREFIX,
  resourceFor,
  resourceMetadataUrl,
  scopesSupported,
} from './resource.js';
