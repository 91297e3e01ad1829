/**
 * RFC 8693 token exchange on the test issuer's token endpoint, through oidc-provider's own extension
 * point (`registerGrantType`): the provider authenticates the client (`exchanger`, HTTP Basic) and
 * hands the grant here, which checks the subject token (signature, issuer, expiry) and issues a JWT
 * for the audience asked for, keeping the subject's `sub` and `client_id` and naming the exchanging
 * client in `act` (RFC 8693 §4.1). Subject tokens of `plain-agent` are refused (invalid_grant).
 */
import { createLocalJWKSet, importJWK, type JWK, jwtVerify, SignJWT } from 'jose';
import type Provider from 'oidc-provider';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

interface GrantContext {
  oidc: { params: Record<string, string | undefined>; client?: { clientId: string } };
  status: number;
  body: unknown;
}

/** Registers the grant; returns how many exchanges were answered with a token. */
export function installTokenExchange(provider: Provider, issuer: string, keys: JWK[]): () => number {
  let issued = 0;
  const publicKeys = keys.map(({ d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub }) => pub);
  const jwks = createLocalJWKSet({ keys: publicKeys });
  const refuse = (ctx: GrantContext, error: string, description: string) => {
    ctx.status = 400;
    ctx.body = { error, error_description: description };
  };
  provider.registerGrantType(
    TOKEN_EXCHANGE_GRANT,
    async (ctx: GrantContext) => {
      const { subject_token, subject_token_type, audience, scope } = ctx.oidc.params;
      if (!subject_token || subject_token_type !== ACCESS_TOKEN_TYPE || !audience)
        return refuse(ctx, 'invalid_request', 'subject_token, subject_token_type and audience are required');
      let subject: Record<string, unknown>;
      try {
        ({ payload: subject } = await jwtVerify(subject_token, jwks, { issuer }));
      } catch (err) {
        return refuse(ctx, 'invalid_grant', `subject_token: ${(err as Error).message}`);
      }
      if (subject.client_id === 'plain-agent')
        return refuse(ctx, 'invalid_grant', 'this subject may not be exchanged');
      const key = keys[0] as JWK;
      const token = await new SignJWT({
        sub: subject.sub as string,
        client_id: subject.client_id,
        scope: scope ?? subject.scope,
        act: { sub: ctx.oidc.client?.clientId },
      })
        .setProtectedHeader({ alg: 'RS256', kid: key.kid as string, typ: 'at+jwt' })
        .setIssuer(issuer)
        .setAudience(audience)
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(await importJWK(key, 'RS256'));
      issued++;
      ctx.status = 200;
      ctx.body = {
        access_token: token,
        issued_token_type: ACCESS_TOKEN_TYPE,
        token_type: 'Bearer',
        expires_in: 300,
      };
    },
    ['subject_token', 'subject_token_type', 'audience', 'scope', 'requested_token_type'],
  );
  return () => issued;
}
