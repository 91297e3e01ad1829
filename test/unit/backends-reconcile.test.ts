import { describe, expect, it } from 'vitest';
import { planReconcile, sameBackend } from '../../src/backends/index.js';
import { defaultConfig, type GatewayConfig, type ServerConfig } from '../../src/config/index.js';
import { compareSettings } from '../../src/front/config-reload.js';

const FILE = '/etc/gateway/gateway.yaml';

function stdio(name: string, extra: Partial<ServerConfig> = {}): ServerConfig {
  return {
    name,
    transport: 'stdio',
    command: 'node',
    args: [`${name}.js`],
    env: {},
    enabled: true,
    source: { kind: 'config', file: FILE },
    ...extra,
  } as ServerConfig;
}

function http(name: string, extra: Partial<ServerConfig> = {}): ServerConfig {
  return {
    name,
    transport: 'http',
    url: `https://${name}.example.com/mcp`,
    headers: {},
    enabled: true,
    source: { kind: 'config', file: FILE },
    ...extra,
  } as ServerConfig;
}

describe('planReconcile', () => {
  it('adds new servers, removes gone ones, restarts changed ones and leaves the same ones alone', () => {
    const running = [stdio('keep'), stdio('change'), stdio('gone'), http('remote')];
    const next = [
      stdio('keep'),
      stdio('change', { args: ['change.js', '--verbose'] } as Partial<ServerConfig>),
      http('remote'),
      stdio('fresh'),
    ];
    const plan = planReconcile(running, next, FILE);
    expect(plan.add.map((s) => s.name)).toEqual(['fresh']);
    expect(plan.replace.map((s) => s.name)).toEqual(['change']);
    expect(plan.replace[0]).toBe(next[1]);
    expect(plan.remove).toEqual(['gone']);
    expect(plan.unchanged).toEqual(['keep', 'remote']);
    expect(plan.clashes).toEqual([]);
  });

  it('never touches servers registered at runtime or auto-registered, and reports a name clash', () => {
    const runtime = stdio('mine', { source: { kind: 'runtime' } });
    const auto = stdio('claude', { source: { kind: 'auto-register', file: '/x/claude.json' } });
    const plan = planReconcile([runtime, auto], [stdio('mine'), stdio('claude')], FILE);
    expect(plan.add).toEqual([]);
    expect(plan.remove).toEqual([]);
    expect(plan.replace).toEqual([]);
    expect(plan.clashes).toEqual([
      { name: 'mine', holder: { kind: 'runtime' } },
      { name: 'claude', holder: { kind: 'auto-register', file: '/x/claude.json' } },
    ]);
    // An empty file removes only its own servers.
    expect(planReconcile([runtime, auto, stdio('own')], [], FILE).remove).toEqual(['own']);
  });

  it('treats enabled: false as absent', () => {
    const plan = planReconcile([stdio('off')], [stdio('off', { enabled: false }), stdio('on')], FILE);
    expect(plan.remove).toEqual(['off']);
    expect(plan.add.map((s) => s.name)).toEqual(['on']);
    expect(planReconcile([], [stdio('off', { enabled: false })], FILE).add).toEqual([]);
  });

  it('leaves servers of another config file alone', () => {
    const other = stdio('other', { source: { kind: 'config', file: '/elsewhere/gateway.yaml' } });
    const plan = planReconcile([other], [], FILE);
    expect(plan.remove).toEqual([]);
  });
});

