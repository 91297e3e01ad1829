import { describe, expect, it } from 'vitest';
import { formatIssue, parseConfigText } from '../../src/config/index.js';

/**
 * `http.console`: off unless set to true or to `{client_id}` (OAuth sign-in, which needs `http.auth`);
 * anything else is a problem at its line and column.
 */
describe('http.console', () => {
  const parse = (text: string) => parseConfigText(text, 'gateway.yaml', {});

  it('is off by default and on with true', () => {
    const off = parse('http:\n  port: 8003\n');
    expect(off.ok && off.config.http.console).toBeFalsy();
    const on = parse('http:\n  console: true\n');
    expect(on.ok && on.config.http.console).toBe(true);
  });

  it('refuses a value that is not a boolean, at its line and column', () => {
    const result = parse('http:\n  port: 8003\n  console: "yes"\n');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map(formatIssue)).toEqual([
      expect.stringMatching(/^gateway\.yaml:3:\d+: .*expected true, false, or a mapping with client_id/),
    ]);
  });

  const auth = '  auth:\n    issuer: https://id.example.com\n    audience: https://gw.example.com/mcp\n';

  it('signs in through http.auth with a client_id, asking for the scopes given', () => {
    const result = parse(`http:\n  console:\n    client_id: console\n    scopes: [openid, mcp]\n${auth}`);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config.http.console).toBe(true);
    expect(result.config.http.consoleOAuth).toEqual({ clientId: 'console', scopes: ['openid', 'mcp'] });
  });

  it('refuses a client_id without http.auth, at its line and column', () => {
    const result = parse('http:\n  console:\n    client_id: console\n');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map(formatIssue)).toEqual([
      expect.stringMatching(/^gateway\.yaml:3:\d+: .*signs in through http\.auth/),
    ]);
  });

  it('refuses a mapping without client_id or with an unknown key', () => {
    for (const text of [
      'http:\n  console:\n    scopes: [mcp]\n',
      'http:\n  console:\n    client_id: c\n    secret: s\n',
    ]) {
      const result = parse(text + auth);
      expect(result.ok).toBe(false);
    }
  });
});
