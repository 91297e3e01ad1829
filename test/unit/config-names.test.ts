import { describe, expect, it } from 'vitest';
import { SERVER_NAME_PATTERN, validateServerName } from '../../src/config/names.js';
import { gatewaySchema } from '../../src/config/schema.js';

describe('validateServerName', () => {
  it.each([
    'weather',
    'sqlite',
    'a',
    '0',
    'my-db',
    'my_db',
    'A1-b_2',
    'x'.repeat(48),
    'pipelines',
    'my-pipeline',
  ])('accepts %j', (name) => {
    expect(validateServerName(name)).toBeUndefined();
  });

  it.each([
    ['', 'a server name must be a non-empty string'],
    [42, 'a server name must be a non-empty string'],
    ['x'.repeat(49), 'server name is 49 characters long; at most 48 are allowed'],
    [
      '-db',
      'server name "-db" must start with a letter or digit and contain only letters, digits, "_" and "-"',
    ],
    [
      '_db',
      'server name "_db" must start with a letter or digit and contain only letters, digits, "_" and "-"',
    ],
    [
      'my.db',
      'server name "my.db" must start with a letter or digit and contain only letters, digits, "_" and "-"',
    ],
    [
      'my db',
      'server name "my db" must start with a letter or digit and contain only letters, digits, "_" and "-"',
    ],
    [
      'wéather',
      'server name "wéather" must start with a letter or digit and contain only letters, digits, "_" and "-"',
    ],
    ['a__b', 'server name "a__b" must not contain "__"; it separates server from tool in "<server>__<tool>"'],
    ['a__', 'server name "a__" must not contain "__"; it separates server from tool in "<server>__<tool>"'],
    ['pipeline', 'server name "pipeline" is reserved; pipelines are served as "pipeline__<name>"'],
    ['Pipeline', 'server name "Pipeline" is reserved; pipelines are served as "pipeline__<name>"'],
  ])('rejects %j', (name, message) => {
    expect(validateServerName(name)).toBe(message);
  });

  it('agrees with the pattern the schema gives editors', () => {
    const servers = (gatewaySchema().definitions as Record<string, { propertyNames: { pattern: string } }>)
      .servers!;
    expect(servers.propertyNames.pattern).toBe(SERVER_NAME_PATTERN);
    const re = new RegExp(SERVER_NAME_PATTERN, 'u');
    for (const name of [
      'weather',
      'my-db',
      'a',
      'pipelines',
      'x'.repeat(48),
      'a__b',
      'pipeline',
      'PIPELINE',
      '-x',
      'x'.repeat(49),
    ]) {
      expect(re.test(name), name).toBe(validateServerName(name) === undefined);
    }
  });
});
