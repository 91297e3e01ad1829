import {
  type FetchLike,
  type JSONRPCMessage,
  type RequestId,
  StreamableHTTPClientTransport,
  type StreamableHTTPClientTransportOptions,
} from '@modelcontextprotocol/client';
import { telemetry } from '../observability/index.js';
import { type CallRequesters, FORWARD_META_KEY, RELATED_REQUEST_META_KEY } from './call-routing.js';
import { jsonLinesToSse } from './json-lines-sse.js';

/**
 * The Streamable HTTP client transport, telling which of our requests a backend's request belongs to.
 *
 * A server sends a request that belongs to one of ours (sampling during a tools/call) on the SSE
 * response stream of the POST that carried ours; the SDK (1.32) reads every stream into one
 * `onmessage` and drops where a message came from. So the fetch this transport uses marks each request
 * read from a POST's stream with the id of the request that POST carried (`_meta` key
 * RELATED_REQUEST_META_KEY) and strips that key from requests on any other stream (the standalone GET
 * stream); passthrough.ts reads and removes the mark. A request in a JSON (non-SSE) answer is not
 * marked (servers send requests on SSE streams only): it cannot be tied to a call and is refused.
 */
export class CallTaggingHttpTransport extends StreamableHTTPClientTransport {
  constructor(
    url: URL,
    options: StreamableHTTPClientTransportOptions,
    private readonly calls: CallRequesters,
  ) {
    super(url, { ...options, fetch: markingFetch(options.fetch ?? fetch, calls) });
  }

  override send(
    message: JSONRPCMessage | JSONRPCMessage[],
    options?: Parameters<StreamableHTTPClientTransport['send']>[1],
  ): Promise<void> {
    if (!Array.isArray(message) && 'method' in message && 'id' in message) {
      this.calls.sent(this, message.id, message.params);
    }
    return super.send(message, options);
  }
}

