/**
 * The console's sign-in through the authorization server (`http.console.client_id` with `http.auth`):
 * the page asks here where to send the person (`GET sign-in`) and hands the code it gets back to
 * `POST oauth/token`, which the gateway forwards to the issuer's token endpoint.
 *
 * Why forward instead of letting the page call the issuer: the page's Content-Security-Policy keeps
 * `connect-src 'self'` (one fixed policy, whatever the config), and the issuer needs no CORS setup
 * for the gateway's origin. The forward adds nothing the browser could not send itself: only the
 * authorization_code grant, only the console's own public client, no secret, only to the token
 * endpoint of the configured issuer, and only the access token comes back (no refresh or ID token:
 * the page keeps nothing longer-lived than the access token, in sessionStorage).
 */
import type { ServerResponse } from 'node:http';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { secrets } from '../secrets.js';
import type { ConsoleOAuthClient } from './host.js';
import type { SignInView, TokenView } from './types.js';

/** RFC 7636 §4.1: 43 to 128 unreserved characters. */
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;
/** Where the issuer sends the person back: the page, which finishes the sign-in. */
export const CALLBACK_PATH = '/console/callback';

type Send = (res: ServerResponse, status: number, body: unknown) => void;

export async function signInView(
  client: ConsoleOAuthClient | undefined,
  logger: Logger,
): Promise<SignInView> {
  if (!client) return {};
  try {
    const { authorizationEndpoint } = await client.endpoints();
    return {
      oauth: {
        issuer: client.issuer,
        authorizationEndpoint,
        clientId: client.clientId,
        scope: client.scope,
        resource: client.resource,
      },
    };
  } catch (err) {
    logger.warn(`console sign-in: ${errorMessage(err)}`);
    return { problem: `The authorization server's metadata could not be read: ${errorMessage(err)}` };
  }
}

/** `POST /console/api/oauth/token` with `{code, code_verifier, redirect_uri}` as JSON. */
export async function exchangeCode(
  client: ConsoleOAuthClient | undefined,
  body: unknown,
  res: ServerResponse,
  send: Send,
  logger: Logger,
): Promise<void> {
  if (!client) return send(res, 404, { error: 'OAuth sign-in is not configured (http.console.client_id)' });
  const { code, code_verifier, redirect_uri } = (body ?? {}) as Record<string, unknown>;
  if (typeof code !== 'string' || code === '' || code.length > 4096)
    return send(res, 400, { error: 'invalid_request', error_description: 'expected a code' });
  if (typeof code_verifier !== 'string' || !VERIFIER.test(code_verifier))
    return send(res, 400, { error: 'invalid_request', error_description: 'expected a PKCE code_verifier' });
  if (typeof redirect_uri !== 'string' || !isCallback(redirect_uri))
    return send(res, 400, {
      error: 'invalid_request',
      error_description: `redirect_uri must be the console's ${CALLBACK_PATH}`,
    });
  let tokenEndpoint: string;
  try {
    ({ tokenEndpoint } = await client.endpoints());
  } catch (err) {
    return send(res, 502, {
      error: `The authorization server's metadata could not be read: ${errorMessage(err)}`,
    });
  }
  let answer: Response;
  try {
    answer = await fetch(tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        code_verifier,
        redirect_uri,
        client_id: client.clientId,
        resource: client.resource,
      }),
      redirect: 'error',
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    logger.warn(`console sign-in: token endpoint ${tokenEndpoint}: ${errorMessage(err)}`);
    return send(res, 502, { error: `The authorization server did not answer: ${errorMessage(err)}` });
  }
  const json = (await answer.json().catch(() => ({}))) as Record<string, unknown>;
  if (!answer.ok || typeof json.access_token !== 'string') {
    const error = typeof json.error === 'string' ? json.error : `HTTP ${answer.status}`;
    const description = typeof json.error_description === 'string' ? json.error_description : undefined;
    logger.info(`console sign-in refused by the issuer: ${error}${description ? ` (${description})` : ''}`);
    return send(res, 400, {
      error,
      error_description: secrets.redact(
        `The authorization server refused the sign-in: ${description ?? error}`,
      ),
    });
  }
  const token: TokenView = {
    access_token: json.access_token,
    token_type: typeof json.token_type === 'string' ? json.token_type : 'Bearer',
    ...(typeof json.expires_in === 'number' ? { expires_in: json.expires_in } : {}),
    ...(typeof json.scope === 'string' ? { scope: json.scope } : {}),
  };
  return send(res, 200, token);
}

function isCallback(uri: string): boolean {
  try {
    const url = new URL(uri);
    return (
      (url.protocol === 'https:' || url.protocol === 'http:') &&
      url.pathname === CALLBACK_PATH &&
      !url.search &&
      !url.hash
    );
  } catch {
    return false;
  }
}
