// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} labels are what the redactor shows
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/index.js';
import { createLogger } from '../../src/log.js';
import { addSecretValue, MIN_SECRET_LENGTH, SecretRedactor, secrets } from '../../src/secrets.js';
import { expectNoPollution, runs } from './fuzz-helpers.js';

const secretArb = fc.string({ unit: 'binary', minLength: MIN_SECRET_LENGTH, maxLength: 24 });

describe('fuzz: SecretRedactor', () => {
  it('no registered value survives redaction, wherever it sits in the text', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(secretArb, { minLength: 1, maxLength: 4 }),
        fc.array(fc.string({ unit: 'binary', maxLength: 10 }), { maxLength: 5 }),
        (values, fillers) => {
          const r = new SecretRedactor();
          values.forEach((v, i) => {
            r.add(v, `<secret ${i}>`);
          });
          const text = fillers.map((f, i) => f + values[i % values.length]).join('') + values.join('|');
          const shown = r.redact(text);
          // A label may contain text that happens to look like a value only if the value is part of it.
          for (const v of values) if (!v.includes('<secret')) expect(shown.includes(v)).toBe(false);
        },
      ),
      { numRuns: runs(500) },
    );
  });

  it('replaces a longer value whole when it contains a shorter one', () => {
    const r = new SecretRedactor();
    r.add('abcdefgh', '<short>');
    r.add('xxabcdefghyy', '<long>');
    expect(r.redact('a xxabcdefghyy b abcdefgh')).toBe('a <long> b <short>');
  });

  it('ignores short values, and keeps what it cannot walk', () => {
    const r = new SecretRedactor();
    r.add('9000', '<port>');
    r.add('', '<empty>');
    expect(r.size).toBe(0);
    expect(r.redact('port 9000')).toBe('port 9000');
  });

  it('redacts deep data, keys included, keeping __proto__ an own key and polluting nothing', () => {
    const r = new SecretRedactor();
    r.add('s3cr3t-value', '${TOKEN}');
    const data = JSON.parse(
      '{"__proto__":{"x":"s3cr3t-value"},"list":["a s3cr3t-value b"],"s3cr3t-value":1}',
    );
    const out = r.redactDeep(data) as Record<string, unknown>;
    expect(JSON.stringify(out)).toBe('{"__proto__":{"x":"${TOKEN}"},"list":["a ${TOKEN} b"],"${TOKEN}":1}');
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expectNoPollution();
  });

  it('Bearer values are registered whole and by their credential', () => {
    addSecretValue('Bearer tok-0123456789abcdef', '<header Authorization>');
    expect(secrets.redact('got tok-0123456789abcdef')).toBe('got <header Authorization>');
    expect(secrets.redact('Authorization: Bearer tok-0123456789abcdef')).toBe(
      'Authorization: <header Authorization>',
    );
  });
});

describe('config loading registers what must not be shown, and logs apply it', () => {
  it('expanded values, env and header values, URL credentials and the token', () => {
    const env = { API_KEY: 'expanded-api-key-1a2b3c', PORT: '9000' };
    const result = parseConfigText(
      [
        'http: { token: literal-http-token-77aa }',
        'servers:',
        '  a: { command: node, args: ["--key=${API_KEY}", "--port", "${PORT}"], env: { PASSWORD: literal-env-pw-55 } }',
        '  b: { url: "https://bob:url-pass%2Fword-99@example.com/mcp", headers: { X-Key: literal-header-k-44 } }',
      ].join('\n'),
      'gateway.yaml',
      env,
    );
    expect(result.ok).toBe(true);
    const lines: string[] = [];
    const log = createLogger('t', 'debug', (line) => lines.push(line));
    log.info(
      'args --key=expanded-api-key-1a2b3c --port 9000; literal-http-token-77aa literal-env-pw-55 literal-header-k-44 url-pass/word-99',
    );
    log.info(`basic ${Buffer.from('bob:url-pass/word-99').toString('base64')}`);
    expect(lines[0]).toBe(
      '[mcp-gateway] info t: args --key=${API_KEY} --port 9000; <http token> <env PASSWORD> <header X-Key> <url password>\n',
    );
    expect(lines[1]).toBe('[mcp-gateway] info t: basic <url credentials>\n');
  });
});
