// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} is the config's expansion syntax
/**
 * Hostile gateway.yaml and tool arguments: the config loader never throws and places every error; YAML
 * bombs, deep nesting and huge files are refused fast; pollution keys stay data; expanded secrets
 * never appear in an error; `args` strings split like a shell and `params` strings parse, or say why.
 */
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ConfigResult,
  formatIssue,
  loadConfigFile,
  MAX_CONFIG_BYTES,
  parseConfigText,
  serverConfigFromInput,
  splitShellArgs,
} from '../../src/config/index.js';
import { GatewayError } from '../../src/errors.js';
import { readParams } from '../../src/front/tool-args.js';
import { tempDir } from '../helpers/gateway.js';
import {
  expectNoPollution,
  hostileJsonArb,
  keyArb,
  mutate,
  mutationArb,
  POLLUTING_KEYS,
  runs,
  timed,
} from './fuzz-helpers.js';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/config');
const BASES = [
  'full.yaml',
  'full.json',
  'mcp-servers.yaml',
  'claude_desktop_config.json',
  'many-errors.yaml',
].map((f) => readFileSync(path.join(FIXTURES, f), 'utf8'));
const ENV = { GATEWAY_PORT: '9001', MCP_GATEWAY_TOKEN: 't', NWS_API_BASE: 'http://x', REMOTE_TOKEN: 'r' };
const MAX_MS = 1_000;

function parseTimed(text: string, env: Record<string, string> = ENV): ConfigResult {
  const { value, ms } = timed(() => parseConfigText(text, 'gateway.yaml', env));
  expect(ms, `parsing took ${ms.toFixed(0)} ms`).toBeLessThan(MAX_MS);
  expect(typeof value.ok).toBe('boolean');
  if (!value.ok) expect(value.errors.length).toBeGreaterThan(0);
  for (const issue of [...(value.ok ? [] : value.errors), ...value.warnings]) {
    // Line 0 is reserved for a problem with the whole file (too large, unreadable).
    const wholeFile = issue.line === 0 && issue.column === 0;
    if (wholeFile) expect(issue.message).toMatch(/bytes|file/);
    else {
      expect(Number.isInteger(issue.line) && issue.line >= 1, JSON.stringify(issue)).toBe(true);
      expect(Number.isInteger(issue.column) && issue.column >= 1, JSON.stringify(issue)).toBe(true);
    }
    expect(issue.file).toBe('gateway.yaml');
    expect(issue.message.length).toBeGreaterThan(0);
    expect(formatIssue(issue).startsWith('gateway.yaml')).toBe(true);
  }
  return value;
}

describe('fuzz: config loader on arbitrary and mutated text', () => {
  it('never throws on arbitrary text, and every error has a position', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => {
        parseTimed(text);
      }),
      { numRuns: runs(400) },
    );
    expectNoPollution();
  });

  it('never throws on mutations of real config files (YAML, JSON, Claude Desktop)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...BASES),
        fc.array(mutationArb, { minLength: 1, maxLength: 6 }),
        (base, m) => {
          parseTimed(mutate(base, m));
        },
      ),
      { numRuns: runs(400) },
    );
    expectNoPollution();
  });

  it('never throws on arbitrary documents with hostile keys; servers come out as plain data', () => {
    const serverArb = fc.record(
      {
        command: fc.oneof(fc.constant('node'), hostileJsonArb),
        url: fc.constantFrom('http://127.0.0.1:1/mcp', 'ftp://x', 'http://u:p@h/?q=1'),
        args: fc.oneof(fc.string({ maxLength: 30 }), fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 })),
        env: fc.dictionary(keyArb, fc.oneof(fc.string({ maxLength: 8 }), hostileJsonArb), { maxKeys: 3 }),
        headers: fc.dictionary(keyArb, fc.string({ maxLength: 8 }), { maxKeys: 3 }),
        timeout: fc.oneof(fc.constantFrom('1s', '0', '-1s', '1e999', 1e308, 'abc'), hostileJsonArb),
        type: fc.constantFrom('stdio', 'http', 'streamable-http', '__proto__'),
      },
      { requiredKeys: [] },
    );
    const docArb = fc.record(
      {
        servers: fc.dictionary(keyArb, fc.oneof(serverArb, hostileJsonArb), { maxKeys: 4 }),
        http: fc.oneof(
          hostileJsonArb,
          fc.record({ host: fc.string(), port: fc.integer(), allowed_hosts: fc.array(fc.string()) }),
        ),
        tools: hostileJsonArb,
        timeout: hostileJsonArb,
        __proto__: hostileJsonArb,
        constructor: hostileJsonArb,
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(docArb, (doc) => {
        const result = parseTimed(JSON.stringify(doc));
        if (!result.ok) return;
        for (const server of result.config.servers) {
          expect(Object.getPrototypeOf(server)).toBe(Object.prototype);
          const map = server.transport === 'stdio' ? server.env : server.headers;
          for (const value of Object.values(map)) expect(typeof value).toBe('string');
        }
      }),
      { numRuns: runs(300) },
    );
    expectNoPollution();
  });
});

