import { describe, expect, it } from 'vitest';
import { type ConfigResult, formatIssue, parseConfigText } from '../../src/config/index.js';

const lines = (...text: string[]) => `${text.join('\n')}\n`;
const parse = (text: string) => parseConfigText(text, 'gateway.yaml', { SECRET: 's3cret' });
const all = (r: ConfigResult) => [...(r.ok ? [] : r.errors), ...r.warnings].map(formatIssue);

describe('servers.<name>.token_exchange', () => {
  it('reads the block', () => {
    const result = parse(
      lines(
        'servers:',
        '  reports:',
        '    url: https://reports.example.com/mcp',
        '    token_exchange:',
        '      issuer: https://idp.example.com',
        '      client_id: mcp-gateway',
        `      client_secret: \${SECRET}`,
        '      audience: https://reports.example.com/mcp',
        '      scope: reports.read',
      ),
    );
    expect(all(result)).toEqual([]);
    if (!result.ok) return;
    expect(result.config.servers[0]).toMatchObject({
      tokenExchange: {
        issuer: 'https://idp.example.com',
        clientId: 'mcp-gateway',
        clientSecret: 's3cret',
        audience: 'https://reports.example.com/mcp',
        scope: 'reports.read',
      },
    });
  });

  it('refuses it beside forward_caller_token, without an endpoint, and on a stdio server, at file:line:col', () => {
    const result = parse(
      lines(
        'servers:',
        '  both:',
        '    url: https://a.example.com/mcp',
        '    forward_caller_token: { audience: https://a.example.com/mcp }',
        '    token_exchange:',
        '      { token_endpoint: https://idp.example.com/token, client_id: c, client_secret: s, audience: a }',
        '  nowhere:',
        '    url: https://b.example.com/mcp',
        '    token_exchange: { client_id: c, client_secret: s, audience: b }',
        '  local:',
        '    command: node',
        '    token_exchange: { issuer: https://idp.example.com, client_id: c, client_secret: s, audience: c }',
      ),
    );
    expect(result.ok).toBe(false);
    const messages = all(result).join('\n');
    expect(messages).toMatch(
      /gateway\.yaml:6:7: .*token_exchange and forward_caller_token exclude each other/,
    );
    expect(messages).toMatch(/gateway\.yaml:9:21: .*needs token_endpoint or issuer/);
    expect(messages).toMatch(/gateway\.yaml:12:\d+: /);
  });
});

describe('servers.<name>.headers_from_files', () => {
  it('resolves paths from the config folder, and refuses the key on a stdio server at file:line:col', () => {
    const ok = parseConfigText(
      lines(
        'servers:',
        '  crm:',
        '    url: https://crm.example.com/mcp',
        '    headers_from_files: { Authorization: secrets/crm }',
      ),
      '/etc/mcp-gateway/gateway.yaml',
      {},
    );
    expect(ok.ok && ok.config.servers[0]).toMatchObject({
      headersFromFiles: { Authorization: '/etc/mcp-gateway/secrets/crm' },
    });
    const bad = parse(
      lines('servers:', '  local:', '    command: node', '    headers_from_files: { Authorization: x }'),
    );
    expect(bad.ok).toBe(false);
    expect(all(bad).join('\n')).toMatch(/gateway\.yaml:4:5: /);
  });
});
