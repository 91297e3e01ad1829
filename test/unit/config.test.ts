// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} in plain strings is the config syntax under test
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ConfigResult,
  configError,
  defaultConfig,
  formatIssue,
  type GatewayConfig,
  loadConfigFile,
  parseConfigText,
} from '../../src/config/index.js';

const fixtures = fileURLToPath(new URL('../fixtures/config/', import.meta.url));
const fixture = (name: string) => join(fixtures, name);
const lines = (...text: string[]) => `${text.join('\n')}\n`;

function config(result: ConfigResult): GatewayConfig {
  if (!result.ok)
    throw new Error(`expected a valid config, got:\n${result.errors.map(formatIssue).join('\n')}`);
  return result.config;
}

/** Every error as `file:line:col: message`. */
function errors(result: ConfigResult): string[] {
  if (result.ok) throw new Error('expected errors, the config is valid');
  return result.errors.map(formatIssue);
}

const parse = (text: string, env: Record<string, string> = {}) => parseConfigText(text, 'gateway.yaml', env);

describe('a valid config', () => {
  it('normalizes every field of a full gateway.yaml', async () => {
    const file = fixture('full.yaml');
    const result = await loadConfigFile(file, { REMOTE_TOKEN: 'tok-123' });
    const source = { kind: 'config', file };
    expect(result).toEqual({
      ok: true,
      warnings: [],
      config: {
        file,
        baseDir: fixtures.replace(/\/$/, ''),
        defaultTimeoutMs: 12_000,
        startupGraceMs: 3_000,
        shutdownTimeoutMs: 30_000,
        http: {
          host: '0.0.0.0',
          port: 9000,
          allowedHosts: ['gateway.local'],
          allowCommands: [
            { command: 'node', args: [], env: [], cwd: [] },
            { command: '/usr/bin/python3', args: [], env: [], cwd: [] },
            {
              command: 'node',
              args: ['dist/servers/*.js', '--db-path', '**', '...'],
              env: ['LOG_*'],
              cwd: [fixtures.replace(/\/$/, ''), '/srv/mcp'],
            },
          ],
          allowUrlHosts: [
            { kind: 'name', text: 'mcp.internal', name: 'mcp.internal' },
            { kind: 'name', text: '*.corp.example:8443', name: '*.corp.example', port: 8443 },
            { kind: 'range', text: '10.0.0.0/8', range: { family: 4, base: 10n << 24n, prefix: 8 } },
            {
              kind: 'range',
              text: '127.0.0.1:9000',
              range: { family: 4, base: 0x7f000001n, prefix: 32 },
              port: 9000,
            },
          ],
        },
        limits: { maxMessageBytes: 4 * 1024 * 1024, maxRuntimeBackends: 5 },
        tools: { meta: true, backends: false, pipelines: true },
        pipelinesDir: join(fixtures, 'my-pipelines'),
        metrics: true,
        audit: { enabled: true, file: join(fixtures, 'logs/audit.jsonl') },
        surface: {
          maxNameLength: 64,
          callBackendBypassesFilters: false,
          pinsFile: join(fixtures, '.data/tool-pins.json'),
        },
        cluster: {
          redis: 'redis://:s3cret-redis-pass@redis.internal:6379/2',
          replicaId: 'gw-a',
          keyPrefix: 'team1',
        },
        rateLimits: {
          perCaller: { calls: 100, perMs: 60_000 },
          perServer: { calls: 20, perMs: 1000 },
          servers: { sqlite: { calls: 5, perMs: 2000 } },
          inFlight: { servers: {} },
          whenRedisDown: 'closed',
        },
        servers: [
          {
            name: 'weather',
            transport: 'stdio',
            command: 'node',
            args: ['dist/servers/weather.js', '--verbose'],
            env: { NWS_API_BASE: 'https://api.weather.gov', RETRIES: '3' },
            cwd: resolve(fixtures, '../..'),
            description: 'US weather from the National Weather Service',
            timeoutMs: 15_000,
            retryOnCrash: { 'get_*': true, set_alert: false },
            enabled: true,
            source,
          },
          {
            name: 'sqlite',
            transport: 'stdio',
            command: 'node',
            args: ['dist/servers/sqlite.js', '--db', 'my data.db', '--mode', 'read only'],
            env: {},
            cwd: fixtures.replace(/\/$/, ''),
            enabled: false,
            source,
          },
          {
            name: 'remote',
            transport: 'http',
            url: 'https://example.com/mcp',
            headers: { Authorization: 'Bearer tok-123' },
            timeoutMs: 2_500,
            retryOnCrash: false,
            enabled: true,
            source,
          },
        ],
      },
    });
  });

  it('takes values and defaults from the environment', async () => {
    const env = {
      REMOTE_TOKEN: 'r',
      GATEWAY_PORT: '8123',
      NWS_API_BASE: 'http://127.0.0.1:9/',
      MCP_GATEWAY_TOKEN: 'gw',
    };
    const result = config(await loadConfigFile(fixture('full.yaml'), env));
    expect(result.http.port).toBe(8123);
    expect(result.http.token).toBe('gw');
    expect(result.servers[0]).toMatchObject({ env: { NWS_API_BASE: 'http://127.0.0.1:9/' } });
  });

  it('fills every default for an empty file', () => {
    const result = parseConfigText('# nothing yet\n', '/srv/gw/gateway.yaml', {});
    expect(result).toEqual({
      ok: true,
      warnings: [],
      config: { ...defaultConfig('/srv/gw', {}), file: '/srv/gw/gateway.yaml' },
    });
    expect(defaultConfig('/srv/gw', {})).toEqual({
      baseDir: '/srv/gw',
      defaultTimeoutMs: 10_000,
      startupGraceMs: 2_000,
      shutdownTimeoutMs: 10_000,
      http: { host: '127.0.0.1', port: 8003, allowedHosts: [], allowCommands: [], allowUrlHosts: [] },
      limits: { maxMessageBytes: 4 * 1024 * 1024, maxRuntimeBackends: 32 },
      tools: { meta: true, backends: true, pipelines: true },
      pipelinesDir: '/srv/gw/pipelines',
      servers: [],
      // Observability: metrics off; the audit log follows the transport (on over HTTP).
      metrics: false,
      audit: {},
      // The tool surface: names fit 64 characters; pins kept beside the config.
      surface: {
        maxNameLength: 64,
        callBackendBypassesFilters: false,
        pinsFile: '/srv/gw/.data/tool-pins.json',
      },
      // One process, state in memory; no call limits.
      cluster: { keyPrefix: 'mcpgw' },
      rateLimits: { servers: {}, inFlight: { servers: {} }, whenRedisDown: 'open' },
    });
  });

  it('reads the token from MCP_GATEWAY_TOKEN when the file leaves it empty', () => {
    const text = lines('http:', '  token: ${MCP_GATEWAY_TOKEN:-}');
    expect(config(parse(text)).http.token).toBeUndefined();
    expect(config(parse(text, { MCP_GATEWAY_TOKEN: '' })).http.token).toBeUndefined();
    expect(config(parse(text, { MCP_GATEWAY_TOKEN: 'abc' })).http.token).toBe('abc');
    expect(config(parse(lines('http:', '  token: literal'), { MCP_GATEWAY_TOKEN: 'abc' })).http.token).toBe(
      'literal',
    );
  });

  it('reads a JSON config', async () => {
    const file = fixture('full.json');
    const result = config(await loadConfigFile(file, {}));
    expect(result.defaultTimeoutMs).toBe(120_000);
    expect(result.servers).toEqual([
      expect.objectContaining({
        name: 'echo',
        transport: 'stdio',
        args: ['echo.js'],
        env: { TOKEN: 'none' },
      }),
      expect.objectContaining({
        name: 'remote',
        transport: 'http',
        url: 'http://127.0.0.1:9999/mcp',
        headers: {},
      }),
    ]);
  });

  it('reads a file whose top level is mcpServers', async () => {
    const file = fixture('mcp-servers.yaml');
    const result = config(await loadConfigFile(file, {}));
    expect(result.servers).toEqual([
      {
        name: 'memory',
        transport: 'stdio',
        command: 'npx',
        args: ['-y', '@modelcontextprotocol/server-memory'],
        env: {},
        cwd: fixtures.replace(/\/$/, ''),
        enabled: true,
        source: { kind: 'config', file },
      },
    ]);
  });

  it('accepts sections left empty, x- keys for anchors, and aliases', () => {
    const text = lines(
      'x-env: &env { LOG: debug }',
      'http:',
      'tools:',
      'servers:',
      '  a: &a { command: node, env: *env, args: }',
      '  b: *a',
    );
    const result = config(parse(text));
    expect(result.servers.map((s) => [s.name, s.transport === 'stdio' && s.env])).toEqual([
      ['a', { LOG: 'debug' }],
      ['b', { LOG: 'debug' }],
    ]);
    expect(config(parse('servers:\n')).servers).toEqual([]);
  });

  it('keeps "$$" as a literal "$" and leaves other "$" alone', () => {
    const text = lines(
      'servers:',
      '  a:',
      '    command: echo',
      '    args: ["$$HOME", "$${X}", "5$", "$HOME"]',
    );
    expect(config(parse(text)).servers[0]).toMatchObject({ args: ['$HOME', '${X}', '5$', '$HOME'] });
  });
});

