import { describe, expect, it } from 'vitest';
import {
  type CommandAllowEntry,
  classifyAddress,
  formatIp,
  parseConfigText,
  parseHostEntry,
  parseIp,
  parseRange,
  rangeContains,
  type UrlHostAllowEntry,
} from '../../src/config/index.js';
import { isGatewayError } from '../../src/errors.js';
import {
  argsMatch,
  checkCommand,
  checkHttpRegistration,
  checkRuntimeCount,
  checkUrl,
  globMatch,
  type StdioRequest,
  urlTarget,
} from '../../src/front/register-policy.js';

const entry = (e: Partial<CommandAllowEntry> & { command: string }): CommandAllowEntry => ({
  args: [],
  env: [],
  cwd: [],
  ...e,
});
const request = (r: Partial<StdioRequest> & { command: string }): StdioRequest => ({
  args: [],
  envNames: [],
  ...r,
});

/** The GatewayError `fn` throws, for its code, message and data. */
function refusal(fn: () => void): { code: string; message: string; data: Record<string, unknown> } {
  try {
    fn();
  } catch (err) {
    if (isGatewayError(err)) return { code: err.code, message: err.message, data: err.data };
    throw err;
  }
  throw new Error('expected a refusal, but it was allowed');
}

function hosts(...texts: string[]): UrlHostAllowEntry[] {
  return texts.map((t) => {
    const e = parseHostEntry(t);
    if (typeof e === 'string') throw new Error(e);
    return e;
  });
}

describe('argument globs', () => {
  it('* and ? stay within a path segment, ** crosses it, other characters are literal', () => {
    expect(globMatch('dist/servers/*.js', 'dist/servers/weather.js')).toBe(true);
    expect(globMatch('dist/servers/*.js', 'dist/servers/sub/weather.js')).toBe(false);
    expect(globMatch('dist/servers/*.js', 'dist/servers/weatherXjs')).toBe(false);
    expect(globMatch('v?', 'v1')).toBe(true);
    expect(globMatch('v?', 'v/')).toBe(false);
    expect(globMatch('**', '/any/path with spaces')).toBe(true);
    expect(globMatch('--db=(a|b)', '--db=a')).toBe(false);
    expect(globMatch('--db=(a|b)', '--db=(a|b)')).toBe(true);
    expect(globMatch('-e', '-e')).toBe(true);
    expect(globMatch('*', '')).toBe(true);
  });

  it('an argument that climbs with .. matches only a pattern that says .. or **', () => {
    expect(globMatch('dist/*/x.js', 'dist/../x.js')).toBe(false);
    expect(globMatch('*', '..')).toBe(false);
    expect(globMatch('../lib/*.js', '../lib/a.js')).toBe(true);
    expect(globMatch('**', '../../etc/passwd')).toBe(true);
  });

  it('matches position by position, the same count, with a last ... for any further arguments', () => {
    expect(argsMatch([], [])).toBe(true);
    expect(argsMatch(['-e', 'code'], [])).toBe(false);
    expect(argsMatch(['a.js', '--db-path', '/x/y.db'], ['*.js', '--db-path', '**'])).toBe(true);
    expect(argsMatch(['a.js', '--db-path'], ['*.js', '--db-path', '**'])).toBe(false);
    expect(argsMatch(['a.js', '--db-path', 'x', 'extra'], ['*.js', '--db-path', '**'])).toBe(false);
    expect(argsMatch(['a.js', '-v', '--x'], ['*.js', '...'])).toBe(true);
    expect(argsMatch(['a.js'], ['*.js', '...'])).toBe(true);
    expect(argsMatch([], ['*.js', '...'])).toBe(false);
  });
});

