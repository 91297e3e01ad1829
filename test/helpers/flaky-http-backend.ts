import {
  createServer,
  type Server as HttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';

/**
 * A Streamable HTTP MCP server (stateless, JSON answers) that can be told to misbehave: `ok`, `reset`
 * (destroy every connection as a request arrives), `5xx` (answer 503), `slow` (answer after
 * `slowMs`), `refuse` (stop listening: connection refused). Tools: `echo` and `sleep(ms)`.
 */
export type FlakyMode = 'ok' | 'reset' | '5xx' | 'slow' | 'refuse';

export interface FlakyHttpBackend {
  url: string;
  setMode(mode: FlakyMode): Promise<void>;
  /** Requests seen, by mode they were met with. */
  seen: Record<FlakyMode, number>;
  /** The `traceparent` header of each tools/call received (undefined when it had none). */
  callTraceparents: (string | undefined)[];
  close(): Promise<void>;
}

export async function startFlakyHttpBackend(options: { slowMs?: number } = {}): Promise<FlakyHttpBackend> {
  let mode: FlakyMode = 'ok';
  const slowMs = options.slowMs ?? 5_000;
  const seen: Record<FlakyMode, number> = { ok: 0, reset: 0, '5xx': 0, slow: 0, refuse: 0 };
  const callTraceparents: (string | undefined)[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    const server = new Server({ name: 'flaky', version: '1.0.0' }, { capabilities: { tools: {} } });
    server.setRequestHandler(ListToolsRequestSchema, async () => ({
      tools: [
        { name: 'echo', inputSchema: { type: 'object' } },
        { name: 'sleep', inputSchema: { type: 'object', properties: { ms: { type: 'number' } } } },
      ],
    }));
    server.setRequestHandler(CallToolRequestSchema, async (request) => {
      callTraceparents.push(req.headers.traceparent as string | undefined);
      const args = request.params.arguments ?? {};
      if (request.params.name === 'sleep') await new Promise((r) => setTimeout(r, Number(args.ms ?? 0)));
      return { content: [{ type: 'text', text: 'flaky' }], structuredContent: { via: 'flaky', args } };
    });
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res);
  };

  const http: HttpServer = createServer((req, res) => {
    seen[mode]++;
    if (mode === 'reset') {
      req.socket.destroy();
      return;
    }
    if (mode === '5xx') {
      res.writeHead(503, { 'Content-Type': 'text/plain' }).end('service unavailable (on purpose)');
      return;
    }
    if (mode === 'slow') {
      const timer = setTimeout(() => {
        timers.delete(timer);
        void serve(req, res);
      }, slowMs);
      timers.add(timer);
      return;
    }
    void serve(req, res);
  });
  http.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    if (mode === 'refuse') socket.destroy();
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;

  const stopListening = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      if (!http.listening) return resolve();
      http.close(() => resolve());
    });

  return {
    url: `http://127.0.0.1:${port}/mcp`,
    seen,
    callTraceparents,
    async setMode(next) {
      mode = next;
      if (next === 'refuse') await stopListening();
      else if (!http.listening) await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', resolve));
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      await stopListening();
    },
  };
}
