import { describe, expect, it } from 'vitest';
import { jsonLinesToSse } from '../../src/backends/json-lines-sse.js';

async function through(chunks: string[]): Promise<string> {
  const encoder = new TextEncoder();
  const input = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
  return new Response(input.pipeThrough(jsonLinesToSse())).text();
}

describe('jsonLinesToSse: a listen stream sent as JSON lines, read as SSE', () => {
  it('makes one message event per line, across chunk boundaries, skipping blank lines', async () => {
    const a = '{"jsonrpc":"2.0","method":"notifications/subscriptions/acknowledged"}';
    const b = '{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}';
    const out = await through([a.slice(0, 10), `${a.slice(10)}\n\n`, `${b.slice(0, 5)}`, `${b.slice(5)}\n`]);
    expect(out).toBe(`event: message\ndata: ${a}\n\nevent: message\ndata: ${b}\n\n`);
  });

  it('delivers a last line without its newline when the stream ends', async () => {
    expect(await through(['{"a":1}\n{"b":2}'])).toBe(
      'event: message\ndata: {"a":1}\n\nevent: message\ndata: {"b":2}\n\n',
    );
  });
});
