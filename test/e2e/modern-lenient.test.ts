/**
 * A 2026-07-28 backend as found in the field (the conformance suite's reference server is one): its
 * tools/call results carry no `resultType`, and it serves completion/complete without declaring
 * `completions` in server/discover. The gateway passes its content through unchanged (audio, image,
 * embedded resource) and forwards its completions. Real processes: the built gateway (HTTP front)
 * and a hand-written HTTP backend answering JSON-RPC as such a server does. It also sees, per request,
 * what the calling client declared (the gateway tells it in `_meta`), and refuses with -32021.
 */
import type { ChildProcess } from 'node:child_process';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eraClient, httpTransport } from '../helpers/eras.js';
import { startHttpGateway, stopProcess, writeConfig } from '../helpers/gateway.js';
import { waitFor } from '../helpers/wait.js';

const CONTENT = [
  {
    type: 'audio',
    data: 'UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=',
    mimeType: 'audio/wav',
  },
  { type: 'image', data: 'iVBORw0KGgo=', mimeType: 'image/png' },
  { type: 'resource', resource: { uri: 'test://embedded', mimeType: 'text/plain', text: 'embedded text' } },
];

/** The caching hints 2026-07-28 requires on list results. */
const HINTS = { ttlMs: 60_000, cacheScope: 'public' };

/** The backend's -32021 for a client without sampling (sent with HTTP 400, as the reference does). */
const MISSING_SAMPLING = Symbol('missing sampling');

/** What the backend answers per method; results without resultType, as the field's servers send. */
function answer(method: string, params: Record<string, unknown>): unknown {
  switch (method) {
    case 'server/discover':
      return {
        supportedVersions: ['2026-07-28'],
        capabilities: { tools: {}, prompts: {} },
        _meta: { 'io.modelcontextprotocol/serverInfo': { name: 'field', version: '1.0.0' } },
      };
    case 'tools/list':
      return {
        tools: ['media', 'caps'].map((name) => ({ name, inputSchema: { type: 'object', properties: {} } })),
        ...HINTS,
      };
    case 'tools/call': {
      if (params.name === 'media') return { content: CONTENT };
      // What the client declared, as the gateway tells it: this is what a backend asks by.
      const meta = (params._meta ?? {}) as Record<string, unknown>;
      const caps = meta['io.modelcontextprotocol/clientCapabilities'] as Record<string, unknown> | undefined;
      if (!caps?.sampling) return MISSING_SAMPLING;
      return { content: [{ type: 'text', text: JSON.stringify(caps) }] };
    }
    case 'prompts/list':
      return { prompts: [{ name: 'pick', arguments: [{ name: 'colour' }] }], ...HINTS };
    case 'completion/complete': {
      const value = String((params.argument as { value?: string } | undefined)?.value ?? '');
      const values = ['red', 'green', 'blue'].filter((c) => c.startsWith(value));
      return { completion: { values, total: values.length, hasMore: false } };
    }
    default:
      return undefined;
  }
}

let backend: HttpServer;
let gateway: { child: ChildProcess; url: string } | undefined;
let client: Client;

beforeAll(async () => {
  backend = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      if (req.method !== 'POST') return void res.writeHead(405).end();
      const message = JSON.parse(body) as { id?: number; method: string; params?: Record<string, unknown> };
      if (message.id === undefined) return void res.writeHead(202).end();
      const result = answer(message.method, message.params ?? {});
      if (result === MISSING_SAMPLING) {
        const error = {
          code: -32021,
          message: 'sampling required',
          data: { requiredCapabilities: { sampling: {} } },
        };
        return void res
          .writeHead(400, { 'content-type': 'application/json' })
          .end(JSON.stringify({ jsonrpc: '2.0', id: message.id, error }));
      }
      const reply =
        result === undefined
          ? { jsonrpc: '2.0', id: message.id, error: { code: -32601, message: 'Method not found' } }
          : { jsonrpc: '2.0', id: message.id, result };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
    });
  });
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
  const { port } = backend.address() as AddressInfo;
  const config = writeConfig(
    `servers:\n  field:\n    url: http://127.0.0.1:${port}/mcp\n    protocol: modern\n    prefix: ""\n`,
  );
  const gw = await startHttpGateway(['--config', config]);
  gateway = { child: gw.child, url: gw.url };
  client = eraClient('modern').client;
  await client.connect(httpTransport(gw.url));
  await waitFor(async () => (await client.listTools()).tools.some((t) => t.name === 'media'), {
    timeoutMs: 20_000,
  });
}, 40_000);
afterAll(async () => {
  await client?.close();
  if (gateway) await stopProcess(gateway.child);
  await new Promise((resolve) => backend?.close(resolve));
});

describe('a 2026 backend whose results carry no resultType', () => {
  it("passes the tool's audio, image and embedded resource content through unchanged", async () => {
    const result = await client.callTool({ name: 'media', arguments: {} });
    expect(result.isError).toBeFalsy();
    expect(result.content).toEqual(CONTENT);
  });

  it('forwards completion/complete though the backend did not declare completions', async () => {
    const result = await client.complete({
      ref: { type: 'ref/prompt', name: 'pick' },
      argument: { name: 'colour', value: 'g' },
    });
    expect(result.completion.values).toEqual(['green']);
  });
});

describe("the client's own capabilities, told to a 2026 backend per request", () => {
  it('are what the backend sees (narrowed to what the gateway forwards), and its -32021 reaches the client', async () => {
    // This client declares form elicitation only (eraClient): the backend needs sampling.
    await expect(client.callTool({ name: 'caps', arguments: {} })).rejects.toMatchObject({ code: -32021 });
    const sampler = eraClient('modern', undefined, {
      capabilities: {
        sampling: { tools: {} },
        elicitation: { form: {}, url: {} },
        roots: { listChanged: true },
      },
    }).client;
    await sampler.connect(httpTransport(gateway?.url ?? ''));
    try {
      const result = await sampler.callTool({ name: 'caps', arguments: {} });
      const [first] = result.content as { text: string }[];
      expect(JSON.parse(first?.text ?? '')).toEqual({ sampling: {}, elicitation: { form: {} }, roots: {} });
    } finally {
      await sampler.close();
    }
  });
});
