/**
 * `servers.<name>.token_exchange`: tool calls to one HTTP backend carry a token the gateway got by
 * exchanging the caller's own at the identity provider (RFC 8693), for the backend's audience. Its
 * own module so the rest of the config stays as it was; `normalize.ts` calls {@link tokenExchange}.
 */
import { secrets } from '../secrets.js';
import type { Problem, Segment } from './problems.js';

export interface TokenExchangeSettings {
  /** The token endpoint; or found from `issuer`'s metadata (RFC 8414 / OpenID discovery). */
  tokenEndpoint?: string;
  issuer?: string;
  /** The audience asked for (`audience`, and `resource` per RFC 8707): the backend's resource. */
  audience: string;
  scope?: string;
  /** The gateway's client at the identity provider (HTTP Basic at the token endpoint). */
  clientId: string;
  clientSecret: string;
}

type Data = Record<string, unknown>;
const isData = (v: unknown): v is Data => v !== null && typeof v === 'object' && !Array.isArray(v);
const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);

/** `token_exchange` → settings, or undefined when absent or unusable (the problems say why). */
export function tokenExchange(
  raw: unknown,
  path: Segment[],
  problems: Problem[],
  forwardGiven: boolean,
): TokenExchangeSettings | undefined {
  if (!isData(raw)) return undefined;
  if (forwardGiven) {
    problems.push({
      path,
      text: 'token_exchange and forward_caller_token exclude each other: the backend gets the exchanged token or the caller’s own, not both',
    });
    return undefined;
  }
  const tokenEndpoint = text(raw.token_endpoint);
  const issuer = text(raw.issuer);
  const audience = text(raw.audience);
  const clientId = text(raw.client_id);
  const clientSecret = text(raw.client_secret);
  if (clientSecret) secrets.add(clientSecret, '<token exchange client secret>');
  if (!tokenEndpoint && !issuer) {
    problems.push({ path, text: 'token_exchange needs token_endpoint or issuer (whose metadata names it)' });
    return undefined;
  }
  // Missing audience, client_id or client_secret are the schema's to report (`required`).
  if (!audience || !clientId || !clientSecret) return undefined;
  const scope = text(raw.scope);
  return {
    ...(tokenEndpoint ? { tokenEndpoint } : {}),
    ...(issuer ? { issuer } : {}),
    audience,
    ...(scope ? { scope } : {}),
    clientId,
    clientSecret,
  };
}
