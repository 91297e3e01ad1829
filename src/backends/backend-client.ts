import { Client, type ClientOptions } from '@modelcontextprotocol/sdk/client/index.js';
import type { AnySchema, SchemaOutput } from '@modelcontextprotocol/sdk/server/zod-compat.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { ClientRequest, Implementation } from '@modelcontextprotocol/sdk/types.js';
import type { CallRequesters } from './call-routing.js';

/**
 * Requests the gateway sends for itself, never for a client: a backend's sampling or elicitation
 * cannot be meant for a client while only these run. tools/call is counted by the backend with its
 * session (CallRequesters.begin).
 */
const GATEWAY_OWN = new Set(['initialize', 'ping', 'tools/list', 'tools/call']);

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
  }

  override request<T extends AnySchema>(
    request: ClientRequest,
    resultSchema: T,
    options?: RequestOptions,
  ): Promise<SchemaOutput<T>> {
    if (GATEWAY_OWN.has(request.method)) return super.request(request, resultSchema, options);
    const done = this.calls.beginOther();
    const result = super.request(request, resultSchema, options);
    result.then(done, done);
    return result;
  }
}