describe('fuzz: YAML bombs, deep nesting and huge config files give a clear error fast', () => {
  function laughs(levels: number): string {
    const lines = ['l0: &l0 [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < levels; i++)
      lines.push(`l${i}: &l${i} [${Array.from({ length: 9 }, () => `*l${i - 1}`).join(', ')}]`);
    return `${lines.join('\n')}\nservers: {}\n`;
  }

  const cases: [string, string, RegExp][] = [
    ['the alias-bomb fixture', readFileSync(path.join(FIXTURES, 'alias-bomb.yaml'), 'utf8'), /alias bomb/],
    ['billion laughs (10 levels)', laughs(10), /alias bomb/],
    ['an alias bomb inside a server env', `${laughs(6)}x: { env: *l5 }`, /alias bomb/],
    [
      '10k nested flow sequences',
      `servers: ${'['.repeat(10_000)}${']'.repeat(10_000)}`,
      /nesting is too deep/,
    ],
    ['10k nested JSON objects', `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`, /nesting is too deep/],
    ['10k compact block sequences', `servers:\n  ${'- '.repeat(10_000)}x`, /nesting is too deep/],
    [
      '1,400 indented block mappings',
      Array.from({ length: 1_400 }, (_, i) => `${' '.repeat(i)}a:`).join('\n'),
      /nesting is too deep/,
    ],
    ['a megabyte of open brackets', '['.repeat(MAX_CONFIG_BYTES - 1), /nesting is too deep/],
    ['text over the size limit', `servers: {}\n# ${'x'.repeat(MAX_CONFIG_BYTES)}`, /limited to/],
  ];

  it.each(cases)('%s', (_label, text, message) => {
    for (let i = 0; i < 2; i++) {
      const result = parseTimed(text);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.errors.map(formatIssue).join('\n')).toMatch(message);
    }
  });

  it('a file over the size limit is refused without being read', async () => {
    // A sparse 3 GiB file: past what readFile can hold (2 GiB), so had the loader read it the error
    // would be ERR_FS_FILE_TOO_LARGE, not the size check naming the file's exact size.
    const file = path.join(tempDir(), 'gateway.yaml');
    writeFileSync(file, 'servers: {}\n');
    const size = 3 * 1024 ** 3;
    truncateSync(file, size);
    const result = await loadConfigFile(file, {});
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(formatIssue(result.errors[0]!)).toMatch(
        new RegExp(`gateway\\.yaml: the file is ${size} bytes; .*limited to ${MAX_CONFIG_BYTES} bytes`),
      );
  });
});

