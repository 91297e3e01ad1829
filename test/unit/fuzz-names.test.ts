/**
 * Server and tool names, property-based: an accepted server name is plain ASCII that cannot shadow,
 * the schema's pattern agrees with the code on any string, and `<server>__<tool>` names one tool only.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gatewaySchema } from '../../src/config/index.js';
import { RESERVED_SERVER_NAMES, SERVER_NAME_PATTERN, validateServerName } from '../../src/config/names.js';
import { backendToolName, MAX_TOOL_NAME, unsafeToolName } from '../../src/front/naming.js';
import { runs } from './fuzz-helpers.js';

/** Mostly name-like strings, with look-alikes, invisible characters and separators mixed in. */
const nameArb = fc.oneof(
  fc.string({ unit: fc.constantFrom(...'abcAB019_-'.split('')), maxLength: 60 }),
  fc.string({
    unit: fc.constantFrom(
      'a',
      '_',
      '-',
      '.',
      ' ',
      'а',
      'е',
      'ｐ',
      '\u200b',
      '\u200d',
      '\u202e',
      '\u0000',
      'é',
      '/',
    ),
    maxLength: 12,
  }),
  fc.constantFrom(...RESERVED_SERVER_NAMES, 'Pipeline', 'LIST_SERVERS', 'pipelines', 'my-pipeline'),
  fc.string({ unit: 'binary', maxLength: 20 }),
);

describe('fuzz: server names', () => {
  it('an accepted name is ASCII letters, digits, _ and -, no "__", no trailing "_", not reserved', () => {
    fc.assert(
      fc.property(nameArb, (name) => {
        if (validateServerName(name) !== undefined) return;
        expect(name).toMatch(/^[A-Za-z0-9][A-Za-z0-9_-]{0,47}$/);
        expect(name).not.toContain('__');
        expect(name.endsWith('_')).toBe(false);
        expect(RESERVED_SERVER_NAMES).not.toContain(name.toLowerCase());
      }),
      { numRuns: runs(2_000) },
    );
  });

  it('every refusal is a message naming the rule, never longer than a line', () => {
    fc.assert(
      fc.property(nameArb, (name) => {
        const problem = validateServerName(name);
        if (problem === undefined) return;
        expect(problem.length).toBeLessThan(200);
        expect(problem).not.toContain('\n');
      }),
      { numRuns: runs(1_000) },
    );
  });

  it("the schema's pattern (what editors check) agrees with the code on any string", () => {
    const servers = (gatewaySchema().definitions as Record<string, { propertyNames: { pattern: string } }>)
      .servers!;
    expect(servers.propertyNames.pattern).toBe(SERVER_NAME_PATTERN);
    const re = new RegExp(SERVER_NAME_PATTERN, 'u');
    fc.assert(
      fc.property(nameArb, (name) => {
        expect(re.test(name), JSON.stringify(name)).toBe(validateServerName(name) === undefined);
      }),
      { numRuns: runs(2_000) },
    );
  });
});

describe('fuzz: served tool names', () => {
  const validServer = nameArb.filter((n) => validateServerName(n) === undefined);
  const toolArb = fc.oneof(
    fc.string({ unit: fc.constantFrom(...'ab_.-'.split('')), minLength: 1, maxLength: 20 }),
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.string({ minLength: 100, maxLength: 140 }),
  );

  it('a served name is safe: [A-Za-z0-9_.-], at most 128 characters', () => {
    fc.assert(
      fc.property(validServer, toolArb, (server, tool) => {
        if (unsafeToolName(server, tool) !== undefined) return;
        const served = backendToolName(server, tool);
        expect(served).toMatch(/^[A-Za-z0-9_.-]+$/);
        expect(served.length).toBeLessThanOrEqual(MAX_TOOL_NAME);
      }),
      { numRuns: runs(1_000) },
    );
  });

  it('two different (server, tool) pairs are never served under the same name', () => {
    fc.assert(
      fc.property(validServer, toolArb, validServer, toolArb, (s1, t1, s2, t2) => {
        if (s1 === s2 && t1 === t2) return;
        expect(backendToolName(s1, t1)).not.toBe(backendToolName(s2, t2));
      }),
      { numRuns: runs(2_000) },
    );
    // The near misses the rule against a trailing "_" exists for.
    expect(validateServerName('a_')).toBeDefined();
    expect(backendToolName('a', '_x')).toBe('a___x');
  });

  it('the first "__" of a served name always ends the server name', () => {
    fc.assert(
      fc.property(validServer, toolArb, (server, tool) => {
        const served = backendToolName(server, tool);
        expect(served.slice(0, served.indexOf('__'))).toBe(server);
      }),
      { numRuns: runs(1_000) },
    );
  });
});
