import { SdkError, SdkErrorCode, SdkHttpError } from '@modelcontextprotocol/client';
import { describe, expect, it } from 'vitest';
import {
  fallbackFailure,
  HttpTransportChoice,
  isSseFallbackSignal,
} from '../../src/backends/http-transport-choice.js';

function httpError(status: number): SdkHttpError {
  return new SdkHttpError(SdkErrorCode.ClientHttpNotImplemented, `HTTP ${status}`, { status });
}

describe('the fallback signal to HTTP+SSE', () => {
  it.each([400, 404, 405, 406, 415])('HTTP %i to the initialize POST is one', (status) => {
    expect(isSseFallbackSignal(httpError(status))).toBe(true);
  });

  it.each([401, 403, 407, 408, 429, 500, 502, 503])(
    'HTTP %i is not: it says who or when, or is a failure',
    (status) => {
      expect(isSseFallbackSignal(httpError(status))).toBe(false);
    },
  );

  it('a refused connection or a timeout is not', () => {
    expect(isSseFallbackSignal(new TypeError('fetch failed'))).toBe(false);
    expect(isSseFallbackSignal(new Error('HTTP 404'))).toBe(false);
  });
});

describe('HttpTransportChoice', () => {
  it('unset: Streamable HTTP first, SSE on the signal, then SSE first until a connect over SSE fails', () => {
    const choice = new HttpTransportChoice(undefined);
    expect(choice.first()).toBe('streamable-http');
    expect(choice.fallsBack('streamable-http', httpError(405))).toBe(true);
    expect(choice.fallsBack('streamable-http', httpError(503))).toBe(false);
    expect(choice.fallsBack('sse', httpError(405))).toBe(false);
    expect(choice.connected('sse')).toBe('sse (fallback)');
    expect(choice.first()).toBe('sse');
    choice.failed('sse');
    expect(choice.first()).toBe('streamable-http');
    expect(choice.connected('streamable-http')).toBe('streamable-http');
  });

  it('transport: sse and transport: streamable-http never fall back', () => {
    const sse = new HttpTransportChoice('sse');
    expect(sse.first()).toBe('sse');
    sse.failed('sse');
    expect(sse.first()).toBe('sse');
    expect(sse.connected('sse')).toBe('sse');
    const strict = new HttpTransportChoice('streamable-http');
    expect(strict.fallsBack('streamable-http', httpError(405))).toBe(false);
    expect(strict.first()).toBe('streamable-http');
  });

  it('a failed fallback names both answers, and a timeout stays a timeout', () => {
    const failure = fallbackFailure(httpError(404), new Error('SSE error: Non-200 status code (404)'));
    expect((failure as Error).message).toBe(
      'Streamable HTTP answered HTTP 404 Not Found, and HTTP+SSE failed too: SSE error: Non-200 status code (404)',
    );
    const timeout = new SdkError(SdkErrorCode.RequestTimeout, 'timed out', { timeout: 10 });
    expect(fallbackFailure(httpError(404), timeout)).toBe(timeout);
  });
});
