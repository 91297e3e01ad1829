import {
  createRemoteJWKSet,
  decodeProtectedHeader,
  type JWTPayload,
  type JWTVerifyGetKey,
  errors as joseErrors,
  jwtVerify,
} from 'jose';
import type { AuthSettings } from '../config/index.js';
import { errorMessage } from '../errors.js';
import { type Caller, callerFromClaims } from './caller.js';
import { AuthFailure } from './challenge.js';
import { discoverJwksUri } from './issuer-metadata.js';

/** What a verified access token says, for one endpoint's resource. */
export interface VerifiedToken {
  caller: Caller;
  scopes: string[];
  clientId: string;
  /** Seconds since the epoch. */
  expiresAt?: number;
}

/**
 * Checks access tokens against the authorization server of `http.auth`: a JWT locally (signature by
 * the issuer's keys, `iss`, `aud` = the endpoint's resource, `exp`/`nbf` within the clock skew, the
 * algorithm among those accepted); anything else, when `introspection` is set, by RFC 7662.
 */
export class TokenVerifier {
  /** Created on first use: the issuer may not be up when the gateway starts. */
  private keys: Promise<JWTVerifyGetKey> | undefined;

  constructor(private readonly settings: AuthSettings) {}

  async verify(token: string, resource: string): Promise<VerifiedToken> {
    if (looksLikeJwt(token)) return this.verifyJwt(token, resource);
    if (this.settings.introspection) return this.introspect(token, resource);
    throw new AuthFailure(
      'invalid_token',
      'The access token is not a JWT and no introspection is configured',
    );
  }

  private async verifyJwt(token: string, resource: string): Promise<VerifiedToken> {
    const keys = await this.jwks();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: this.settings.issuer,
        audience: audiences(resource),
        algorithms: this.settings.algorithms,
        clockTolerance: Math.round(this.settings.clockSkewMs / 1000),
        requiredClaims: ['exp'],
      }));
    } catch (err) {
      // The keys could not be fetched: the server's trouble, not a bad token.
      if (err instanceof joseErrors.JWKSTimeout || !(err instanceof joseErrors.JOSEError))
        throw new AuthFailure('server_error', `The access token could not be verified: ${errorMessage(err)}`);
      throw new AuthFailure('invalid_token', describeJoseError(err));
    }
    return verified(payload as Record<string, unknown>, this.settings);
  }

  private jwks(): Promise<JWTVerifyGetKey> {
    if (!this.keys) {
      const { jwksUri, issuer } = this.settings;
      this.keys = (jwksUri ? Promise.resolve(jwksUri) : discoverJwksUri(issuer)).then((uri) =>
        // jose caches the set, fetches it again for a key id it does not know (rotation), at most every 30 s.
        createRemoteJWKSet(new URL(uri)),
      );
      // An unreachable issuer is tried again on the next request, not remembered as a failure.
      this.keys.catch(() => {
        this.keys = undefined;
      });
    }
    return this.keys.catch((err) => {
      throw new AuthFailure(
        'server_error',
        `The authorization server's keys are unavailable: ${errorMessage(err)}`,
      );
    });
  }

  private async introspect(token: string, resource: string): Promise<VerifiedToken> {
    const config = this.settings.introspection;
    if (!config) throw new AuthFailure('invalid_token', 'No introspection endpoint');
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    };
    if (config.clientId !== undefined) {
      const basic = `${encodeURIComponent(config.clientId)}:${encodeURIComponent(config.clientSecret ?? '')}`;
      headers.authorization = `Basic ${Buffer.from(basic).toString('base64')}`;
    }
    let answer: Record<string, unknown>;
    try {
      const res = await fetch(config.url, {
        method: 'POST',
        headers,
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
        signal: AbortSignal.timeout(10_000),
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      answer = (await res.json()) as Record<string, unknown>;
    } catch (err) {
      throw new AuthFailure('server_error', `Token introspection failed: ${errorMessage(err)}`);
    }
    if (answer.active !== true) throw new AuthFailure('invalid_token', 'The access token is not active');
    if (answer.iss !== undefined && answer.iss !== this.settings.issuer)
      throw new AuthFailure('invalid_token', 'The access token was issued by another issuer');
    const aud = typeof answer.aud === 'string' ? [answer.aud] : Array.isArray(answer.aud) ? answer.aud : [];
    if (!aud.some((a) => audiences(resource).includes(a)))
      throw new AuthFailure('invalid_token', 'The access token was not issued for this resource');
    const skew = this.settings.clockSkewMs / 1000;
    if (typeof answer.exp === 'number' && answer.exp + skew < Date.now() / 1000)
      throw new AuthFailure('invalid_token', 'The access token has expired');
    return verified(answer, this.settings);
  }
}

function verified(claims: Record<string, unknown>, settings: AuthSettings): VerifiedToken {
  const caller = callerFromClaims(claims, settings.groupsClaim);
  return {
    caller,
    scopes: caller.scopes,
    clientId: caller.clientId ?? caller.subject,
    ...(typeof claims.exp === 'number' ? { expiresAt: claims.exp } : {}),
  };
}

/** The resource, with and without one trailing slash: issuers differ in how they echo it. */
function audiences(resource: string): string[] {
  const bare = resource.endsWith('/') ? resource.slice(0, -1) : resource;
  return [bare, `${bare}/`];
}

function looksLikeJwt(token: string): boolean {
  if (token.split('.').length !== 3) return false;
  try {
    decodeProtectedHeader(token);
    return true;
  } catch {
    return false;
  }
}

/** jose's reasons as a client can act on them; never the token or its claims' values. */
function describeJoseError(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'The access token has expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'aud') return 'The access token was not issued for this resource';
    if (err.claim === 'iss') return 'The access token was issued by another issuer';
    return `The access token's ${err.claim} claim is not acceptable`;
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed)
    return 'The access token signature is not valid';
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'The access token is signed with an unknown key';
  if (err instanceof joseErrors.JOSEAlgNotAllowed)
    return 'The access token is signed with an algorithm not accepted';
  return 'The access token is not valid';
}