describe('checkCommand (http.allow_commands)', () => {
  it('refuses a command that is not listed, naming the setting', () => {
    const r = refusal(() =>
      checkCommand(request({ command: 'bash', args: ['-c', 'x'] }), [entry({ command: 'node' })]),
    );
    expect(r.code).toBe('REGISTER_REFUSED');
    expect(r.message).toMatch(
      /starting 'bash' over HTTP is refused: allowed commands: node\. .*http\.allow_commands/,
    );
    expect(r.data).toMatchObject({ reason: 'command', setting: 'http.allow_commands' });
    expect(refusal(() => checkCommand(request({ command: 'node' }), [])).message).toMatch(
      /no commands are allowed \(http\.allow_commands in the config is empty\)/,
    );
  });

  it('a bare entry allows the command with no arguments only (node -e would run anything)', () => {
    const allow = [entry({ command: 'node' })];
    expect(() => checkCommand(request({ command: 'node' }), allow)).not.toThrow();
    const r = refusal(() => checkCommand(request({ command: 'node', args: ['-e', 'pwn()'] }), allow));
    expect(r.data.reason).toBe('args');
    expect(r.message).toMatch(/the arguments \["-e","pwn\(\)"\] do not match the allowed no arguments/);
  });

  it('compares names and paths as written: no PATH lookup, paths normalized, relative paths refused', () => {
    expect(
      refusal(() => checkCommand(request({ command: '/usr/bin/node' }), [entry({ command: 'node' })])).data
        .reason,
    ).toBe('command');
    expect(
      refusal(() => checkCommand(request({ command: 'node' }), [entry({ command: '/usr/bin/node' })])).data
        .reason,
    ).toBe('command');
    expect(() =>
      checkCommand(request({ command: '/usr/local/../bin/node' }), [entry({ command: '/usr/bin/node' })]),
    ).not.toThrow();
    const relative = refusal(() =>
      checkCommand(request({ command: './node' }), [entry({ command: 'node' })]),
    );
    expect(relative.message).toMatch(/a relative path depends on the working directory/);
  });

  it('refuses env names and a cwd the entry does not list; allows listed ones and the default cwd', () => {
    const allow = [entry({ command: 'node', args: ['s.js'], env: ['LOG_*', 'DEBUG'], cwd: ['/srv/mcp'] })];
    const ok = request({
      command: 'node',
      args: ['s.js'],
      envNames: ['LOG_LEVEL', 'DEBUG'],
      cwd: '/srv/mcp',
    });
    expect(() => checkCommand(ok, allow)).not.toThrow();
    expect(() => checkCommand(request({ command: 'node', args: ['s.js'] }), allow)).not.toThrow();

    const env = refusal(() => checkCommand({ ...ok, envNames: ['LOG_LEVEL', 'NODE_OPTIONS'] }, allow));
    expect(env.data.reason).toBe('env');
    expect(env.message).toMatch(
      /NODE_OPTIONS is not allowed \(allowed: LOG_\*, DEBUG\)\. List the names under env/,
    );
    expect(env.message).not.toMatch(/LOG_LEVEL is/);

    const cwd = refusal(() => checkCommand({ ...ok, cwd: '/tmp/evil' }, allow));
    expect(cwd.data.reason).toBe('cwd');
    expect(cwd.message).toMatch(/the working directory '\/tmp\/evil' is not allowed \(allowed: \/srv\/mcp\)/);

    const none = refusal(() =>
      checkCommand(request({ command: 'node', envNames: ['X'] }), [entry({ command: 'node' })]),
    );
    expect(none.message).toMatch(/X is not allowed \(allowed: none\)/);
  });

  it('any one entry may allow the request; otherwise the entry that got furthest explains', () => {
    const allow = [
      entry({ command: 'node', args: ['a.js'] }),
      entry({ command: 'node', args: ['b.js'], env: ['TOKEN'] }),
    ];
    expect(() =>
      checkCommand(request({ command: 'node', args: ['b.js'], envNames: ['TOKEN'] }), allow),
    ).not.toThrow();
    expect(
      refusal(() => checkCommand(request({ command: 'node', args: ['b.js'], envNames: ['X'] }), allow)).data
        .reason,
    ).toBe('env');
  });
});

