import { describe, expect, it } from 'vitest';
import type { Caller } from '../../src/auth/index.js';
import {
  accessFor,
  allowedProfiles,
  resourceFor,
  resourceMetadataUrl,
  scopesToReach,
} from '../../src/auth/index.js';
import { formatIssue, parseConfigText } from '../../src/config/index.js';

const lines = (...text: string[]) => `${text.join('\n')}\n`;
const parse = (text: string) => parseConfigText(text, 'gateway.yaml', {});

describe('http.auth in gateway.yaml', () => {
  it('reads the settings, with defaults', () => {
    const result = parse(
      lines(
        'http:',
        '  auth:',
        '    issuer: https://idp.example.com/realms/acme',
        '    audience: https://gw.example.com/mcp',
        '    groups_claim: realm_access.roles',
        '    rules:',
        '      - { name: analysts, when: { groups: [analysts] }, tools: ["sqlite__read_*"] }',
      ),
    );
    if (!result.ok) throw new Error(result.errors.map(formatIssue).join('\n'));
    expect(result.config.http.auth).toMatchObject({
      issuer: 'https://idp.example.com/realms/acme',
      audience: 'https://gw.example.com/mcp',
      algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'],
      clockSkewMs: 30_000,
      requiredScopes: [],
      authorizationServers: ['https://idp.example.com/realms/acme'],
      groupsClaim: 'realm_access.roles',
      rules: [{ name: 'analysts', when: { groups: ['analysts'] }, tools: ['sqlite__read_*'], servers: [] }],
    });
  });

  it('points at a missing audience, a bad URL and a bad clock skew', () => {
    const result = parse(
      lines('http:', '  auth:', '    issuer: idp.example.com', '    clock_skew: soon', '    rulez: []'),
    );
    expect(result.ok).toBe(false);
    const messages = result.ok ? [] : result.errors.map(formatIssue);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^gateway\.yaml:3:13: http\.auth\.issuer: expected an http:\/\/ or https:\/\/ URL/,
        ),
        expect.stringMatching(/^gateway\.yaml:4:17: http\.auth\.clock_skew: expected a duration/),
        expect.stringMatching(/^gateway\.yaml:5:5: http\.auth: unknown key "rulez"/),
        expect.stringMatching(/^gateway\.yaml:\d+:\d+: http\.auth: .*audience/),
      ]),
    );
  });

  it('lets a non-loopback bind go with http.auth and no static token', async () => {
    const { checkHttpSettings } = await import('../../src/front/http.js');
    const result = parse(
      lines(
        'http:',
        '  host: 0.0.0.0',
        '  auth: { issuer: "https://idp.test", audience: "https://gw.test/mcp" }',
      ),
    );
    if (!result.ok) throw new Error('invalid');
    expect(() => checkHttpSettings(result.config.http)).not.toThrow();
  });
});

describe('resources, one per endpoint', () => {
  const settings = parse(
    lines('http:', '  auth: { issuer: "https://idp.test", audience: "https://gw.test/mcp" }'),
  );
  const auth = settings.ok && settings.config.http.auth;
  if (!auth) throw new Error('invalid');
  it('gives /mcp the audience and a profile endpoint its own path', () => {
    expect(resourceFor(auth, '/mcp')).toBe('https://gw.test/mcp');
    expect(resourceFor(auth, '/mcp/analytics')).toBe('https://gw.test/mcp/analytics');
    expect(resourceMetadataUrl(auth, '/mcp/analytics')).toBe(
      'https://gw.test/.well-known/oauth-protected-resource/mcp/analytics',
    );
  });
});

describe('rules', () => {
  const rules = [
    {
      name: 'analysts',
      when: { groups: ['analysts'] },
      servers: [],
      tools: ['sqlite__read_*'],
      pipelines: ['database-report'],
      meta: ['list_*'],
      resources: ['mcpgw://docs/**'],
      prompts: [],
      profiles: ['analytics'],
    },
    {
      name: 'admins',
      when: { groups: ['admins'], scopes: ['mcp:admin'] },
      servers: ['*'],
      tools: [],
      pipelines: ['*'],
      meta: ['*'],
      resources: [],
      prompts: [],
      profiles: ['*'],
    },
  ];
  const caller = (groups: string[], scopes: string[] = []): Caller => ({
    kind: 'oauth',
    subject: 's',
    scopes,
    groups,
  });

  it('gives a read-only analyst some tools, pipelines and meta tools, and no register_server', () => {
    const access = accessFor(caller(['analysts']), rules);
    expect(access.allows({ kind: 'backend', server: 'sqlite', tool: 'read_query' })).toBe(true);
    expect(access.allows({ kind: 'backend', server: 'sqlite', tool: 'write_query' })).toBe(false);
    expect(access.allows({ kind: 'pipeline', pipeline: 'database-report' })).toBe(true);
    expect(access.allows({ kind: 'pipeline', pipeline: 'custom' })).toBe(false);
    expect(access.allows({ kind: 'meta', name: 'list_servers' })).toBe(true);
    expect(access.allows({ kind: 'meta', name: 'register_server' })).toBe(false);
  });

  it('gives resources by URI glob and a whole backend’s resources and prompts by server', () => {
    const analyst = accessFor(caller(['analysts']), rules);
    const doc = { kind: 'resource', server: 'docs', uri: 'mcpgw://docs/note://a', own: 'note://a' } as const;
    expect(analyst.allows(doc)).toBe(true);
    expect(analyst.allows({ ...doc, server: 'hr', uri: 'mcpgw://hr/note://a' })).toBe(false);
    expect(analyst.allows({ kind: 'prompt', server: 'docs', name: 'docs__greet', own: 'greet' })).toBe(false);
    const admin = accessFor(caller(['admins'], ['mcp:admin']), rules);
    expect(admin.allows({ kind: 'prompt', server: 'docs', name: 'docs__greet', own: 'greet' })).toBe(true);
    expect(admin.allows({ ...doc, server: 'hr', uri: 'mcpgw://hr/note://a' })).toBe(true);
  });

  it('gives an admin everything only with the admin scope, and names that scope for step-up', () => {
    const target = { kind: 'meta', name: 'register_server' } as const;
    expect(accessFor(caller(['admins'], ['mcp:admin']), rules).allows(target)).toBe(true);
    expect(accessFor(caller(['admins']), rules).allows(target)).toBe(false);
    expect(scopesToReach(caller(['admins']), rules, target)).toEqual(['mcp:admin']);
    // No scope makes an analyst an admin.
    expect(scopesToReach(caller(['analysts']), rules, target)).toEqual([]);
  });

  it('leaves everything open without rules and to the static token', () => {
    expect(accessFor(caller([]), undefined).unrestricted).toBe(true);
    expect(
      accessFor({ kind: 'static', subject: 'token:abc', scopes: [], groups: [] }, rules).unrestricted,
    ).toBe(true);
    expect(accessFor(caller([]), []).allows({ kind: 'meta', name: 'list_servers' })).toBe(false);
  });

  it('says which profiles a caller may use', () => {
    expect(allowedProfiles(caller(['analysts']), rules, ['analytics', 'ops'])).toEqual(['analytics']);
    expect(allowedProfiles(caller(['admins'], ['mcp:admin']), rules, ['analytics', 'ops'])).toEqual([
      'analytics',
      'ops',
    ]);
  });
});
