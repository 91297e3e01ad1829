/**
 * Why a request was refused, and the HTTP answer that says so as RFC 6750 and the MCP authorization
 * spec ask: 401 with `WWW-Authenticate: Bearer resource_metadata="…"` (plus `error` when a token was
 * given and refused), 403 `insufficient_scope` with the scopes that would do (step-up).
 */

export type AuthFailureCode = 'missing_token' | 'invalid_token' | 'insufficient_scope' | 'server_error';

export class AuthFailure extends Error {
  override readonly name = 'AuthFailure';
  constructor(
    readonly code: AuthFailureCode,
    message: string,
    /** For insufficient_scope: the scopes the request needs. */
    readonly scopes: string[] = [],
  ) {
    super(message);
  }
}

export interface AuthAnswer {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

export function challengeAnswer(failure: AuthFailure, resourceMetadataUrl: string | undefined): AuthAnswer {
  const params: string[] = [];
  if (resourceMetadataUrl) params.push(`resource_metadata="${quoted(resourceMetadataUrl)}"`);
  switch (failure.code) {
    case 'missing_token':
      // RFC 6750 §3.1: no error code when the request had no credentials at all.
      return {
        status: 401,
        headers: { 'WWW-Authenticate': bearer(params) },
        body: { error: 'unauthorized', error_description: failure.message },
      };
    case 'invalid_token':
      params.push('error="invalid_token"', `error_description="${quoted(failure.message)}"`);
      return {
        status: 401,
        headers: { 'WWW-Authenticate': bearer(params) },
        body: { error: 'invalid_token', error_description: failure.message },
      };
    case 'insufficient_scope':
      params.push(
        'error="insufficient_scope"',
        `scope="${quoted(failure.scopes.join(' '))}"`,
        `error_description="${quoted(failure.message)}"`,
      );
      return {
        status: 403,
        headers: { 'WWW-Authenticate': bearer(params) },
        body: {
          error: 'insufficient_scope',
          error_description: failure.message,
          scope: failure.scopes.join(' '),
        },
      };
    case 'server_error':
      return {
        status: 503,
        headers: {},
        body: { error: 'server_error', error_description: failure.message },
      };
  }
}

function bearer(params: string[]): string {
  return params.length === 0 ? 'Bearer' : `Bearer ${params.join(', ')}`;
}

/** A quoted-string's content: no quotes or backslashes, no control characters (RFC 7230 §3.2.6). */
function quoted(value: string): string {
  let out = '';
  for (const ch of value) {
    const code = ch.codePointAt(0) ?? 0;
    out += ch === '"' || ch === '\\' ? "'" : code < 0x20 || code === 0x7f ? ' ' : ch;
  }
  return out;
}
