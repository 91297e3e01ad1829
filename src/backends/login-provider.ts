/**
 * The gateway as an OAuth client of an HTTP backend whose tokens come from a one-time login by an
 * admin (`servers.<name>.oauth` with grant authorization_code). The SDK runs the protocol — RFC 9728
 * and RFC 8414 discovery from the backend's 401, dynamic client registration (RFC 7591) when no client
 * is configured, authorization code + PKCE, refresh — through this provider, which keeps what it
 * must remember in the encrypted {@link TokenStore}.
 *
 * Two roles share it. The login command (cli/login.ts) runs the browser flow and saves the tokens.
 * The running gateway only uses and refreshes them: where the flow would need a person (no tokens,
 * no client, a refresh refused) it throws {@link NeedsLoginError}, and the backend waits, status
 * "needs login", until the store changes.
 */
import { randomBytes } from 'node:crypto';
import type {
  OAuthClientInformationContext,
  OAuthClientMetadata,
  OAuthClientProvider,
  StoredOAuthClientInformation,
  StoredOAuthTokens,
} from '@modelcontextprotocol/client';
import type { AuthorizationCodeOAuth } from '../config/types.js';
import { GatewayError } from '../errors.js';
import type { TokenStore } from './token-store.js';

/** The backend wants a login by a person; `command` is what to run. */
export class NeedsLoginError extends GatewayError {
  constructor(
    readonly server: string,
    readonly command: string,
  ) {
    super('BACKEND_NEEDS_LOGIN', `needs login: run '${command}'`, { server, command });
  }
}

/** Whether `err`, or an error it wraps, is a {@link NeedsLoginError}. */
export function needsLogin(err: unknown): NeedsLoginError | undefined {
  for (let e = err, depth = 0; e && depth < 6; depth++) {
    if (e instanceof NeedsLoginError) return e;
    e = e instanceof Error ? e.cause : undefined;
  }
  return undefined;
}

export interface LoginTarget {
  name: string;
  url: string;
  oauth: AuthorizationCodeOAuth;
  /** The config file, for the command the status shows. */
  configFile?: string;
}

export function loginCommand(target: LoginTarget): string {
  const config = target.configFile ? ` --config ${target.configFile}` : '';
  return `mcp-gateway login ${target.name}${config}`;
}

export function redirectUri(oauth: AuthorizationCodeOAuth): string {
  return `http://127.0.0.1:${oauth.callbackPort}/callback`;
}

export class LoginProvider implements OAuthClientProvider {
  private verifier: string | undefined;
  private readonly stateValue = randomBytes(16).toString('base64url');

  /**
   * `onAuthorizationUrl`: the login command's way to show the URL. Without it (the running gateway)
   * a flow that needs a person throws NeedsLoginError.
   */
  constructor(
    private readonly target: LoginTarget,
    private readonly store: TokenStore,
    private readonly onAuthorizationUrl?: (url: URL) => void,
  ) {}

  get redirectUrl(): string {
    return redirectUri(this.target.oauth);
  }

  get clientMetadata(): OAuthClientMetadata {
    const { oauth } = this.target;
    return {
      client_name: 'mcp-gateway',
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: oauth.clientSecret ? 'client_secret_basic' : 'none',
      ...(oauth.scope ? { scope: oauth.scope } : {}),
    };
  }

  /** The CSRF check of the login's callback compares the `state` it gets with this. */
  state(): string {
    return this.stateValue;
  }

  clientInformation(ctx?: OAuthClientInformationContext): StoredOAuthClientInformation | undefined {
    const { oauth } = this.target;
    if (oauth.clientId) {
      // Stamped with the issuer the SDK asks for, as it would stamp it itself and then save it: a
      // configured client is the config's, and saving it would write the token store on every
      // attempt — which woke the backend's own wait for a login into a loop of attempts, and could
      // overwrite the tokens a concurrent `mcp-gateway login` had just written.
      return {
        client_id: oauth.clientId,
        ...(oauth.clientSecret ? { client_secret: oauth.clientSecret } : {}),
        ...(ctx ? { issuer: ctx.issuer } : {}),
      } as StoredOAuthClientInformation;
    }
    const registered = this.entry()?.client;
    if (registered) return registered as StoredOAuthClientInformation;
    // Registering a client is part of the login: the running gateway does not do it on its own.
    if (!this.onAuthorizationUrl) throw this.needsLogin();
    return undefined;
  }

  saveClientInformation(info: StoredOAuthClientInformation): void {
    // A configured client lives in the config; only a registered one (RFC 7591) is kept.
    if (this.target.oauth.clientId) return;
    this.store.update(this.target.name, (e) => ({ ...this.fresh(e), client: { ...info } }));
  }

  tokens(): StoredOAuthTokens | undefined {
    return this.entry()?.tokens as StoredOAuthTokens | undefined;
  }

  saveTokens(tokens: StoredOAuthTokens): void {
    this.store.update(this.target.name, (e) => ({
      ...this.fresh(e),
      tokens: { ...tokens },
      savedAt: Date.now(),
    }));
  }

  redirectToAuthorization(url: URL): void {
    if (!this.onAuthorizationUrl) throw this.needsLogin();
    this.onAuthorizationUrl(url);
  }

  saveCodeVerifier(verifier: string): void {
    this.verifier = verifier;
  }

  codeVerifier(): string {
    if (!this.verifier) throw new Error('no PKCE code verifier: the login was not started here');
    return this.verifier;
  }

  /** The authorization server said the stored tokens or client are no good: forget them. */
  invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery'): void {
    if (scope === 'verifier') this.verifier = undefined;
    if (scope === 'verifier' || scope === 'discovery') return;
    this.store.update(this.target.name, (e) => {
      if (!e || scope === 'all') return undefined;
      const { tokens: _t, client: _c, ...rest } = e;
      return scope === 'tokens' ? { ...rest, ...(e.client ? { client: e.client } : {}) } : { ...rest };
    });
  }

  /** Forgets the tokens (a new login starts from scratch), keeping a registered client. */
  forgetTokens(): void {
    this.invalidateCredentials('tokens');
  }

  private entry() {
    const e = this.store.get(this.target.name);
    // Tokens for another URL are not this backend's: the config's url changed since the login.
    return e && e.url === this.target.url ? e : undefined;
  }

  private fresh(e: ReturnType<TokenStore['get']>) {
    return e && e.url === this.target.url ? e : { url: this.target.url };
  }

  private needsLogin(): NeedsLoginError {
    return new NeedsLoginError(this.target.name, loginCommand(this.target));
  }
}
