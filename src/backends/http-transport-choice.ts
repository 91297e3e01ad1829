import { SdkError, SdkErrorCode, SdkHttpError } from '@modelcontextprotocol/client';
import type { HttpTransportSetting } from '../config/types.js';
import { describeError, describeHttpFailure } from './describe.js';

/** The two HTTP transports a `url` backend may speak. */
export type HttpTransportKind = 'streamable-http' | 'sse';

/** What list_servers shows as the transport in use; `sse (fallback)` when the default fell back to it. */
export type HttpTransportUsed = 'streamable-http' | 'sse' | 'sse (fallback)';

/**
 * Statuses that say who may talk to the server, or when, rather than which transport it speaks: an
 * HTTP+SSE attempt would meet the same answer and hide the real problem behind an SSE error.
 */
const NOT_A_FALLBACK_SIGNAL = new Set([401, 403, 407, 408, 429]);

/**
 * Whether connecting over Streamable HTTP failed with the spec's signal that the server speaks only
 * the deprecated HTTP+SSE transport: its initialize POST answered with an HTTP 4xx (404 and 405 in
 * practice) — MCP 2025-03-26 and later, "Backwards Compatibility". Refused connections, timeouts and
 * 5xx are failures of a server that may well speak Streamable HTTP, and are retried as they are.
 */
export function isSseFallbackSignal(err: unknown): err is SdkHttpError {
  if (!(err instanceof SdkHttpError)) return false;
  const status = err.status;
  return status >= 400 && status < 500 && !NOT_A_FALLBACK_SIGNAL.has(status);
}

/**
 * Which HTTP transport one `url` backend is spoken to over, across its connection attempts.
 *
 * `transport: sse` and `transport: streamable-http` fix it. Unset, an attempt starts with Streamable
 * HTTP and falls back to HTTP+SSE on {@link isSseFallbackSignal}; once a backend has connected over
 * SSE its reconnects go straight to SSE (one request fewer, and no 405 in its log each time), until a
 * connect over SSE fails: the next attempt starts with Streamable HTTP again, so a server that moved
 * on to Streamable HTTP is found without a restart of the gateway.
 */
export class HttpTransportChoice {
  /** The last connect of an unset choice ended on SSE. */
  private onSse = false;

  constructor(private readonly setting: HttpTransportSetting | undefined) {}

  /** The transport an attempt starts with. */
  first(): HttpTransportKind {
    return this.setting ?? (this.onSse ? 'sse' : 'streamable-http');
  }

  /** Whether to try HTTP+SSE within the same attempt after connecting over `kind` failed with `err`. */
  fallsBack(kind: HttpTransportKind, err: unknown): err is SdkHttpError {
    return !this.setting && kind === 'streamable-http' && isSseFallbackSignal(err);
  }

  /** Connected over `kind`: what list_servers shows. */
  connected(kind: HttpTransportKind): HttpTransportUsed {
    if (this.setting) return kind;
    this.onSse = kind === 'sse';
    return kind === 'sse' ? 'sse (fallback)' : kind;
  }

  /** An attempt over `kind` failed for good. */
  failed(kind: HttpTransportKind): void {
    if (kind === 'sse') this.onSse = false;
  }
}

/**
 * Why connecting failed when Streamable HTTP answered `signal` and the HTTP+SSE attempt then failed with
 * `err`: both, since a 404 is as often a wrong URL as an SSE-only server, and the SSE error alone
 * (`Non-200 status code (404)`) would hide what Streamable HTTP said. A timeout stays itself, so it
 * is reported as one.
 */
export function fallbackFailure(signal: SdkHttpError, err: unknown): unknown {
  if (err instanceof SdkError && err.code === SdkErrorCode.RequestTimeout) return err;
  return new Error(
    `Streamable HTTP answered ${describeHttpFailure(signal)}, and HTTP+SSE failed too: ${describeError(err)}`,
    { cause: err },
  );
}