describe('an invalid config', () => {
  it('says what startup_grace and retry_on_crash take', () => {
    const text = lines(
      'startup_grace: soon',
      'servers:',
      '  a: { command: x, retry_on_crash: maybe }',
      '  b: { command: x, retry_on_crash: { read: "yes" } }',
    );
    expect(errors(parse(text))).toEqual([
      'gateway.yaml:1:16: startup_grace: expected a duration like "10s", "500ms" or a number of milliseconds',
      'gateway.yaml:3:36: servers.a.retry_on_crash: expected true, false, or a mapping of tool names to true or false',
      'gateway.yaml:4:44: servers.b.retry_on_crash.read: expected true or false',
    ]);
    expect(config(parse('startup_grace: 0\n')).startupGraceMs).toBe(0);
  });

  it('points at an unknown key and suggests the known one', async () => {
    const file = fixture('unknown-key.yaml');
    expect(errors(await loadConfigFile(file, {}))).toEqual([
      `${file}:3:5: servers.weather: unknown key "comand" (did you mean "command"?)`,
      `${file}:3:5: servers.weather: needs "command" (a stdio server) or "url" (a Streamable HTTP server)`,
    ]);
  });

  it('reports every problem in the file at once, in file order', async () => {
    const file = fixture('many-errors.yaml');
    const result = await loadConfigFile(file, {});
    expect(errors(result)).toEqual([
      `${file}:1:10: timeout: expected a duration like "10s", "500ms" or a number of milliseconds`,
      `${file}:2:16: tools.meta: expected true or false`,
      `${file}:4:9: http.port: expected a port number from 0 to 65535`,
      `${file}:7:5: servers.db: needs "command" (a stdio server) or "url" (a Streamable HTTP server)`,
      `${file}:8:14: servers.db.timeout: expected a duration like "10s", "500ms" or a number of milliseconds`,
      `${file}:11:5: servers.both: has both "command" and "url"; a server is either stdio (command) or Streamable HTTP (url)`,
      `${file}:12:3: servers: server name "bad__name" must not contain "__"; it separates server from tool in "<server>__<tool>"`,
      `${file}:13:10: servers.bad__name.url: expected an http:// or https:// URL`,
      `${file}:16:5: servers.remote: "args" applies only to stdio servers (with "command")`,
    ]);
    expect(result.ok || result.errors[0]).toEqual({
      file,
      line: 1,
      column: 10,
      path: 'timeout',
      message: 'timeout: expected a duration like "10s", "500ms" or a number of milliseconds',
    });
  });

  it.each([
    [
      'an unknown top-level key',
      lines('timeout: 5s', 'sevrers: {}'),
      ['gateway.yaml:2:1: unknown key "sevrers" (did you mean "servers"?)'],
    ],
    [
      'an unknown key with nothing like it',
      lines('servers:', '  a:', '    command: x', '    restart: always'),
      ['gateway.yaml:4:5: servers.a: unknown key "restart"'],
    ],
    [
      'a wrong type',
      lines('servers:', '  a:', '    command: [node]', '    enabled: sometimes', '    env: [A=1]'),
      [
        'gateway.yaml:3:14: servers.a.command: expected a string',
        'gateway.yaml:4:14: servers.a.enabled: expected true or false',
        'gateway.yaml:5:10: servers.a.env: expected a mapping of names to strings',
      ],
    ],
    [
      'a list item of the wrong type',
      lines('servers:', '  a:', '    command: x', '    args:', '      - ok', '      - { a: 1 }'),
      ['gateway.yaml:6:9: servers.a.args[1]: expected a string'],
    ],
    [
      'a server without command or url',
      lines('servers:', '  db:', '    description: no transport'),
      ['gateway.yaml:3:5: servers.db: needs "command" (a stdio server) or "url" (a Streamable HTTP server)'],
    ],
    [
      'a server that is not a mapping',
      lines('servers:', '  db:', '  other: node server.js'),
      [
        'gateway.yaml:2:3: servers.db: expected a mapping with "command" (a stdio server) or "url" (a Streamable HTTP server)',
        'gateway.yaml:3:10: servers.other: expected a mapping with "command" (a stdio server) or "url" (a Streamable HTTP server)',
      ],
    ],
    [
      'a server with both command and url',
      lines('servers:', '  db:', '    command: node', '    url: http://localhost:1/mcp'),
      [
        'gateway.yaml:4:5: servers.db: has both "command" and "url"; a server is either stdio (command) or Streamable HTTP (url)',
      ],
    ],
    [
      'a type that contradicts the transport',
      lines(
        'servers:',
        '  a:',
        '    type: http',
        '    command: node',
        '  b:',
        '    type: websocket',
        '    url: http://h/mcp',
        '  c:',
        '    type: sse',
        '    command: node',
      ),
      [
        'gateway.yaml:3:11: servers.a.type: "http" needs "url", not "command"',
        'gateway.yaml:6:11: servers.b.type: expected one of "stdio", "http", "streamable-http", "sse"',
        'gateway.yaml:9:11: servers.c.type: "sse" needs "url", not "command"',
      ],
    ],
    [
      'keys of the other transport',
      lines(
        'servers:',
        '  a:',
        '    command: node',
        '    headers: {}',
        '  b:',
        '    url: http://h/mcp',
        '    cwd: /tmp',
      ),
      [
        'gateway.yaml:4:5: servers.a: "headers" applies only to HTTP servers (with "url")',
        'gateway.yaml:7:5: servers.b: "cwd" applies only to stdio servers (with "command")',
      ],
    ],
    [
      'bad durations',
      lines(
        'timeout: 0',
        'servers:',
        '  db:',
        '    command: node',
        '    timeout: 10 seconds',
        '  x:',
        '    command: node',
        '    timeout: 800h',
      ),
      [
        'gateway.yaml:1:10: timeout: a timeout must be more than 0',
        'gateway.yaml:5:14: servers.db.timeout: expected a duration like "10s", "500ms" or a number of milliseconds',
        'gateway.yaml:8:14: servers.x.timeout: durations above 24 days are not supported',
      ],
    ],
    [
      'args that do not split',
      lines('servers:', '  a:', '    command: node', `    args: server.js --name "unterminated`),
      [
        'gateway.yaml:4:11: servers.a.args: cannot split into arguments: unterminated double quote at character 18',
      ],
    ],
    [
      'a reserved or malformed server name',
      lines('servers:', '  pipeline: { command: x }', '  "my server": { command: x }'),
      [
        'gateway.yaml:2:3: servers: server name "pipeline" is reserved; pipelines are served as "pipeline__<name>"',
        'gateway.yaml:3:3: servers: server name "my server" must start with a letter or digit and contain only letters, digits, "_" and "-"',
      ],
    ],
    [
      'servers and mcpServers together',
      lines('servers: {}', 'mcpServers: {}'),
      ['gateway.yaml:2:1: use "servers" or "mcpServers", not both'],
    ],
    [
      'a top level that is not a mapping',
      lines('- servers'),
      ['gateway.yaml:1:1: expected a mapping of gateway settings'],
    ],
    [
      'a __proto__ key',
      lines('__proto__: { polluted: true }', 'servers:', '  __proto__: { command: x }'),
      [
        'gateway.yaml:1:1: unknown key "__proto__"',
        'gateway.yaml:3:3: servers: server name "__proto__" must start with a letter or digit and contain only letters, digits, "_" and "-"',
      ],
    ],
  ])('%s', (_name, text, expected) => {
    expect(errors(parse(text))).toEqual(expected);
  });

  it('refuses a duplicate key, pointing at the second one', () => {
    expect(
      errors(parse(lines('servers:', '  a:', '    command: x', '    args: []', '    command: y'))),
    ).toEqual(['gateway.yaml:5:5: duplicate key "command"']);
  });

  it('reports a YAML syntax error with its position', () => {
    expect(errors(parse(lines('servers:', '  a: { command: x', '  b: 1')))).toEqual([
      'gateway.yaml:3:3: Flow map in block collection must be sufficiently indented and end with a }',
    ]);
    expect(errors(parse(lines('servers:', '\ta: {}')))).toEqual([
      'gateway.yaml:2:1: Tabs are not allowed as indentation',
    ]);
    expect(errors(parse(lines('servers: {}', '---', 'servers: {}')))).toEqual([
      'gateway.yaml:2:1: a config file holds one YAML document; remove the second "---"',
    ]);
  });

  it('reports a JSON syntax error with its position', () => {
    const result = parseConfigText(
      '{\n  "servers": {\n    "a": { "command": "x" }\n  \n',
      'gateway.json',
      {},
    );
    expect(errors(result)).toEqual([
      'gateway.json:5:1: Flow map in block collection must be sufficiently indented and end with a }',
      'gateway.json:5:1: Flow map must end with a }',
    ]);
  });

  it('refuses an alias bomb', async () => {
    const file = fixture('alias-bomb.yaml');
    expect(errors(await loadConfigFile(file, {}))).toEqual([
      `${file}:2:8: aliases expand to more than 100 nodes; refusing what looks like an alias bomb`,
    ]);
  });

  it('names a missing variable and where it is used, without any value', async () => {
    const file = fixture('missing-var.yaml');
    const result = await loadConfigFile(file, { PUBLIC_VALUE: 'public-value', SECRET_TOKEN: 'hunter2' });
    expect(errors(result)).toEqual([
      `${file}:6:22: servers.remote.headers.Authorization: environment variable MISSING_TOKEN is not set (write \${MISSING_TOKEN:-default} to give a default)`,
    ]);
    expect(JSON.stringify(result)).not.toMatch(/hunter2|public-value/);
  });

  it('reports a missing variable once, and not again as a bad value', () => {
    const text = lines('timeout: ${TIMEOUT}', 'http:', '  port: ${PORT}', '  host: "${HOST:-localhost}"');
    expect(errors(parse(text))).toEqual([
      'gateway.yaml:1:10: timeout: environment variable TIMEOUT is not set (write ${TIMEOUT:-default} to give a default)',
      'gateway.yaml:3:9: http.port: environment variable PORT is not set (write ${PORT:-default} to give a default)',
    ]);
  });

  it('never puts an expanded value in a message', () => {
    const env = {
      TOKEN: 'tok-secret-1',
      PORT: 'port-secret-2',
      TIMEOUT: 'time-secret-3',
      URL: 'ftp://url-secret-4',
    };
    const text = lines(
      'timeout: ${TIMEOUT}',
      'http: { port: "${PORT}" }',
      'servers:',
      '  a: { url: "${URL}", headers: { X: "${TOKEN}" }, args: "${TOKEN} \'" }',
      '  b: { command: "${TOKEN}", type: "${TOKEN}" }',
    );
    const result = parse(text, env);
    expect(errors(result)).toHaveLength(6);
    expect(JSON.stringify(result)).not.toMatch(/secret/);
  });

  it('refuses a file over 1 MiB, and a missing file, as whole-file issues', async () => {
    const big = `# ${'x'.repeat(1024 * 1024)}\n`;
    expect(errors(parse(big))).toEqual([
      'gateway.yaml: the file is 1048579 bytes; config files are limited to 1048576 bytes (1 MiB)',
    ]);
    const missing = join(fixtures, 'no-such.yaml');
    expect(errors(await loadConfigFile(missing, {}))).toEqual([`${missing}: no such file`]);
    expect(errors(await loadConfigFile(fixtures, {}))).toEqual([`${fixtures}: not a file`]);
  });

  describe('on disk', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'gw-config-'));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('refuses a large file before reading it', async () => {
      const file = join(dir, 'big.yaml');
      await writeFile(file, Buffer.alloc(1024 * 1024 + 1, 0x20));
      expect(errors(await loadConfigFile(file, {}))).toEqual([
        `${file}: the file is 1048577 bytes; config files are limited to 1048576 bytes (1 MiB)`,
      ]);
    });
  });
});

