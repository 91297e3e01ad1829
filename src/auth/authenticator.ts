import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AuthInfo } from '@modelcontextprotocol/server';
import type { AuthSettings } from '../config/index.js';
import { staticCaller, withCaller } from './caller.js';
import { type AuthAnswer, AuthFailure, challengeAnswer } from './challenge.js';
import {
  metadataEndpointPath,
  protectedResourceMetadata,
  resourceFor,
  resourceMetadataUrl,
} from './resource.js';
import { TokenVerifier } from './token-verifier.js';

export type AuthVerdict = { ok: true; authInfo: AuthInfo } | { ok: false; answer: AuthAnswer };

/**
 * The HTTP front's one question — who sent this request, and may they? — for `http.auth` (OAuth
 * access tokens) with `http.token` (the shared static token) accepted besides when both are set.
 */
export interface Authenticator {
  /** Checks the bearer token of a request to the MCP endpoint at `endpointPath` (`/mcp`, `/mcp/<profile>`). */
  authenticate(req: IncomingMessage, endpointPath: string): Promise<AuthVerdict>;
  /**
   * The RFC 9728 document for a `/.well-known/oauth-protected-resource…` path, or undefined when the
   * path is not one or names no endpoint (`isEndpoint`).
   */
  metadataFor(pathname: string, isEndpoint: (path: string) => boolean): AuthAnswer | undefined;
  /** The answer for a refusal found after authentication (step-up: a tool needs a scope). */
  refuse(failure: AuthFailure, endpointPath: string): AuthAnswer;
}

export function createAuthenticator(settings: AuthSettings, staticToken?: string): Authenticator {
  const verifier = new TokenVerifier(settings);
  const refuse = (failure: AuthFailure, endpointPath: string) =>
    challengeAnswer(failure, resourceMetadataUrl(settings, endpointPath));
  return {
    async authenticate(req, endpointPath) {
      const resource = resourceFor(settings, endpointPath);
      try {
        const token = bearerToken(req.headers.authorization);
        if (staticToken !== undefined && sameSecret(token, staticToken)) {
          return {
            ok: true,
            authInfo: withCaller({ token, clientId: 'static-token', scopes: [] }, staticCaller(token)),
          };
        }
        const verified = await verifier.verify(token, resource);
        const missing = settings.requiredScopes.filter((s) => !verified.scopes.includes(s));
        if (missing.length > 0)
          throw new AuthFailure(
            'insufficient_scope',
            'The access token lacks a scope this gateway requires',
            [...settings.requiredScopes],
          );
        const authInfo = withCaller(
          {
            token,
            clientId: verified.clientId,
            scopes: verified.scopes,
            ...(verified.expiresAt !== undefined ? { expiresAt: verified.expiresAt } : {}),
            resource: new URL(resource),
            resourceMetadataUrl: resourceMetadataUrl(settings, endpointPath),
          },
          verified.caller,
        );
        return { ok: true, authInfo };
      } catch (err) {
        if (err instanceof AuthFailure) return { ok: false, answer: refuse(err, endpointPath) };
        throw err;
      }
    },
    metadataFor(pathname, isEndpoint) {
      const endpoint = metadataEndpointPath(pathname);
      if (endpoint === undefined || !isEndpoint(endpoint)) return undefined;
      return {
        status: 200,
        // Public, and fetched by browser-based clients from their own origin.
        headers: { 'access-control-allow-origin': '*', 'cache-control': 'max-age=300' },
        body: protectedResourceMetadata(settings, endpoint) as unknown as Record<string, unknown>,
      };
    },
    refuse,
  };
}

function bearerToken(header: string | undefined): string {
  if (header === undefined || header.trim() === '')
    throw new AuthFailure('missing_token', 'An access token is required');
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match?.[1]) throw new AuthFailure('invalid_token', "Expected 'Authorization: Bearer <token>'");
  return match[1];
}

/** Compares digests so the time taken says nothing about how much of the token was right. */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
