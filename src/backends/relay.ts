/**
 * What a 2026-07-28 backend puts on a result about itself, not about the answer: its serverInfo in
 * `_meta`, the result type and caching hints of its own lists. Relayed as is, the gateway would claim
 * to be the backend (the SDK keeps a handler's `_meta` over its own stamp) and a client would cache
 * the gateway's merged answers by one backend's hints; so they stop at the gateway.
 */
const SERVER_INFO_META_KEY = 'io.modelcontextprotocol/serverInfo';
const ENVELOPE_KEYS = ['resultType', 'ttlMs', 'cacheScope'] as const;

export function withoutBackendEnvelope<T extends object>(result: T): T {
  const record = result as Record<string, unknown>;
  const meta = record._meta as Record<string, unknown> | undefined;
  const hasMeta = meta !== undefined && SERVER_INFO_META_KEY in meta;
  if (!hasMeta && !ENVELOPE_KEYS.some((k) => k in record)) return result;
  const copy: Record<string, unknown> = { ...record };
  for (const key of ENVELOPE_KEYS) delete copy[key];
  if (hasMeta) {
    const { [SERVER_INFO_META_KEY]: _dropped, ...rest } = meta;
    if (Object.keys(rest).length) copy._meta = rest;
    else delete copy._meta;
  }
  return copy as T;
}