describe('sameBackend', () => {
  const base = stdio('s', { env: { A: '1', B: '2' }, cwd: '/srv', timeoutMs: 5_000, description: 'd' });

  it.each([
    ['command', { command: 'python' }],
    ['args', { args: ['other.js'] }],
    ['env', { env: { A: '1', B: '3' } }],
    ['cwd', { cwd: '/tmp' }],
    ['timeout', { timeoutMs: 6_000 }],
    ['description', { description: 'new' }],
    ['prefix', { prefix: '' }],
    ['transport', { transport: 'http', url: 'https://x/mcp', headers: {} }],
  ])('a changed %s means a restart', (_what, change) => {
    expect(sameBackend(base, { ...base, ...change } as ServerConfig)).toBe(false);
  });

  it('ignores key order in env and headers, and where it came from', () => {
    const reordered = { ...base, env: { B: '2', A: '1' }, source: { kind: 'runtime' } } as ServerConfig;
    expect(sameBackend(base, reordered)).toBe(true);
    const h = http('h', { headers: { X: '1', Authorization: 'Bearer t' } });
    expect(sameBackend(h, { ...h, headers: { Authorization: 'Bearer t', X: '1' } } as ServerConfig)).toBe(
      true,
    );
    expect(sameBackend(h, { ...h, headers: { Authorization: 'Bearer u', X: '1' } } as ServerConfig)).toBe(
      false,
    );
    expect(sameBackend(h, { ...h, url: 'https://h.example.com/v2' } as ServerConfig)).toBe(false);
  });

  it('a changed HTTP transport (transport: sse / streamable-http) means a restart', () => {
    const h = http('h');
    expect(sameBackend(h, { ...h, httpTransport: 'sse' } as ServerConfig)).toBe(false);
    expect(
      sameBackend(
        { ...h, httpTransport: 'sse' } as ServerConfig,
        { ...h, httpTransport: 'sse' } as ServerConfig,
      ),
    ).toBe(true);
  });
});

describe('compareSettings', () => {
  const before: GatewayConfig = defaultConfig('/etc/gateway');

  it('sees nothing in an identical config', () => {
    expect(compareSettings(before, structuredClone(before))).toEqual({
      toolGroups: false,
      defaultTimeout: false,
      allowCommands: false,
      allowUrlHosts: false,
      authRules: false,
      maxRuntimeBackends: false,
      pipelines: false,
      restartNeeded: [],
    });
  });

  it('applies tool groups, the default timeout, the register_server policy and pipelines live; the rest needs a restart', () => {
    const after: GatewayConfig = {
      ...before,
      limits: { ...before.limits, maxRuntimeBackends: 1 },
      defaultTimeoutMs: before.defaultTimeoutMs + 1,
      tools: { ...before.tools, backends: !before.tools.backends },
      pipelinesDir: '/elsewhere',
      http: {
        ...before.http,
        host: '0.0.0.0',
        port: before.http.port + 1,
        token: 'secret-value',
        allowedHosts: ['gw.internal'],
        // Turned on by a reload: the authenticator is built at start, so it waits for a restart.
        auth: { issuer: 'https://issuer.test' } as NonNullable<GatewayConfig['http']['auth']>,
        allowCommands: [{ command: 'npx', args: [], env: [], cwd: [] }],
        allowUrlHosts: [
          { kind: 'range', text: '10.0.0.0/8', range: { family: 4, base: 10n << 24n, prefix: 8 } },
        ],
      },
    };
    const change = compareSettings(before, after);
    expect(change).toEqual({
      toolGroups: true,
      defaultTimeout: true,
      allowCommands: true,
      allowUrlHosts: true,
      authRules: false,
      maxRuntimeBackends: true,
      pipelines: true,
      restartNeeded: ['http.host', 'http.port', 'http.token', 'http.allowed_hosts', 'http.auth'],
    });
    expect(JSON.stringify(change)).not.toContain('secret-value');
  });

  it('applies http.auth.rules live; the rest of http.auth needs a restart', () => {
    const auth = { issuer: 'https://issuer.test', audience: 'https://gw.test/mcp' } as NonNullable<
      GatewayConfig['http']['auth']
    >;
    const on: GatewayConfig = { ...before, http: { ...before.http, auth } };
    const rules = [{ name: 'readers', when: {}, tools: ['tb__echo'] }] as NonNullable<typeof auth.rules>;
    const ruled: GatewayConfig = { ...on, http: { ...on.http, auth: { ...auth, rules } } };
    expect(compareSettings(on, ruled)).toMatchObject({ authRules: true, restartNeeded: [] });
    const moved: GatewayConfig = {
      ...ruled,
      http: { ...ruled.http, auth: { ...auth, rules, audience: 'x' } },
    };
    expect(compareSettings(ruled, moved)).toMatchObject({ authRules: false, restartNeeded: ['http.auth'] });
  });
});
