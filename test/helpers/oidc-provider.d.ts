/** The part of oidc-provider 9 the test issuer uses (the package ships no types; @types lags behind). */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export interface ClientLike {
    clientId: string;
    grantTypeAllowed(grant: string): boolean;
  }
  export interface TokenLike {
    accountId?: string;
    clientId?: string;
  }
  export type Configuration = Record<string, unknown> & {
    features?: {
      resourceIndicators?: {
        enabled: boolean;
        useGrantedResource?: () => boolean;
        getResourceServerInfo?: (
          ctx: unknown,
          resource: string,
          client: ClientLike,
        ) => Record<string, unknown>;
      };
      [feature: string]: unknown;
    };
    findAccount?: (ctx: unknown, sub: string) => { accountId: string; claims: () => Record<string, unknown> };
    extraTokenClaims?: (ctx: unknown, token: TokenLike) => Record<string, unknown> | undefined;
    issueRefreshToken?: (ctx: unknown, client: ClientLike, code: unknown) => boolean;
    ttl?: Record<string, number | ((ctx: unknown, token: TokenLike, client: ClientLike) => number)>;
  };
  export default class Provider {
    constructor(issuer: string, configuration: Configuration);
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    /** A grant at the token endpoint, after client authentication (RFC 8693 token exchange, say). */
    registerGrantType(
      name: string,
      handler: (ctx: never, next: () => Promise<void>) => Promise<void> | void,
      params?: string[] | Set<string>,
    ): void;
  }
}
