/**
 * Newline-delimited JSON in, the same messages as SSE `message` events out.
 *
 * The 2026-07-28 spec has a server answer `subscriptions/listen` with an SSE stream; some servers
 * (the conformance suite's reference everything-server among them) send one JSON-RPC message a line
 * under `Content-Type: application/json` and keep the response open. The SDK client reads an
 * `application/json` answer whole, so such a stream would never deliver anything: the transport turns
 * it into the SSE the client reads. Blank lines are skipped; a last line without its newline is
 * delivered when the stream ends.
 */
export function jsonLinesToSse(): TransformStream<Uint8Array, Uint8Array> {
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let buffer = '';
  const events = (lines: string[]): string =>
    lines
      .map((line) => line.trim())
      .filter((line) => line !== '')
      .map((line) => `event: message\ndata: ${line}\n\n`)
      .join('');
  return new TransformStream({
    transform(chunk, controller) {
      buffer += decoder.decode(chunk, { stream: true });
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      const text = events(lines);
      if (text) controller.enqueue(encoder.encode(text));
    },
    flush(controller) {
      const text = events([buffer + decoder.decode()]);
      if (text) controller.enqueue(encoder.encode(text));
    },
  });
}
