import { describe, expect, it } from 'vitest';
import {
  formatIssue,
  parseConfigText,
  type ServerConfig,
  type ServerSource,
} from '../../src/config/index.js';
import { describeClash } from '../../src/front/name-clashes.js';
import { type NamedBackends, pickServed, ServedNames } from '../../src/front/served-names.js';

/** Backends as the registry holds them: in the order they were added, each with its config. */
function backends(entries: { name: string; prefix?: string; source?: ServerSource }[]): NamedBackends {
  const configs = new Map<string, ServerConfig>(
    entries.map((e) => [
      e.name,
      {
        name: e.name,
        transport: 'stdio',
        command: 'x',
        args: [],
        env: {},
        enabled: true,
        source: e.source ?? { kind: 'config', file: 'gateway.yaml' },
        ...(e.prefix === undefined ? {} : { prefix: e.prefix }),
      },
    ]),
  );
  return {
    names: () => [...configs.keys()],
    get: (name) => {
      const config = configs.get(name);
      return config && { config };
    },
  };
}

const candidate = (server: string, served: string) => ({ server, served, item: `${server}:${served}` });

describe('which backend serves a name several would (pickServed)', () => {
  it('gives a name the gateway reserves to no backend, and says so', () => {
    const { served, clashes } = pickServed(
      'tool',
      [candidate('main', 'list_servers'), candidate('main', 'search')],
      ['main'],
      (name) => name === 'list_servers',
    );
    expect(served.map((c) => c.served)).toEqual(['search']);
    expect(clashes).toEqual([{ kind: 'tool', name: 'list_servers', server: 'main', servedBy: 'gateway' }]);
  });

  it('gives a shared name to the backend first by precedence, whatever order the lists came in', () => {
    const candidates = [candidate('late', 'docs_search'), candidate('early', 'docs_search')];
    const { served, clashes } = pickServed('prompt', candidates, ['early', 'late']);
    expect(served.map((c) => c.item)).toEqual(['early:docs_search']);
    expect(clashes).toEqual([{ kind: 'prompt', name: 'docs_search', server: 'late', servedBy: 'early' }]);
    // The other precedence, the other winner.
    expect(pickServed('prompt', candidates, ['late', 'early']).served.map((c) => c.item)).toEqual([
      'late:docs_search',
    ]);
  });

  it('keeps a backend’s own duplicate to itself: its first is served, no clash is reported', () => {
    const { served, clashes } = pickServed('tool', [candidate('a', 'x'), candidate('a', 'x')], ['a']);
    expect(served).toHaveLength(1);
    expect(clashes).toEqual([]);
  });

  it('describes a clash so the log and list_servers say who serves the name instead', () => {
    expect(describeClash({ kind: 'tool', name: 'x', server: 'b', servedBy: 'a' })).toMatch(
      /^tool "x" of server 'b' is not served: server 'a' serves that name/,
    );
    expect(describeClash({ kind: 'tool', name: 'call_backend', server: 'b', servedBy: 'gateway' })).toContain(
      "reserved for the gateway's own tools",
    );
  });
});

describe('served names from prefix:', () => {
  it('serves <name>__ by default, the prefix when set, and "" unchanged (URIs too)', () => {
    const names = new ServedNames(
      backends([{ name: 'docs' }, { name: 'main', prefix: '' }, { name: 'gh', prefix: 'github.' }]),
      () => ['docs', 'main', 'gh'],
    );
    expect(names.name('docs', 'search')).toBe('docs__search');
    expect(names.name('main', 'search')).toBe('search');
    expect(names.name('gh', 'search')).toBe('github.search');
    expect(names.uri('docs', 'file:///a')).toBe('mcpgw://docs/file:///a');
    expect(names.uri('gh', 'file:///a')).toBe('mcpgw://gh/file:///a');
    expect(names.uri('main', 'file:///a')).toBe('file:///a');
    expect(names.transparent()).toEqual(['main']);
  });

  it('finds the backend of a served name by its longest prefix, a transparent one last', () => {
    const names = new ServedNames(
      backends([{ name: 'main', prefix: '' }, { name: 'a' }, { name: 'ab', prefix: 'a__b' }]),
      () => ['main', 'a', 'ab'],
    );
    expect(names.owner('a__bx')).toEqual({ server: 'ab', name: 'x' });
    expect(names.owner('a__x')).toEqual({ server: 'a', name: 'x' });
    expect(names.owner('search')).toEqual({ server: 'main', name: 'search' });
    expect(names.owner('')).toBeUndefined();
  });

  it('orders backends: file order, then --auto-register, then register_server, not by when they were added', () => {
    const registry = backends([
      { name: 'runtime1', source: { kind: 'runtime' } },
      { name: 'auto', source: { kind: 'auto-register', file: 'claude.json' } },
      { name: 'second' },
      { name: 'first' },
      { name: 'runtime2', source: { kind: 'runtime' } },
    ]);
    const names = new ServedNames(registry, () => ['first', 'second']);
    expect(names.precedence()).toEqual(['first', 'second', 'auto', 'runtime1', 'runtime2']);
  });
});

describe('prefix: in gateway.yaml', () => {
  const errors = (text: string) => {
    const result = parseConfigText(text, 'gateway.yaml', {});
    return result.ok ? [] : result.errors.map(formatIssue);
  };

  it('takes "" and a custom prefix, and leaves it unset by default', () => {
    const result = parseConfigText(
      [
        'servers:',
        '  main: { command: x, prefix: "" }',
        '  gh: { url: "http://h/mcp", prefix: gh. }',
        '  db: { command: y }',
      ].join('\n'),
      'gateway.yaml',
      {},
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config.servers.map((s) => [s.name, s.prefix])).toEqual([
      ['main', ''],
      ['gh', 'gh.'],
      ['db', undefined],
    ]);
  });

  it('refuses two servers sharing a prefix, at the second one’s line and column', () => {
    expect(
      errors(
        ['servers:', '  a: { command: x, prefix: "" }', '  b:', '    command: y', '    prefix: ""'].join(
          '\n',
        ),
      ),
    ).toEqual([
      'gateway.yaml:5:13: servers.b.prefix: prefix "" is also the prefix of server "a"; no two servers may share a prefix',
    ]);
    // A prefix equal to another server's default one, which the file does not spell out.
    expect(
      errors(['servers:', '  x: { command: x, prefix: y__ }', '  y: { command: y }'].join('\n')),
    ).toEqual([
      'gateway.yaml:3:3: servers.y: prefix "y__" is also the prefix of server "x"; no two servers may share a prefix',
    ]);
  });

  it('refuses a prefix that could not be part of a tool name', () => {
    expect(errors(['servers:', '  a: { command: x, prefix: "a b/" }'].join('\n'))).toEqual([
      'gateway.yaml:2:28: servers.a.prefix: expected at most 64 letters, digits, "_", "-" or "." (or "" to serve names unchanged)',
    ]);
  });
});
