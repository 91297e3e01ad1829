import path from 'node:path';
import {
  Client,
  type ClientOptions,
  StreamableHTTPClientTransport,
  type Transport,
} from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { GATEWAY_BIN, NODE, ROOT } from './gateway.js';

/** The era matrix's backends: a 2025-only server (SDK 1.x) and a dual-era one (SDK 2.x). */
export const ERA_LEGACY = path.join(ROOT, 'test/fixtures/servers/era-legacy.mjs');
export const ERA_MODERN = path.join(ROOT, 'test/fixtures/servers/era-modern.mjs');

/** A backend entry for a config (YAML lines under `servers:`). */
export function eraServer(name: string, script: string, protocol: string, extra = ''): string {
  return `  ${name}:\n    command: ${JSON.stringify(NODE)}\n    args: ${JSON.stringify([script])}\n    protocol: ${protocol}\n${extra}`;
}

export type Era = 'legacy' | 'modern';

export type Negotiation = NonNullable<ClientOptions['versionNegotiation']>;

export const NEGOTIATION: Record<Era, Negotiation> = {
  legacy: { mode: 'legacy' },
  modern: { mode: { pin: '2026-07-28' } },
};

/** Both eras with how a client negotiates each, for `describe.each`. */
export const BOTH_ERAS: [Era, Negotiation][] = [
  ['legacy', NEGOTIATION.legacy],
  ['modern', NEGOTIATION.modern],
];

/**
 * An SDK client connected over Streamable HTTP to `url` with a bearer token; it negotiates as
 * `versionNegotiation` says (the SDK's default when unset).
 */
export async function bearerClient(
  url: string,
  token: string,
  versionNegotiation?: Negotiation,
  name = 'auth-test',
): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  const client = new Client({ name, version: '1.0.0' }, versionNegotiation ? { versionNegotiation } : {});
  await client.connect(transport);
  return client;
}

/** A client of `era` that answers elicitations with `name` (and counts them). */
export function eraClient(
  era: Era,
  answer: () => Record<string, unknown> = () => ({ action: 'accept', content: { name: 'Ada' } }),
  options: Partial<ClientOptions> = {},
): { client: Client; asked: { message: string }[] } {
  const client = new Client(
    { name: `era-${era}`, version: '1.0.0' },
    {
      capabilities: { elicitation: { form: {} } },
      versionNegotiation: NEGOTIATION[era],
      ...options,
    },
  );
  const asked: { message: string }[] = [];
  client.setRequestHandler('elicitation/create', async (request) => {
    asked.push({ message: String((request.params as { message?: string }).message) });
    return answer() as never;
  });
  return { client, asked };
}

export function httpTransport(url: string): Transport {
  return new StreamableHTTPClientTransport(new URL(url));
}

export function stdioTransport(config: string): Transport {
  return new StdioClientTransport({
    command: NODE,
    args: [GATEWAY_BIN, 'serve', '--config', config],
    stderr: 'ignore',
  });
}
