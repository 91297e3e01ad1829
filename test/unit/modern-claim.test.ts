import { isLegacyRequest } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import { claimsEnvelope } from '../../src/front/http-modern.js';

const VERSION = 'io.modelcontextprotocol/protocolVersion';
const envelope = (version: string) => ({
  [VERSION]: version,
  'io.modelcontextprotocol/clientInfo': { name: 'c', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': {},
});

/** What the SDK's own classification says of `body` POSTed with `headers`. */
async function sdkSaysLegacy(body: unknown, headers: Record<string, string> = {}): Promise<boolean> {
  const request = new Request('http://127.0.0.1/mcp', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...headers,
    },
    body: JSON.stringify(body),
  });
  return isLegacyRequest(request, body);
}

describe('the modern leg’s shortcut past the SDK’s era classification', () => {
  const modern = [
    { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x', _meta: envelope('2026-07-28') } },
    { jsonrpc: '2.0', id: 2, method: 'server/discover', params: { _meta: envelope('2026-07-28') } },
    // A revision the endpoint does not serve is still the modern leg's to refuse.
    { jsonrpc: '2.0', id: 3, method: 'tools/list', params: { _meta: envelope('2099-01-01') } },
    { jsonrpc: '2.0', method: 'notifications/cancelled', params: { _meta: envelope('2026-07-28') } },
  ];
  const notClaimed = [
    { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25' } },
    { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'x', _meta: { progressToken: 1 } } },
    { jsonrpc: '2.0', id: 3, result: { _meta: envelope('2026-07-28') } },
    [{ jsonrpc: '2.0', id: 4, method: 'tools/list', params: { _meta: envelope('2026-07-28') } }],
    { jsonrpc: '2.0', id: 5, method: 'tools/list', params: { _meta: { [VERSION]: 20260728 } } },
  ];

  it.each(modern)('claims what the SDK sends to the modern leg: %j', async (body) => {
    expect(claimsEnvelope(body)).toBe(true);
    expect(await sdkSaysLegacy(body, { 'mcp-protocol-version': '2026-07-28' })).toBe(false);
    expect(await sdkSaysLegacy(body)).toBe(false);
  });

  it.each(notClaimed)('leaves the rest to the SDK: %j', (body) => {
    expect(claimsEnvelope(body)).toBe(false);
  });
});