describe('IP addresses and ranges', () => {
  it('classifies loopback, private, link-local, unspecified and public addresses', () => {
    const cls = (text: string) => classifyAddress(parseIp(text) ?? { family: 4, value: -1n });
    expect(cls('127.0.0.1')).toBe('loopback');
    expect(cls('127.255.0.9')).toBe('loopback');
    expect(cls('10.1.2.3')).toBe('private');
    expect(cls('172.16.0.1')).toBe('private');
    expect(cls('172.32.0.1')).toBe('public');
    expect(cls('192.168.1.1')).toBe('private');
    expect(cls('100.64.0.1')).toBe('private');
    expect(cls('169.254.169.254')).toBe('link-local');
    expect(cls('0.0.0.0')).toBe('unspecified');
    expect(cls('255.255.255.255')).toBe('reserved');
    expect(cls('224.0.0.1')).toBe('multicast');
    expect(cls('8.8.8.8')).toBe('public');
    expect(cls('::1')).toBe('loopback');
    expect(cls('::')).toBe('unspecified');
    expect(cls('fd12:3456::1')).toBe('private');
    expect(cls('fe80::1%eth0')).toBe('link-local');
    expect(cls('2606:4700:4700::1111')).toBe('public');
  });

  it('sees the IPv4 address inside mapped, NAT64 and 6to4 IPv6 addresses', () => {
    expect(parseIp('::ffff:127.0.0.1')).toEqual({ family: 4, value: 0x7f000001n });
    expect(parseIp('::ffff:7f00:1')).toEqual({ family: 4, value: 0x7f000001n });
    expect(parseIp('[::FFFF:169.254.169.254]')).toEqual(parseIp('169.254.169.254'));
    expect(classifyAddress(parseIp('64:ff9b::a9fe:a9fe') as never)).toBe('link-local');
    expect(classifyAddress(parseIp('2002:7f00:1::') as never)).toBe('loopback');
    expect(classifyAddress(parseIp('2002:808:808::') as never)).toBe('public');
  });

  it('parses and matches CIDR ranges, normalizing host bits; rejects malformed ones', () => {
    const ten = parseRange('10.9.9.9/8');
    expect(ten).toEqual({ family: 4, base: 10n << 24n, prefix: 8 });
    expect(rangeContains(ten as never, parseIp('10.255.0.1') as never)).toBe(true);
    expect(rangeContains(ten as never, parseIp('11.0.0.1') as never)).toBe(false);
    expect(rangeContains(ten as never, parseIp('::ffff:10.0.0.1') as never)).toBe(true);
    const ula = parseRange('fc00::/7');
    expect(rangeContains(ula as never, parseIp('fdff::1') as never)).toBe(true);
    expect(rangeContains(ula as never, parseIp('fe00::1') as never)).toBe(false);
    expect(parseRange('::ffff:127.0.0.0/104')).toEqual(parseRange('127.0.0.0/8'));
    expect(rangeContains(parseRange('0.0.0.0/0') as never, parseIp('1.2.3.4') as never)).toBe(true);
    for (const bad of ['10.0.0.0/33', 'fc00::/129', '1.2.3/8', '10.0.0.0/', '10.0.0.0/x', 'host/8']) {
      expect(parseRange(bad), bad).toBeUndefined();
    }
    expect(formatIp(parseIp('fe80::1') as never)).toBe('fe80:0:0:0:0:0:0:1');
  });
});

describe('http.allow_url_hosts entries', () => {
  it('reads names, wildcards, addresses and ranges, with or without a port', () => {
    expect(parseHostEntry('MCP.Internal.')).toEqual({
      kind: 'name',
      text: 'MCP.Internal.',
      name: 'mcp.internal',
    });
    expect(parseHostEntry('*.corp.example:8443')).toMatchObject({
      kind: 'name',
      name: '*.corp.example',
      port: 8443,
    });
    expect(parseHostEntry('[::1]:9000')).toMatchObject({
      kind: 'range',
      range: { family: 6, base: 1n, prefix: 128 },
      port: 9000,
    });
    expect(parseHostEntry('::1')).toMatchObject({ kind: 'range', range: { family: 6, prefix: 128 } });
    expect(parseHostEntry('fd00::/8')).toMatchObject({ kind: 'range', range: { family: 6, prefix: 8 } });
    // The same normalization the URL parser applies to a registered url.
    expect(parseHostEntry('2130706433:80')).toMatchObject({
      kind: 'range',
      range: { family: 4, base: 0x7f000001n },
      port: 80,
    });
  });

  it('rejects what is not a host entry', () => {
    for (const bad of ['http://x', 'a b', '*', 'x:0', 'x:99999', 'user@host', '10.0.0.0/40', '*.*.x', '']) {
      expect(typeof parseHostEntry(bad), bad).toBe('string');
    }
  });

  it('a malformed entry, or a relative command path, is a config error', () => {
    const result = parseConfigText(
      [
        'http:',
        '  allow_url_hosts: ["http://evil"]',
        '  allow_commands: [./run.sh, { command: node, args: [..., x] }]',
      ].join('\n'),
      '/srv/gw/gateway.yaml',
      {},
    );
    expect(result.ok).toBe(false);
    const messages = result.ok ? [] : result.errors.map((e) => `${e.line}: ${e.path}: ${e.message}`);
    expect(messages).toEqual([
      expect.stringMatching(/^2: http\.allow_url_hosts\[0\]: .*expected a host name/),
      expect.stringMatching(
        /^3: http\.allow_commands\[0\]: .*bare command name like "node" or an absolute path/,
      ),
      expect.stringMatching(
        /^3: http\.allow_commands\[1\]\.args\[0\]: .*"\.\.\." \(any further arguments\) must come last/,
      ),
    ]);
  });
});

