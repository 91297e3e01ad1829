/**
 * gateway.yaml's `cluster.advertise_url` and `rate_limits.in_flight`: read into the typed config, and
 * bad values reported at file:line:col.
 */
import { describe, expect, it } from 'vitest';
import { formatIssue, parseConfigText } from '../../src/config/index.js';

const parse = (text: string, env: Record<string, string> = {}) =>
  parseConfigText(text, '/cfg/gateway.yaml', env);

describe('cluster.advertise_url', () => {
  it('is read from the file, else from MCP_GATEWAY_ADVERTISE_URL, without a trailing slash', () => {
    const fromFile = parse('cluster:\n  advertise_url: http://10.0.0.7:8003/\n');
    expect(fromFile.ok && fromFile.config.cluster.advertiseUrl).toBe('http://10.0.0.7:8003');
    const fromEnv = parse('servers: {}\n', { MCP_GATEWAY_ADVERTISE_URL: 'http://gw-2:8003' });
    expect(fromEnv.ok && fromEnv.config.cluster.advertiseUrl).toBe('http://gw-2:8003');
  });

  it('refuses a URL with a path or another scheme, at its position', () => {
    const result = parse('cluster:\n  advertise_url: ftp://x/y\n');
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.errors.map(formatIssue).join('\n')).toContain(
        'gateway.yaml:2:18: cluster.advertise_url: expected http:// or https://',
      );
  });
});

describe('rate_limits.in_flight', () => {
  it('reads the caps', () => {
    const result = parse(
      'rate_limits:\n  in_flight:\n    per_caller: 4\n    per_server: 10\n    servers: { sqlite: 2 }\n',
    );
    expect(result.ok && result.config.rateLimits.inFlight).toEqual({
      perCaller: 4,
      perServer: 10,
      servers: { sqlite: 2 },
    });
  });

  it('refuses a cap that is not a whole number of 1 or more, at its position', () => {
    const result = parse('rate_limits:\n  in_flight:\n    per_caller: 0\n    servers: { x: two }\n');
    expect(result.ok).toBe(false);
    if (!result.ok) {
      const text = result.errors.map(formatIssue).join('\n');
      expect(text).toContain('gateway.yaml:3:17: rate_limits.in_flight.per_caller: expected a whole number');
      expect(text).toContain('gateway.yaml:4:19: rate_limits.in_flight.servers.x: expected a whole number');
    }
  });
});
