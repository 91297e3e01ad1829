import {
  type Client,
  type InputRequiredResult,
  type StandardSchemaV1,
  withInputRequired,
} from '@modelcontextprotocol/client';
import type { BackendRequest } from './backend-calls.js';
import { withInputRounds } from './input-rounds.js';
import type { ClientRequester } from './types.js';

type Live = Parameters<BackendRequest<unknown>>[0];

/**
 * Sends a prompts/get or resources/read to a backend for one client, carrying what the backend asks
 * of the client during it, as tools/call does (backend-calls.ts): a 2026-07-28 backend's
 * input_required goes through withInputRounds to `requester`; a 2025 backend's elicitation, sampling
 * or roots request sent during the request reaches `requester` through the call registry
 * (call-routing.ts). Without a requester, what the backend asks is refused.
 */
export async function sendRouted<S extends StandardSchemaV1<unknown, object>>(
  live: Live,
  spec: {
    server: string;
    method: 'prompts/get' | 'resources/read';
    params: Record<string, unknown>;
    schema: S;
    requester: ClientRequester | undefined;
  },
): Promise<StandardSchemaV1.InferOutput<S>> {
  const { client, signal, timeoutMs, requesters } = live;
  const { server, method, requester } = spec;
  const options = { signal, timeout: timeoutMs };
  if (client.getProtocolEra() === 'modern') {
    const schema = withInputRequired(spec.schema);
    return withInputRounds({
      server,
      what: method,
      params: spec.params,
      requester,
      signal,
      send: (params) =>
        (client as Client).request({ method, params } as never, schema as never, {
          ...options,
          allowInputRequired: true,
        }) as Promise<StandardSchemaV1.InferOutput<S> | InputRequiredResult>,
    });
  }
  // The same object is sent: the HTTP transport learns its JSON-RPC id by it (call-routing.ts).
  const params = { ...spec.params };
  const release = requesters.begin(params, requester);
  try {
    return (await client.request(
      { method, params } as never,
      spec.schema as never,
      options,
    )) as StandardSchemaV1.InferOutput<S>;
  } finally {
    release();
  }
}