describe('urlTarget: the URL parser normalizes tricky hosts before any check', () => {
  it.each([
    ['http://2130706433/', '127.0.0.1'],
    ['http://0x7f.1/', '127.0.0.1'],
    ['http://017700000001/', '127.0.0.1'],
    ['http://127.1:8080/mcp', '127.0.0.1'],
    ['http://0/', '0.0.0.0'],
    ['http://[::ffff:127.0.0.1]/', '127.0.0.1'],
    ['http://[0:0:0:0:0:0:0:1]/', '0:0:0:0:0:0:0:1'],
  ])('%s is the address %s', (url, address) => {
    const target = urlTarget(url);
    expect(target.address && formatIp(target.address)).toBe(address);
  });

  it('keeps names lowercase without a trailing dot, defaults the port, shows no credentials', () => {
    expect(urlTarget('https://user:pw@LocalHost.:8443/x?y')).toEqual({
      host: 'localhost',
      port: 8443,
      origin: 'https://localhost.:8443',
    });
    expect(urlTarget('http://example.com/').port).toBe(80);
    expect(urlTarget('https://example.com/').port).toBe(443);
  });

  it('refuses other schemes', () => {
    expect(refusal(() => urlTarget('file:///etc/passwd')).message).toMatch(
      /only http:\/\/ and https:\/\/ urls/,
    );
  });
});

