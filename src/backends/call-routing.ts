import { randomUUID } from 'node:crypto';
import { ProtocolError, ProtocolErrorCode, type RequestId } from '@modelcontextprotocol/client';
import type { BackendClientRequest, ClientRequester } from './types.js';

/**
 * The `_meta` key under which the gateway's HTTP transport marks a backend's request with the JSON-RPC
 * id of our request whose response stream carried it (see http-call-transport.ts). Set or removed on
 * every request read from an SSE stream, and removed before anything is forwarded. A mark a backend
 * writes itself where none is set (a JSON answer) can only name a call of that same connection, which
 * is what its own relatedRequestId does anyway; over stdio a mark is ignored.
 */
export const RELATED_REQUEST_META_KEY = 'mcp-gateway/relatedRequestId';

/**
 * The `_meta` key that marks a tool call whose POST carries the caller's token (forward_caller_token):
 * a random key, never the token, which the HTTP transport's fetch takes out of the body before it goes.
 * A mark rather than the params object's identity, because the SDK copies params in the 2026 era.
 */
export const FORWARD_META_KEY = 'mcp-gateway/forward';

interface CallEntry {
  requester: ClientRequester | undefined;
  /** The connection (transport) and JSON-RPC id the call went out with; set by an HTTP transport. */
  wire?: { transport: object; id: RequestId };
}

type Method = BackendClientRequest['method'];

/**
 * The tool calls in flight on one backend and the client sessions they came from, so that a request
 * the backend sends to the client (sampling, elicitation, roots) reaches the client whose call it
 * serves, and no other.
 *
 * Over Streamable HTTP a server sends such a request on the response stream of the POST that carried
 * the tools/call it belongs to; the transport marks it with that call's id and it goes to that call's
 * client. Over stdio nothing says which call a request belongs to: it goes to the one client session
 * whose calls are running, and is refused when calls of several sessions (or a pipeline step) are.
 * The gateway never guesses: a client's prompt must not reach another client.
 */
export class CallRequesters {
  /** By the params object of the tools/call: the very object the SDK sends, so the transport finds it. */
  private readonly calls = new Map<object, CallEntry>();
  private readonly order: CallEntry[] = [];
  /** Forward marks of calls in flight → the caller's Authorization (see FORWARD_META_KEY). */
  private readonly forwards = new Map<string, string>();
  /** Requests other than tool calls in flight that a client may have caused (see backend-client.ts). */
  private others = 0;

  /**
   * Registers a tools/call (or a client's prompts/get or resources/read: routed-send.ts) that is about
   * to be sent with `params` (pass the same object to
   * client.request); the returned function unregisters it when the call ends.
   */
  begin(
    params: { _meta?: Record<string, unknown> },
    requester: ClientRequester | undefined,
    authorization?: string,
  ): () => void {
    const entry: CallEntry = { requester };
    this.calls.set(params, entry);
    this.order.push(entry);
    const key = authorization ? randomUUID() : undefined;
    if (key && authorization) {
      params._meta = { ...params._meta, [FORWARD_META_KEY]: key };
      this.forwards.set(key, authorization);
    }
    return () => {
      if (key) this.forwards.delete(key);
      if (this.calls.get(params) === entry) this.calls.delete(params);
      const at = this.order.indexOf(entry);
      if (at >= 0) this.order.splice(at, 1);
    };
  }

  /** Whether `params` belong to a request registered with {@link begin}. */
  has(params: object): boolean {
    return this.calls.has(params);
  }