describe('configError', () => {
  it('carries every issue, one per line', () => {
    const result = parse(lines('timeout: soon', 'servers:', '  a: {}'));
    if (result.ok) throw new Error('expected errors');
    const err = configError(result.errors);
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toBe(
      [
        'gateway.yaml:1:10: timeout: expected a duration like "10s", "500ms" or a number of milliseconds',
        'gateway.yaml:3:6: servers.a: needs "command" (a stdio server) or "url" (a Streamable HTTP server)',
      ].join('\n'),
    );
    expect(err.data.issues).toEqual(result.errors);
  });
});

describe('limits', () => {
  it('reads max_message_size as bytes or a size string, default 4MiB', () => {
    expect(config(parse('servers: {}\n')).limits.maxMessageBytes).toBe(4 * 1024 * 1024);
    expect(config(parse('limits:\n  max_message_size: 512KiB\n')).limits.maxMessageBytes).toBe(512 * 1024);
    expect(config(parse('limits:\n  max_message_size: 10000000\n')).limits.maxMessageBytes).toBe(10_000_000);
  });

  it('refuses what is not a size, and a limit under 1KiB', () => {
    expect(errors(parse('limits:\n  max_message_size: lots\n'))).toEqual([
      'gateway.yaml:2:21: limits.max_message_size: expected a size like "4MiB", "512KiB" or a number of bytes',
    ]);
    expect(errors(parse('limits:\n  max_message_size: 100\n'))).toEqual([
      'gateway.yaml:2:21: limits.max_message_size: a message size limit must be at least 1KiB',
    ]);
    expect(errors(parse('limits:\n  max_size: 1MiB\n'))).toHaveLength(1);
  });
});

describe('cluster and rate_limits', () => {
  it('takes the Redis URL and replica id from the environment when the file sets none', () => {
    const result = config(
      parse('# empty\n', { MCP_GATEWAY_REDIS_URL: 'redis://r:6379', MCP_GATEWAY_REPLICA_ID: 'pod-7' }),
    );
    expect(result.cluster).toEqual({ redis: 'redis://r:6379', replicaId: 'pod-7', keyPrefix: 'mcpgw' });
  });

  it('refuses a window that is not whole seconds and a bad Redis URL, with file positions', () => {
    const result = parse(
      lines('cluster:', '  redis: localhost:6379', 'rate_limits:', '  per_caller: { calls: 5, per: 1500ms }'),
    );
    const text = errors(result).join('\n');
    expect(text).toMatch(/gateway\.yaml:2:\d+: .*redis:\/\//);
    expect(text).toMatch(/gateway\.yaml:4:\d+: .*whole seconds/);
  });
});
