import { describe, expect, it } from 'vitest';
import { type ConfigResult, formatIssue, parseConfigText } from '../../src/config/index.js';

const lines = (...text: string[]) => `${text.join('\n')}\n`;
const parse = (text: string) => parseConfigText(text, 'gateway.yaml', {});
const all = (r: ConfigResult) => [...(r.ok ? [] : r.errors), ...r.warnings].map(formatIssue);

const SERVERS = ['servers:', '  github: { command: gh-mcp }', '  slack: { command: slack-mcp }'];

describe('profiles in gateway.yaml', () => {
  it('reads each profile and the tokens that open them', () => {
    const result = parse(
      lines(
        ...SERVERS,
        'profiles:',
        '  triage:',
        '    servers: [github, "sl*"]',
        '    tools: ["github__*issue*"]',
        '    exclude: [github__delete_*]',
        '    pipelines: []',
        '    meta_tools: [list_servers]',
        '  everything:',
        '    mode: search',
        'http:',
        '  token: admin-token',
        '  tokens:',
        '    - { token: team-token, profiles: [triage] }',
      ),
    );
    if (!result.ok) throw new Error(all(result).join('\n'));
    expect(result.config.profiles).toEqual([
      {
        name: 'triage',
        servers: ['github', 'sl*'],
        tools: ['github__*issue*'],
        exclude: ['github__delete_*'],
        pipelines: [],
        metaTools: ['list_servers'],
        mode: 'full',
      },
      { name: 'everything', mode: 'search' },
    ]);
    expect(result.config.http.token).toBe('admin-token');
    expect(result.config.http.tokens).toEqual([{ token: 'team-token', profiles: ['triage'] }]);
  });

  it('no profiles: the config is as before', () => {
    const result = parse(lines(...SERVERS));
    expect(result.ok && result.config.profiles).toBeUndefined();
  });

  it('reports bad values at file:line:col, with "did you mean"', () => {
    const result = parse(
      lines(
        ...SERVERS,
        'profiles:',
        '  triage:',
        '    servers: [githbu]',
        '    mode: fast',
        '    meta_tools: [call_everything]',
        '  default: {}',
        'http:',
        '  tokens:',
        '    - { token: t, profiles: [triag] }',
      ),
    );
    expect(result.ok).toBe(false);
    const messages = all(result).join('\n');
    expect(messages).toMatch(/gateway\.yaml:6:15: .*no server named "githbu".*did you mean "github"\?/);
    expect(messages).toMatch(/gateway\.yaml:7:11: .*full or search/);
    expect(messages).toMatch(/gateway\.yaml:8:18: /);
    expect(messages).toMatch(/gateway\.yaml:9:3: .*"default" is the full view/);
    expect(messages).toMatch(/gateway\.yaml:12:30: .*no profile named "triag".*did you mean "triage"\?/);
  });

  it('refuses a token listed twice, and warns that http.tokens is not used with http.auth', () => {
    const twice = parse(
      lines(
        ...SERVERS,
        'profiles:',
        '  triage: {}',
        'http:',
        '  tokens:',
        '    - { token: same, profiles: [triage] }',
        '    - { token: same, profiles: [default] }',
      ),
    );
    expect(twice.ok).toBe(true);
    expect(all(twice).join('\n')).toMatch(/gateway\.yaml:9:16: .*listed twice/);
    const withAuth = parse(
      lines(
        ...SERVERS,
        'profiles:',
        '  triage: {}',
        'http:',
        '  auth: { issuer: "https://idp.example.com", audience: "https://gw.example.com/mcp" }',
        '  tokens:',
        '    - { token: t, profiles: [triage] }',
      ),
    );
    expect(withAuth.ok).toBe(true);
    expect(all(withAuth).join('\n')).toMatch(/gateway\.yaml:8:3: .*http\.tokens: not used with http\.auth/);
  });
});
