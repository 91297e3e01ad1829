import type { IncomingMessage, ServerResponse } from 'node:http';
import { formatSize, MAX_MESSAGE_SIZE_KEY } from '../config/index.js';

/** Small pieces of HTTP plumbing the front's two eras share. */

export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Reads and parses the body within the size bound; answers the error itself and resolves undefined on
 * failure (or when the client went away before sending it all).
 */
export function readJsonBody(
  req: IncomingMessage,
  res: ServerResponse,
  limit: number,
): Promise<{ value: unknown } | undefined> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) {
    refuseTooLarge(req, res, limit);
    return Promise.resolve(undefined);
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (value: { value: unknown } | undefined) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      resolve(value);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else {
        refuseTooLarge(req, res, limit);
        done(undefined);
      }
    };
    const onEnd = () => {
      try {
        done({ value: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      } catch (err) {
        sendRpcError(res, 400, -32700, `Parse error: ${err instanceof Error ? err.message : String(err)}`);
        done(undefined);
      }
    };
    const onClose = () => done(undefined);
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('close', onClose);
    // An aborted upload also emits 'error'; 'close' follows and settles the promise.
    req.on('error', () => {});
  });
}

/**
 * 413, then close the connection once the answer is out: reading on would let a client stream
 * gigabytes at us, and a connection with an unread body cannot carry another request.
 */
export function refuseTooLarge(req: IncomingMessage, res: ServerResponse, limit: number): void {
  req.pause();
  res.setHeader('Connection', 'close');
  sendRpcError(
    res,
    413,
    -32600,
    `Request body too large (limit ${limit} bytes, ${formatSize(limit)}; set by ${MAX_MESSAGE_SIZE_KEY})`,
  );
  res.once('finish', () => req.destroy());
}

/** A client-chosen value quoted in an answer, cut short so it cannot bloat or forge much. */
export function shorten(value: string, max = 80): string {
  return value.length > max ? `${value.slice(0, max)}…` : value;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers }).end(JSON.stringify(body));
}

export function sendRpcError(res: ServerResponse, status: number, code: number, message: string): void {
  sendJson(res, status, { jsonrpc: '2.0', error: { code, message }, id: null });
}
