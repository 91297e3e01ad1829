/** Where a replica says the others reach it (cluster.advertise_url, else the listen address). */
import { networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import { advertisedUrl } from '../../src/front/replica-forward.js';

describe('advertisedUrl', () => {
  it('is cluster.advertise_url when set', () => {
    expect(advertisedUrl('http://gw-1:8003', 'http://0.0.0.0:8003/mcp')).toBe('http://gw-1:8003');
  });

  it('refuses a value that is not an http(s) base URL (from the environment, which no schema checks)', () => {
    expect(() => advertisedUrl('gw-1:8003', 'http://0.0.0.0:8003/mcp')).toThrow(
      /MCP_GATEWAY_ADVERTISE_URL\) 'gw-1:8003' is not an http:\/\/ or https:\/\/ base URL/,
    );
  });

  it('is the listen address, without the /mcp path, when that is a reachable host', () => {
    expect(advertisedUrl(undefined, 'http://127.0.0.1:41234/mcp')).toBe('http://127.0.0.1:41234');
    expect(advertisedUrl(undefined, 'http://[::1]:8003/mcp')).toBe('http://[::1]:8003');
  });

  it("is this machine's first non-loopback IPv4 address for a wildcard listen address", () => {
    const first = Object.values(networkInterfaces())
      .flat()
      .find((a) => a?.family === 'IPv4' && !a.internal)?.address;
    const expected = `http://${first ?? '127.0.0.1'}:8003`;
    expect(advertisedUrl(undefined, 'http://0.0.0.0:8003/mcp')).toBe(expected);
    expect(advertisedUrl(undefined, 'http://[::]:8003/mcp')).toBe(expected);
  });
});