  /** Counts a request other than a tool call while it runs; the returned function ends it (once). */
  beginOther(): () => void {
    this.others++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.others--;
    };
  }

  /** Called by an HTTP transport for each request it sends: notes the id of a registered call. */
  sent(transport: object, id: RequestId, params: unknown): void {
    if (typeof params !== 'object' || params === null) return;
    const entry = this.calls.get(params);
    if (entry) entry.wire = { transport, id };
  }

  /** The Authorization the call marked with `key` carries instead of the gateway's own. */
  authorizationFor(key: string): string | undefined {
    return this.forwards.get(key);
  }

  /**
   * The requester for a request that arrived over `transport`, which tells the call it relates to:
   * `relatedId` is the id of our request whose response stream carried it (undefined: it came on no
   * request's stream). Throws an ProtocolError when no client's call can be meant.
   */
  related(
    server: string,
    method: Method,
    transport: object,
    relatedId: RequestId | undefined,
  ): ClientRequester {
    if (relatedId === undefined) {
      throw refusal(
        server,
        method,
        "it did not come as part of a tool call (it came on the server's standalone stream, not on the response stream of a tools/call), so the gateway cannot tell which client it is for and refuses it rather than guess; the server should send it related to the tool call it serves",
        'unrelated',
      );
    }
    const entry = this.order.find((e) => e.wire?.transport === transport && e.wire.id === relatedId);
    if (!entry) {
      throw refusal(
        server,
        method,
        `it relates to request ${String(relatedId)}, which is not a client's tool call running on it (that call has ended, or the request is not a tools/call: only a tool call's requests are forwarded)`,
        'no-call',
      );
    }
    if (!entry.requester) {
      throw refusal(
        server,
        method,
        'it relates to a pipeline step, which has no client to ask',
        'pipeline-step',
      );
    }
    return entry.requester;
  }

  /**
   * The requester for a request that arrived over a transport that cannot tell the call it belongs to
   * (stdio): the session of the calls running, when all of them are of that one session. Throws an
   * ProtocolError otherwise.
   */
  unrelated(server: string, method: Method): ClientRequester {
    const newest = this.order.at(-1);
    if (!newest) {
      throw refusal(server, method, 'no tool call of a client was running on it', 'no-call');
    }
    if (this.others > 0) {
      throw refusal(
        server,
        method,
        "a client's request other than a tool call, prompts/get or resources/read (a completion…) was also running on it, and over stdio a request does not say which one it belongs to, so the gateway refuses it rather than guess",
        'ambiguous',
      );
    }
    if (this.order.some((e) => !e.requester)) {
      const why =
        this.order.length === 1
          ? 'the call running on it is a pipeline step, which has no client to ask'
          : "a pipeline step is running on it besides other calls, and over stdio a request does not say which call it belongs to, so the gateway refuses it rather than guess; a pipeline step's request is always refused";
      throw refusal(server, method, why, this.order.length === 1 ? 'pipeline-step' : 'ambiguous');
    }
    const sessions = new Set(this.order.map((e) => e.requester?.session));
    if (sessions.size > 1) {
      throw refusal(
        server,
        method,
        `requests (tool calls, prompts/get, resources/read) of ${sessions.size} client sessions were running on it, and over stdio a request does not say which call it belongs to, so the gateway refuses it rather than guess. To use ${method} from several clients at once, serve '${server}' over Streamable HTTP (the gateway then routes by the call), or configure one copy of it per client`,
        'ambiguous',
        { sessions: sessions.size },
      );
    }
    // Calls of one session: any of its requesters reaches the same client.
    return newest.requester as ClientRequester;
  }
}

function refusal(
  server: string,
  method: Method,
  why: string,
  reason: string,
  extra: Record<string, unknown> = {},
): ProtocolError {
  return new ProtocolError(
    ProtocolErrorCode.InvalidRequest,
    `mcp-gateway: ${method} from server '${server}' was not forwarded to any client: ${why}`,
    { server, method, reason, ...extra },
  );
}

/**
 * Splits the transport's mark off a backend request's params: the related request id it carries, and
 * the params without the mark, as they go to the client.
 */
export function takeRelatedId(params: Record<string, unknown> | undefined): {
  relatedId: RequestId | undefined;
  params: Record<string, unknown> | undefined;
} {
  const meta = params?._meta;
  if (!params || typeof meta !== 'object' || meta === null || !(RELATED_REQUEST_META_KEY in meta)) {
    return { relatedId: undefined, params };
  }
  const { [RELATED_REQUEST_META_KEY]: mark, ...rest } = meta as Record<string, unknown>;
  const { _meta: _, ...others } = params;
  const relatedId = typeof mark === 'string' || typeof mark === 'number' ? mark : undefined;
  return { relatedId, params: Object.keys(rest).length ? { ...others, _meta: rest } : others };
}
