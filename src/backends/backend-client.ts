import {
  Client,
  type ClientOptions,
  type Implementation,
  type JSONRPCErrorResponse,
  type JSONRPCResponse,
} from '@modelcontextprotocol/client';
import type { CallRequesters } from './call-routing.js';

/**
 * Requests the gateway sends for itself, never for a client: a backend's sampling or elicitation
 * cannot be meant for a client while only these run. tools/call is counted by the backend with its
 * session (CallRequesters.begin).
 */
const GATEWAY_OWN = new Set(['initialize', 'server/discover', 'ping', 'tools/list', 'tools/call']);

/**
 * The SDK Client the gateway talks to one backend with. It tells `calls` about every other request in
 * flight (resources/read, prompts/get, completion/complete… for some client): over stdio a backend's
 * sampling request during one of them could be for that request's client, whoever's tool call is also
 * running, so it is refused rather than guessed (see CallRequesters.unrelated).
 */
export class BackendClient extends Client {
  constructor(
    info: Implementation,
    options: ClientOptions,
    private readonly calls: CallRequesters,
  ) {
    super(info, options);
    // `request` is overloaded (spec methods, custom methods with a schema); wrapping the bound
    // function keeps every overload without restating them.
    const send = this.request.bind(this) as (...args: unknown[]) => Promise<unknown>;
    this.request = ((...args: unknown[]) => {
      const method = (args[0] as { method: string }).method;
      const params = (args[0] as { params?: unknown }).params;
      if (GATEWAY_OWN.has(method)) return send(...args);
      // A prompts/get or resources/read registered with its client's requester (routed-send.ts) is
      // tied to that client like a tool call, not one of the others.
      if (typeof params === 'object' && params !== null && this.calls.has(params)) return send(...args);
      const done = this.calls.beginOther();
      const result = send(...args);
      result.then(done, done);
      return result;
    }) as Client['request'];
  }

  /**
   * A 2026-07-28 backend's result without `resultType` is read as a complete result. The revision
   * says servers MUST send it and the SDK refuses a result without it (INVALID_RESULT), but servers
   * in the field omit it (the conformance suite's own reference server does, for its tools' content
   * results): the absence can mean nothing else, and refusing would lose the backend's answer.
   */
  protected override _onresponse(response: JSONRPCResponse | JSONRPCErrorResponse): void {
    const result = (response as { result?: unknown }).result;
    if (
      this.getProtocolEra() === 'modern' &&
      typeof result === 'object' &&
      result !== null &&
      !Array.isArray(result) &&
      !('resultType' in result)
    ) {
      super._onresponse({ ...response, result: { ...result, resultType: 'complete' } } as JSONRPCResponse);
      return;
    }
    super._onresponse(response);
  }
}
