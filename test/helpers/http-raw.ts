import { Agent, type IncomingHttpHeaders, request } from 'node:http';

/** Raw HTTP against the gateway, for requests no well-behaved client would send. */

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** Set when the connection failed instead of answering. */
  error?: string;
}

export interface RawRequest {
  method?: string;
  headers?: Record<string, string>;
  /** Written in order; an array of several is sent chunked (no content-length) unless one is given. */
  body?: string | Buffer | (string | Buffer)[];
  /** Give up after this long (the response is then status 0 with `error: 'timeout'`). */
  timeoutMs?: number;
}

/** A fresh connection per request, so one test's broken connection never carries into the next. */
const agent = new Agent({ keepAlive: false });

export const MCP_ACCEPT = 'application/json, text/event-stream';

export function rawRequest(url: string, options: RawRequest = {}): Promise<RawResponse> {
  const target = new URL(url);
  const chunks =
    options.body === undefined ? [] : Array.isArray(options.body) ? options.body : [options.body];
  return new Promise((resolve) => {
    let settled = false;
    const finish = (r: RawResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const req = request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: options.method ?? 'POST',
        headers: { 'Content-Type': 'application/json', Accept: MCP_ACCEPT, ...options.headers },
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => {
          body += c.toString();
          // An SSE answer stays open; the first event is all a test wants.
          if (res.headers['content-type']?.includes('text/event-stream') && body.includes('\n\n')) {
            finish({ status: res.statusCode ?? 0, headers: res.headers, body });
            res.destroy();
          }
        });
        res.on('end', () => finish({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('close', () => finish({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      finish({ status: 0, headers: {}, body: '', error: 'timeout' });
    }, options.timeoutMs ?? 10_000);
    req.on('error', (err) => finish({ status: 0, headers: {}, body: '', error: err.message }));
    void (async () => {
      for (const chunk of chunks) {
        if (req.destroyed) return;
        if (!req.write(chunk)) await new Promise((r) => req.once('drain', r));
      }
      req.end();
    })().catch(() => {});
  });
}

export const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
});

/** Sends initialize (and notifications/initialized) and returns the new session id. */
export async function openRawSession(url: string, headers: Record<string, string> = {}): Promise<string> {
  const init = await rawRequest(url, { headers, body: INITIALIZE });
  const id = init.headers['mcp-session-id'];
  if (init.status !== 200 || typeof id !== 'string') {
    throw new Error(`initialize failed: ${init.status} ${init.error ?? init.body}`);
  }
  const initialized = await rawRequest(url, {
    headers: { ...headers, 'mcp-session-id': id, 'mcp-protocol-version': '2025-06-18' },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  if (initialized.status !== 202) throw new Error(`initialized failed: ${initialized.status}`);
  return id;
}

/** tools/list on a session: the HTTP status, and the tool names when it answered. */
export async function rawListTools(
  url: string,
  sessionId: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; tools?: string[] }> {
  const res = await rawRequest(url, {
    headers: { ...headers, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/list' }),
  });
  if (res.status !== 200) return { status: res.status };
  const data = /^data: (.*)$/m.exec(res.body)?.[1] ?? res.body;
  const parsed = JSON.parse(data) as { result?: { tools: { name: string }[] } };
  return { status: res.status, tools: parsed.result?.tools.map((t) => t.name) };
}

/** VmRSS of a process, in KiB, from /proc (Linux); undefined elsewhere. */
export async function rssKiB(pid: number): Promise<number | undefined> {
  const { readFile } = await import('node:fs/promises');
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}