describe('fuzz: prototype-pollution keys in the config stay data', () => {
  it('__proto__, constructor and prototype as keys pollute nothing and are kept or refused', () => {
    const yaml = `
__proto__: { polluted: yes }
servers:
  constructor:
    command: node
    env: { __proto__: a, constructor: b, prototype: c }
  prototype:
    url: http://127.0.0.1:1/mcp
    headers: { __proto__: h }
  __proto__:
    command: node
`;
    const result = parseTimed(yaml);
    expectNoPollution();
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const messages = result.errors.map(formatIssue).join('\n');
    // Unknown root key and a server name with "__" in it: refused, each with its line.
    expect(messages).toMatch(/gateway\.yaml:2:1: unknown key "__proto__"/);
    expect(messages).toMatch(/gateway\.yaml:10:3: servers: server name "__proto__" must start with a letter/);
    const fixed = parseTimed(
      yaml.replace('__proto__: { polluted: yes }\n', '').replace(/ {2}__proto__:\n {4}command: node\n/, ''),
    );
    expect(fixed.ok, JSON.stringify(fixed)).toBe(true);
    if (!fixed.ok) return;
    const [ctor, proto] = fixed.config.servers;
    expect(ctor?.name).toBe('constructor');
    expect(proto?.name).toBe('prototype');
    if (ctor?.transport !== 'stdio' || proto?.transport !== 'http') throw new Error('unexpected transports');
    // Kept as plain data: an environment variable may be called anything.
    expect(Object.entries(ctor.env)).toEqual([
      ['__proto__', 'a'],
      ['constructor', 'b'],
      ['prototype', 'c'],
    ]);
    expect(Object.entries(proto.headers)).toEqual([['__proto__', 'h']]);
    expectNoPollution();
  });
});

describe('fuzz: expanded secrets never appear in config errors', () => {
  const SECRET = 'Zq9-s3cr3t-VALUE-77x';
  const PLACES = [
    'timeout: "${SECRET}"',
    'timeout: "1${SECRET}"',
    'tools: { meta: "${SECRET}" }',
    'http: { port: "${SECRET}" }',
    'http: { allow_commands: "${SECRET}" }',
    'http: { allowed_hosts: ["${SECRET}", 3] }',
    'servers: "${SECRET}"',
    'servers: { a: "${SECRET}" }',
    'servers: { a: { command: x, timeout: "${SECRET}" } }',
    'servers: { a: { command: x, type: "${SECRET}" } }',
    'servers: { a: { url: "${SECRET}" } }',
    'servers: { a: { url: "http://${SECRET}:${SECRET}@h/?t=${SECRET}", env: { B: "${SECRET}" } } }',
    'servers: { a: { command: x, args: "${SECRET} \'unterminated" } }',
    'servers: { a: { command: x, args: "${SECRET}\\\\" } }',
    'servers: { a: { command: x, enabled: "${SECRET}" } }',
    'servers: { a: { command: x, env: "${SECRET}" } }',
    'servers: { a: { command: x, env: { K: ["${SECRET}"] } } }',
    'servers: { a: { command: x, env: { K: "${SECRET}" }, headers: { H: "${SECRET}" } } }',
    'servers: { a: { command: "${SECRET}", url: "${SECRET}" } }',
    'servers: { a: { command: x, description: ["${SECRET}"] } }',
    'servers: { a: { command: x, unknown: "${SECRET}" } }',
    'servers: { a: { command: x, args: ["${SECRET}", { a: 1 }] } }',
    'servers: { "${SECRET}": { command: x } }',
    'servers: { a: { command: x, cwd: "${SECRET}", args: "${MISSING}" } }',
  ];

  it('for any combination of misplaced secret-bearing values', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.constantFrom(...PLACES), { minLength: 1, maxLength: 4 }), (places) => {
        // One document per place (they would clash as duplicate keys), each checked.
        for (const place of places) {
          const result = parseTimed(place, { SECRET });
          const shown = [...(result.ok ? [] : result.errors), ...result.warnings].map(formatIssue).join('\n');
          expect(shown).not.toContain(SECRET);
          expect(shown).not.toContain(SECRET.slice(0, 10));
        }
      }),
      { numRuns: runs(60) },
    );
  });
});

