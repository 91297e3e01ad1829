import type { Client } from '@modelcontextprotocol/client';
import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';
import { type Backend, type BackendRegistry, withoutBackendEnvelope } from '../backends/index.js';
import { GatewayError } from '../errors.js';

/** The live connection a routed request runs on (BackendCalls.request). */
export type RouteLive = Parameters<Parameters<Backend['request']>[1]>[0];

/** What a backend must have declared for a request routed to it. */
export type Capability = 'resources' | 'prompts' | 'completions' | 'subscribe' | 'logging';

/**
 * Runs `fn` on backend `server` as one of its requests in flight (a reload's or remove's drain waits
 * for it), once the backend is ready and has declared `capability`; errors are clear ProtocolErrors.
 */
export async function routeToBackend<T extends object>(
  registry: BackendRegistry,
  route: { server: string; capability: Capability; method: string; signal: AbortSignal },
  fn: (client: Client, options: { signal: AbortSignal; timeout: number }, live: RouteLive) => Promise<T>,
): Promise<T> {
  const { server, capability, method } = route;
  const backend = registry.get(server);
  if (!backend) {
    const names = registry.names();
    throw new ProtocolError(
      ProtocolErrorCode.InvalidParams,
      `${method}: unknown server '${server}'; servers: ${names.length ? names.join(', ') : '(none)'}`,
    );
  }
  try {
    return await backend.request(
      method,
      (live) => {
        const { client, capabilities, signal, timeoutMs } = live;
        const has = capability === 'subscribe' ? capabilities.resources?.subscribe : capabilities[capability];
        const what = capability === 'subscribe' ? 'resources.subscribe' : capability;
        const unsupported = () =>
          new ProtocolError(
            ProtocolErrorCode.InvalidParams,
            `${method}: server '${server}' does not support it (it did not declare the '${what}' capability)`,
          );
        const send = () => fn(client, { signal, timeout: timeoutMs }, live).then(withoutBackendEnvelope);
        if (has) return send();
        // Completions are asked anyway: 2026-07-28 servers in the field serve completion/complete without
        // declaring it in server/discover (the conformance reference server does); only a server that
        // then answers "method not found" gets the clear refusal.
        if (capability !== 'completions') throw unsupported();
        return send().catch((err: unknown) => {
          if (err instanceof ProtocolError && err.code === ProtocolErrorCode.MethodNotFound)
            throw unsupported();
          throw err;
        });
      },
      { signal: route.signal },
    );
  } catch (err) {
    if (err instanceof GatewayError)
      throw new ProtocolError(ProtocolErrorCode.InternalError, err.message, { code: err.code });
    throw err;
  }
}