/** A fetch whose SSE responses pass through {@link markRequests}. */
function markingFetch(base: FetchLike, calls: CallRequesters): FetchLike {
  return async (url, given) => {
    const init = withCallerAuthorization(given, calls);
    const response = await base(url, telemetry.traceHeaders(init));
    const type = response.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase();
    const request = init?.method === 'POST' ? requestOf(init.body) : undefined;
    if (response.ok && response.body && type === 'application/json' && request?.method === LISTEN) {
      // A listen stream sent as JSON lines: read as the SSE stream it stands for (json-lines-sse.ts).
      const headers = new Headers(response.headers);
      headers.set('content-type', 'text/event-stream');
      return new Response(response.body.pipeThrough(jsonLinesToSse()), {
        status: response.status,
        statusText: response.statusText,
        headers,
      });
    }
    if (!response.ok || !response.body || type !== 'text/event-stream') return response;
    const related = request?.id;
    return new Response(response.body.pipeThrough(markRequests(related)), {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}

/**
 * A tool call to a backend marked forward_caller_token carries the caller's token (checked in
 * forward-token.ts) instead of the gateway's own credentials: set here, on the POST that carries that
 * call alone, because the SDK reserves Authorization from per-request headers.
 */
function withCallerAuthorization(
  init: RequestInit | undefined,
  calls: CallRequesters,
): RequestInit | undefined {
  if (init?.method !== 'POST' || typeof init.body !== 'string' || !init.body.includes(FORWARD_META_KEY))
    return init;
  let message: { params?: { _meta?: Record<string, unknown> } };
  try {
    message = JSON.parse(init.body) as typeof message;
  } catch {
    return init;
  }
  const meta = message.params?._meta;
  const key = meta?.[FORWARD_META_KEY];
  if (!meta || typeof key !== 'string') return init;
  delete meta[FORWARD_META_KEY];
  if (Object.keys(meta).length === 0 && message.params) delete message.params._meta;
  const authorization = calls.authorizationFor(key);
  const headers = new Headers(init.headers);
  // A mark whose call has ended: the request goes without any caller's token (the gateway's own).
  if (authorization) headers.set('authorization', authorization);
  return { ...init, headers, body: JSON.stringify(message) };
}

const LISTEN = 'subscriptions/listen';

/** The method and id of the one JSON-RPC request in a POST body; undefined for anything else. */
function requestOf(body: unknown): { method: string; id: RequestId | undefined } | undefined {
  if (typeof body !== 'string') return undefined;
  try {
    const message = JSON.parse(body) as unknown;
    if (typeof message !== 'object' || message === null || Array.isArray(message)) return undefined;
    const { id, method } = message as { id?: unknown; method?: unknown };
    if (typeof method !== 'string') return undefined;
    return { method, id: typeof id === 'string' || typeof id === 'number' ? id : undefined };
  } catch {
    return undefined;
  }
}

const EOL = /\r\n|\r|\n/g;

/**
 * An SSE byte stream in, the same stream out, except that the data of each event that is a JSON-RPC
 * request gets RELATED_REQUEST_META_KEY set to `related` in its `_meta` (removed when `related` is
 * undefined). Every other line passes as it came (line ends become \n). Linear in the stream's size.
 */
export function markRequests(related: RequestId | undefined): TransformStream<Uint8Array, Uint8Array> {
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let buffer = '';
  /** Where the search for the next line end resumes in `buffer`. */
  let scanFrom = 0;
  /** Lines of the event being read (an SSE event ends with an empty line). */
  let event: string[] = [];

  const takeLines = (final: boolean): string[] => {
    const out: string[] = [];
    let start = 0;
    EOL.lastIndex = scanFrom;
    for (let m = EOL.exec(buffer); m; m = EOL.exec(buffer)) {
      // A \r at the end of what has arrived may be the first half of \r\n.
      if (m[0] === '\r' && m.index === buffer.length - 1 && !final) break;
      out.push(buffer.slice(start, m.index));
      start = m.index + m[0].length;
    }
    buffer = buffer.slice(start);
    scanFrom = buffer.endsWith('\r') ? buffer.length - 1 : buffer.length;
    return out;
  };

  const emit = (lines: string[], controller: TransformStreamDefaultController<Uint8Array>) => {
    let text = '';
    for (const line of lines) {
      if (line !== '') {
        event.push(line);
        continue;
      }
      text += `${rewriteEvent(event, related).join('\n')}\n\n`;
      event = [];
    }
    if (text) controller.enqueue(encoder.encode(text));
  };

  return new TransformStream({
    transform(chunk, controller) {
      buffer += decoder.decode(chunk, { stream: true });
      emit(takeLines(false), controller);
    },
    flush(controller) {
      buffer += decoder.decode();
      emit(takeLines(true), controller);
      // An unterminated last event is not dispatched by an SSE reader; pass on what there is unchanged.
      const rest = [...event, ...(buffer ? [buffer] : [])];
      if (rest.length) controller.enqueue(encoder.encode(rest.join('\n')));
    },
  });
}

/** The lines of one event, with the request in its data marked; other events unchanged. */
function rewriteEvent(lines: string[], related: RequestId | undefined): string[] {
  const data: string[] = [];
  let type: string | undefined;
  for (const line of lines) {
    const { name, value } = field(line);
    if (name === 'data') data.push(value);
    else if (name === 'event') type = value;
  }
  // The SDK reads only `message` events (the default type).
  if (!data.length || (type !== undefined && type !== '' && type !== 'message')) return lines;
  const marked = markRequest(data.join('\n'), related);
  if (marked === undefined) return lines;
  const out = lines.filter((line) => field(line).name !== 'data');
  out.push(`data: ${marked}`);
  return out;
}

function field(line: string): { name: string; value: string } {
  const colon = line.indexOf(':');
  if (colon < 0) return { name: line, value: '' };
  const value = line.slice(colon + 1);
  return { name: line.slice(0, colon), value: value.startsWith(' ') ? value.slice(1) : value };
}

/** The JSON text of the request with its mark set or removed; undefined when `data` is not a request. */
function markRequest(data: string, related: RequestId | undefined): string | undefined {
  let message: unknown;
  try {
    message = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return undefined;
  const request = message as { method?: unknown; id?: unknown; params?: unknown };
  if (typeof request.method !== 'string' || request.id === undefined) return undefined;
  const params = request.params ?? {};
  if (typeof params !== 'object' || params === null || Array.isArray(params)) return undefined;
  const { _meta, ...rest } = params as { _meta?: unknown };
  const meta = typeof _meta === 'object' && _meta !== null ? { ...(_meta as Record<string, unknown>) } : {};
  if (related === undefined) {
    if (!(RELATED_REQUEST_META_KEY in meta)) return undefined;
    delete meta[RELATED_REQUEST_META_KEY];
  } else {
    meta[RELATED_REQUEST_META_KEY] = related;
  }
  const hasMeta = Object.keys(meta).length > 0 || _meta !== undefined;
  return JSON.stringify({ ...request, params: { ...rest, ...(hasMeta ? { _meta: meta } : {}) } });
}
