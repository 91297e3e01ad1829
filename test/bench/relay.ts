/**
 * The bare relay: the smallest SDK proxy there is. One SDK Client to one stdio backend, one SDK Server
 * in front that forwards tools/call (name, arguments, _meta as received) and nothing else: no tool
 * table, no argument checks, no timeouts of its own, no logging. The bench measures the gateway
 * against it, as the physical limit of the SDK's transports.
 *
 *   node relay.js --transport stdio -- <backend command> [args...]
 *   node relay.js --transport http [--port 0] -- <backend command> [args...]
 *     (prints "listening on http://127.0.0.1:PORT/mcp" on stderr; one session per client)
 *
 * The bench runs it compiled to plain JavaScript (see relayScript in processes.ts), so it starts and
 * runs as the built gateway does, without a TypeScript loader.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';

const { values, positionals } = parseArgs({
  options: { transport: { type: 'string', default: 'stdio' }, port: { type: 'string', default: '0' } },
  allowPositionals: true,
});
const [command, ...args] = positionals;
if (!command) {
  process.stderr.write('usage: relay --transport stdio|http [--port N] -- <command> [args...]\n');
  process.exit(2);
}

const backend = new Client({ name: 'bench-relay', version: '1.0.0' });
await backend.connect(new StdioClientTransport({ command, args, stderr: 'ignore' }));

function relayServer(): Server {
  const server = new Server({ name: 'bench-relay', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(CallToolRequestSchema, (request, extra) =>
    backend.request({ method: 'tools/call', params: request.params }, CallToolResultSchema, {
      signal: extra.signal,
    }),
  );
  return server;
}

if (values.transport === 'stdio') {
  const server = relayServer();
  await server.connect(new StdioServerTransport());
  process.stdin.on('end', () => process.exit(0));
} else {
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const http = createServer(async (req, res) => {
    const id = req.headers['mcp-session-id'];
    const existing = typeof id === 'string' ? sessions.get(id) : undefined;
    if (existing) return existing.handleRequest(req, res);
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (sid) => {
        sessions.set(sid, transport);
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    await relayServer().connect(transport);
    return transport.handleRequest(req, res);
  });
  http.listen(Number(values.port), '127.0.0.1', () => {
    const { port } = http.address() as AddressInfo;
    process.stderr.write(`listening on http://127.0.0.1:${port}/mcp\n`);
  });
  process.on('SIGTERM', () => process.exit(0));
}
