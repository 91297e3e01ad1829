import { describe, expect, it } from 'vitest';
import { RELATED_REQUEST_META_KEY, takeRelatedId } from '../../src/backends/call-routing.js';
import { markRequests } from '../../src/backends/http-call-transport.js';

/** Runs `text`, cut into the given chunk sizes (bytes), through markRequests and returns the output. */
async function run(text: string, related: string | number | undefined, cuts: number[] = []): Promise<string> {
  const bytes = new TextEncoder().encode(text);
  const chunks: Uint8Array[] = [];
  let at = 0;
  for (const cut of cuts) {
    chunks.push(bytes.slice(at, at + cut));
    at += cut;
  }
  chunks.push(bytes.slice(at));
  const source = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const c of chunks) controller.enqueue(c);
      controller.close();
    },
  });
  const out = source.pipeThrough(markRequests(related));
  let result = '';
  const decoder = new TextDecoder();
  for await (const chunk of out as unknown as AsyncIterable<Uint8Array>)
    result += decoder.decode(chunk, { stream: true });
  return result + decoder.decode();
}

/** The JSON messages of an SSE text, as an SSE reader would dispatch them. */
function messages(sse: string): unknown[] {
  return sse
    .split(/\r\n\r\n|\n\n|\r\r/)
    .map((block) =>
      block
        .split(/\r\n|\r|\n/)
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).replace(/^ /, ''))
        .join('\n'),
    )
    .filter(Boolean)
    .map((data) => JSON.parse(data) as unknown);
}

const request = { jsonrpc: '2.0', id: 0, method: 'sampling/createMessage', params: { maxTokens: 1 } };
const response = { jsonrpc: '2.0', id: 7, result: { content: [] } };

describe('markRequests (SSE of an HTTP backend)', () => {
  it("marks a request with the id of the POST's request, and leaves responses and other lines alone", async () => {
    const text = `id: e1\n\n: keep-alive\nid: e2\ndata: ${JSON.stringify(request)}\n\nretry: 5\ndata: ${JSON.stringify(response)}\n\n`;
    const out = await run(text, 7);
    expect(messages(out)).toEqual([
      { ...request, params: { maxTokens: 1, _meta: { [RELATED_REQUEST_META_KEY]: 7 } } },
      response,
    ]);
    expect(out).toContain('id: e1\n\n');
    expect(out).toContain(': keep-alive\nid: e2\n');
    expect(out).toContain('retry: 5\n');
  });

  it('gives the same output however the bytes are cut, \\r\\n included', async () => {
    const text = `data: ${JSON.stringify({ ...request, params: { x: 'é€' } })}\r\n\r\ndata: ${JSON.stringify(response)}\r\n\r\n`;
    const whole = await run(text, 'a');
    const bytes = new TextEncoder().encode(text).length;
    for (let cut = 1; cut < bytes; cut++) {
      expect(await run(text, 'a', [cut])).toBe(whole);
    }
    expect(messages(whole)).toHaveLength(2);
  });

  it("overwrites a mark the backend set itself, and removes it from a stream that is no request's", async () => {
    const forged = { ...request, params: { _meta: { [RELATED_REQUEST_META_KEY]: 99, other: 1 } } };
    const text = `data: ${JSON.stringify(forged)}\n\n`;
    expect(messages(await run(text, 3))).toEqual([
      { ...request, params: { _meta: { [RELATED_REQUEST_META_KEY]: 3, other: 1 } } },
    ]);
    expect(messages(await run(text, undefined))).toEqual([{ ...request, params: { _meta: { other: 1 } } }]);
  });

  it('reads data split over several lines, and passes an unterminated last event on unchanged', async () => {
    const text = `data: {"jsonrpc":"2.0","id":1,\ndata: "method":"roots/list"}\n\ndata: {"jsonrpc"`;
    const marked = {
      jsonrpc: '2.0',
      id: 1,
      method: 'roots/list',
      params: { _meta: { [RELATED_REQUEST_META_KEY]: 5 } },
    };
    expect(await run(text, 5)).toBe(`data: ${JSON.stringify(marked)}\n\ndata: {"jsonrpc"`);
  });
});

describe('takeRelatedId', () => {
  it('takes the mark off and leaves the rest of _meta', () => {
    expect(takeRelatedId({ a: 1, _meta: { [RELATED_REQUEST_META_KEY]: 4, progressToken: 't' } })).toEqual({
      relatedId: 4,
      params: { a: 1, _meta: { progressToken: 't' } },
    });
    expect(takeRelatedId({ a: 1, _meta: { [RELATED_REQUEST_META_KEY]: 'x' } })).toEqual({
      relatedId: 'x',
      params: { a: 1 },
    });
    expect(takeRelatedId({ a: 1 })).toEqual({ relatedId: undefined, params: { a: 1 } });
  });
});