describe('checkUrl (http.allow_url_hosts)', () => {
  const refused = (url: string, addresses: string[] = [], allow: UrlHostAllowEntry[] = []) =>
    refusal(() => checkUrl(urlTarget(url), addresses, allow));
  const allowed = (url: string, addresses: string[] = [], allow: UrlHostAllowEntry[] = []) =>
    checkUrl(urlTarget(url), addresses, allow);

  it.each([
    ['http://127.0.0.1:9000/mcp', [], /127\.0\.0\.1 is a loopback address\. .*add "127\.0\.0\.1:9000" there/],
    ['http://169.254.169.254/latest/meta-data/', [], /169\.254\.169\.254 is a link-local address/],
    ['http://[::1]/', [], /0:0:0:0:0:0:0:1 is a loopback address.*"\[0:0:0:0:0:0:0:1\]:80"/],
    ['http://[::ffff:169.254.169.254]/', [], /169\.254\.169\.254 is a link-local address/],
    ['http://0x7f.1/', [], /127\.0\.0\.1 is a loopback address/],
    ['http://0.0.0.0:8080/', [], /0\.0\.0\.0 is an unspecified address/],
    ['http://10.0.0.7/', [], /10\.0\.0\.7 is a private address/],
    [
      'http://localhost:3000/',
      [],
      /'localhost' resolves to 127\.0\.0\.1, a loopback address.*"localhost:3000"/,
    ],
    ['http://api.localhost/', ['203.0.113.200'], /'api\.localhost' resolves to 127\.0\.0\.1/],
    [
      'http://sneaky.example/',
      ['93.184.216.34', '10.1.1.1'],
      /'sneaky\.example' resolves to 10\.1\.1\.1, a private address/,
    ],
    ['http://nowhere.invalid/', [], /'nowhere\.invalid' does not resolve/],
  ])('refuses %s', (url, addresses, message) => {
    const r = refused(url, addresses);
    expect(r.code).toBe('REGISTER_REFUSED');
    expect(r.message).toMatch(/^register_server: connecting to \S+ over HTTP is refused: /);
    expect(r.message).toMatch(message);
    expect(r.data.setting).toBe('http.allow_url_hosts');
  });

  it('allows public addresses and names that resolve only to them', () => {
    expect(() => allowed('https://8.8.8.8/mcp')).not.toThrow();
    expect(() =>
      allowed('https://mcp.example.com/mcp', ['93.184.216.34', '2606:2800:220:1::1']),
    ).not.toThrow();
  });

  it('allows a listed address or range, on the listed port only', () => {
    const allow = hosts('127.0.0.1:9000', '10.0.0.0/8', '[::1]');
    expect(() => allowed('http://127.0.0.1:9000/mcp', [], allow)).not.toThrow();
    expect(refused('http://127.0.0.1:9001/mcp', [], allow).data.reason).toBe('loopback');
    expect(() => allowed('http://10.200.0.1:1234/', [], allow)).not.toThrow();
    expect(() => allowed('http://inside.corp/', ['10.3.3.3'], allow)).not.toThrow();
    expect(() => allowed('http://[::1]:5/', [], allow)).not.toThrow();
    expect(() => allowed('http://[::ffff:127.0.0.1]:9000/', [], allow)).not.toThrow();
    // A listed range does not cover the metadata address.
    expect(refused('http://169.254.169.254/', [], allow).data.reason).toBe('link-local');
  });

  it('trusts a listed name whatever it resolves to; a wildcard covers subdomains, not the name itself', () => {
    const allow = hosts('localhost:3000', '*.corp.example');
    expect(() => allowed('http://localhost:3000/', ['127.0.0.1'], allow)).not.toThrow();
    expect(refused('http://localhost:3001/', ['127.0.0.1'], allow).data.reason).toBe('loopback');
    expect(() => allowed('http://mcp.corp.example/', ['10.0.0.1'], allow)).not.toThrow();
    expect(refused('http://corp.example/', ['10.0.0.1'], allow).data.reason).toBe('private');
    expect(refused('http://evilcorp.example/', ['10.0.0.1'], allow).data.reason).toBe('private');
    // A name entry never matches an address literal.
    expect(refused('http://127.0.0.1:3000/', [], hosts('localhost:3000')).data.reason).toBe('loopback');
  });
});

describe('checkHttpRegistration', () => {
  const http = { allowCommands: [entry({ command: 'node', args: ['s.js'] })], allowUrlHosts: [] };
  const noDns = async () => {
    throw new Error('no DNS lookup expected');
  };

  it('treats a cwd as chosen only when the caller sent one', async () => {
    const server = {
      name: 'x',
      transport: 'stdio' as const,
      command: 'node',
      args: ['s.js'],
      env: {},
      cwd: '/srv/gw',
      enabled: true,
      source: { kind: 'runtime' as const },
    };
    await expect(checkHttpRegistration({}, server, http, noDns)).resolves.toBeUndefined();
    await expect(checkHttpRegistration({ cwd: '.' }, server, http, noDns)).rejects.toThrow(
      /working directory '\/srv\/gw'/,
    );
  });

  it('looks a url host up and checks every address', async () => {
    const server = {
      name: 'x',
      transport: 'http' as const,
      url: 'http://rebind.example/mcp',
      headers: {},
      enabled: true,
      source: { kind: 'runtime' as const },
    };
    const looked: string[] = [];
    const resolver = async (host: string) => {
      looked.push(host);
      return ['127.0.0.1'];
    };
    await expect(checkHttpRegistration({}, server, http, resolver)).rejects.toThrow(
      /resolves to 127\.0\.0\.1/,
    );
    expect(looked).toEqual(['rebind.example']);
  });
});

describe('checkRuntimeCount (limits.max_runtime_backends)', () => {
  it('refuses the one past the limit, naming the limit and the setting', () => {
    expect(() => checkRuntimeCount(2, 3)).not.toThrow();
    const r = refusal(() => checkRuntimeCount(3, 3));
    expect(r.code).toBe('REGISTER_LIMIT');
    expect(r.message).toMatch(
      /3 servers registered at runtime already, the most limits\.max_runtime_backends allows \(3\)/,
    );
    expect(r.data).toEqual({ limit: 3, count: 3, setting: 'limits.max_runtime_backends' });
    expect(refusal(() => checkRuntimeCount(0, 0)).message).toMatch(/register_server is turned off/);
  });
});
