/**
 * Sign-in through the authorization server: authorization code with PKCE (S256, WebCrypto). The
 * state and code verifier wait in sessionStorage (this tab only) while the person is at the issuer,
 * and are used once; the code comes back to /console/callback, whose URL is replaced at once so the
 * code stays neither in the address bar nor in history. The gateway forwards the code to the
 * issuer's token endpoint (the page may fetch only its own origin) and the access token is kept as
 * the static token is, for this tab.
 */
import type { SignInView, TokenView } from '../console/types.js';
import { post, saveToken } from './api.js';

type OAuthClient = NonNullable<SignInView['oauth']>;

const STATE_KEY = 'mcp-gateway-console-oauth-state';
const VERIFIER_KEY = 'mcp-gateway-console-oauth-verifier';
/** The page (hash) the person was on, to come back to. */
const RETURN_KEY = 'mcp-gateway-console-oauth-return';

function base64url(bytes: Uint8Array): string {
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function random(bytes: number): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

function callbackUrl(): string {
  // Beside the page: /console/callback, from /console/ and from the callback itself.
  return new URL('callback', new URL('./', location.href)).href;
}

/** Sends the browser to the issuer's authorization endpoint; does not return. */
export async function startSignIn(client: OAuthClient): Promise<void> {
  if (!crypto.subtle)
    throw new Error('Signing in needs a secure page: open the console over HTTPS (or on localhost).');
  const verifier = random(32);
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  const state = random(16);
  sessionStorage.setItem(STATE_KEY, state);
  sessionStorage.setItem(VERIFIER_KEY, verifier);
  sessionStorage.setItem(RETURN_KEY, location.hash);
  const url = new URL(client.authorizationEndpoint);
  const params: Record<string, string> = {
    response_type: 'code',
    client_id: client.clientId,
    redirect_uri: callbackUrl(),
    code_challenge: base64url(new Uint8Array(digest)),
    code_challenge_method: 'S256',
    state,
    resource: client.resource,
    ...(client.scope ? { scope: client.scope } : {}),
  };
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  location.assign(url.href);
}

/**
 * On /console/callback: takes the code (after replacing the URL with the console's own), checks the
 * state, and exchanges the code for an access token, saved for this tab. Resolves to an error to
 * show, or undefined when signed in or when this is not the callback.
 */
export async function finishSignIn(): Promise<string | undefined> {
  if (!location.pathname.endsWith('/callback')) return undefined;
  const params = new URLSearchParams(location.search);
  const redirectUri = callbackUrl();
  const expected = sessionStorage.getItem(STATE_KEY);
  const verifier = sessionStorage.getItem(VERIFIER_KEY);
  const back = sessionStorage.getItem(RETURN_KEY) ?? '';
  for (const key of [STATE_KEY, VERIFIER_KEY, RETURN_KEY]) sessionStorage.removeItem(key);
  history.replaceState(null, '', `./${back}`);
  const error = params.get('error');
  if (error)
    return `The authorization server did not sign you in: ${params.get('error_description') ?? error}`;
  const code = params.get('code');
  if (!code) return 'The sign-in came back without a code.';
  if (!expected || !verifier || params.get('state') !== expected)
    return 'This sign-in answer is not for the sign-in this tab started (state mismatch); sign in again.';
  try {
    const token = await post<TokenView>('oauth/token', {
      code,
      code_verifier: verifier,
      redirect_uri: redirectUri,
    });
    saveToken(token.access_token);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}