describe('fuzz: tool arguments', () => {
  /** Quote one argument so a POSIX shell reads it back unchanged. */
  const shellQuote = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`;

  it('args strings: split never throws anything but SyntaxError, and quoting round-trips', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (text) => {
        try {
          const args = splitShellArgs(text);
          for (const a of args) expect(typeof a).toBe('string');
        } catch (err) {
          expect(err).toBeInstanceOf(SyntaxError);
          // Never the text itself: it may hold an expanded secret.
          expect((err as Error).message).toMatch(
            /^(unterminated (single|double) quote|trailing backslash) at character \d+$/,
          );
        }
      }),
      { numRuns: runs(500) },
    );
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary', maxLength: 12 }), { maxLength: 6 }), (args) => {
        expect(splitShellArgs(args.map(shellQuote).join(' '))).toEqual(args);
      }),
      { numRuns: runs(300) },
    );
  });

  it('params strings: an object comes back as own data, anything else is PARAMS_INVALID', () => {
    const paramsArb = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 60 }),
      hostileJsonArb.map((v) => JSON.stringify(v) ?? ''),
      fc.constantFrom(
        '{"__proto__":{"polluted":1}}',
        '{"constructor":{"prototype":{"polluted":1}}}',
        '[{"__proto__":{"polluted":1}}]',
        `${'['.repeat(10_000)}${']'.repeat(10_000)}`,
        `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`,
        '{"a":1',
        'null',
        '"str"',
        '1e999',
      ),
    );
    fc.assert(
      fc.property(paramsArb, (text) => {
        try {
          const params = readParams(text, 'call_backend');
          expect(Object.getPrototypeOf(params)).toBe(Object.prototype);
          if (text.length < 1_000 && text.trim().startsWith('{')) expect(params).toEqual(JSON.parse(text));
        } catch (err) {
          expect(err).toBeInstanceOf(GatewayError);
          expect((err as GatewayError).code).toBe('PARAMS_INVALID');
          expect((err as GatewayError).message).toMatch(/^call_backend: 'params' /);
        }
      }),
      { numRuns: runs(400) },
    );
    const own = readParams('{"__proto__":{"polluted":1}}', 'call_backend');
    expect(Object.hasOwn(own, '__proto__')).toBe(true);
    expectNoPollution();
  });

  it('register_server input: a ServerConfig or PARAMS_INVALID naming no env or header value', () => {
    const SECRET = 'Hk7-register-secret-Qp2';
    const inputArb = fc.record(
      {
        name: fc.oneof(
          fc.constantFrom('ok', 'a__b', 'pipeline', '__proto__', 'constructor', 'а'),
          hostileJsonArb,
        ),
        command: fc.oneof(fc.constant('node'), hostileJsonArb),
        url: fc.constantFrom('http://127.0.0.1:1/mcp', `http://h/?k=${SECRET}`, 'nope'),
        args: fc.oneof(fc.string({ maxLength: 20 }), fc.constant(`"${SECRET}`), hostileJsonArb),
        env: fc.oneof(
          fc.dictionary(keyArb, fc.constant(SECRET), { maxKeys: 3 }),
          fc.constant({ K: [SECRET] }),
          hostileJsonArb,
        ),
        headers: fc.oneof(fc.dictionary(keyArb, fc.constant(SECRET), { maxKeys: 3 }), hostileJsonArb),
        cwd: fc.oneof(fc.string({ maxLength: 8 }), hostileJsonArb),
        timeout: fc.oneof(fc.constantFrom('1s', SECRET, -1), hostileJsonArb),
        description: hostileJsonArb,
        [POLLUTING_KEYS[0]]: hostileJsonArb,
      },
      { requiredKeys: ['name'] },
    );
    fc.assert(
      fc.property(inputArb, (input) => {
        try {
          const config = serverConfigFromInput(input as never, { kind: 'runtime' }, '/tmp');
          expect(typeof config.name).toBe('string');
        } catch (err) {
          expect(err).toBeInstanceOf(GatewayError);
          expect((err as GatewayError).code).toBe('PARAMS_INVALID');
          const shown = `${(err as GatewayError).message} ${JSON.stringify((err as GatewayError).data)}`;
          expect(shown).not.toContain(SECRET);
        }
      }),
      { numRuns: runs(400) },
    );
    expectNoPollution();
  });
});
