// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} in plain strings is the config syntax under test
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { expandDocument, expandString } from '../../src/config/expand.js';

const env = { HOME: '/home/me', EMPTY: '', TOKEN: 's3cret' };

describe('expandString', () => {
  it.each([
    ['plain', 'plain'],
    ['${HOME}/x', '/home/me/x'],
    ['${HOME}${HOME}', '/home/me/home/me'],
    ['${EMPTY}', ''],
    ['${UNSET:-fallback}', 'fallback'],
    ['${EMPTY:-fallback}', 'fallback'],
    ['${HOME:-fallback}', '/home/me'],
    ['${UNSET:-}', ''],
    ['${UNSET:-a:b/c d}', 'a:b/c d'],
    ['${UNSET:-$x}', '$x'],
    ['$$', '$'],
    ['$${HOME}', '${HOME}'],
    ['$$$${HOME}', '$${HOME}'],
    ['$$${HOME}', '$/home/me'],
    ['$HOME', '$HOME'],
    ['cost: 5$', 'cost: 5$'],
    ['$', '$'],
    ['a $ b', 'a $ b'],
  ])('%j → %j', (input, output) => {
    expect(expandString(input, env)).toEqual({ ok: true, value: output });
  });

  it('names every missing variable once, and no value', () => {
    const result = expandString('Bearer ${TOKEN} ${MISSING} ${OTHER} ${MISSING}', env);
    expect(result).toEqual({
      ok: false,
      problems: [
        {
          variable: 'MISSING',
          message: 'environment variable MISSING is not set (write ${MISSING:-default} to give a default)',
        },
        {
          variable: 'OTHER',
          message: 'environment variable OTHER is not set (write ${OTHER:-default} to give a default)',
        },
      ],
    });
    expect(JSON.stringify(result)).not.toContain('s3cret');
  });

  it.each(['${', '${HOME', '${}', '${1X}', '${A-B}', '${ HOME }', '${:-x}'])(
    'rejects the malformed %j',
    (input) => {
      expect(expandString(input, env)).toEqual({
        ok: false,
        problems: [
          {
            message:
              'malformed "${...}" reference; write ${NAME} or ${NAME:-default}, and "$$" for a literal "$"',
          },
        ],
      });
    },
  );
});

describe('expandDocument', () => {
  it('expands values, never keys, and aliases see the expanded anchor', () => {
    const doc = parseDocument('${HOME}: ${HOME}\nlist: [&a "${TOKEN}", *a]\n? ["${HOME}"]\n: v\nn: 5\n');
    expect(expandDocument(doc, env)).toEqual([]);
    expect(doc.toJS()).toEqual({
      '${HOME}': '/home/me',
      list: ['s3cret', 's3cret'],
      '[ "${HOME}" ]': 'v',
      n: 5,
    });
  });

  it('reports the path and node of each value it cannot expand', () => {
    const doc = parseDocument('servers:\n  a:\n    args: [ok, "${NOPE}"]\n');
    const problems = expandDocument(doc, env);
    expect(problems.map((p) => ({ path: p.path, variable: p.variable, offset: p.node.range?.[0] }))).toEqual([
      { path: ['servers', 'a', 'args', 1], variable: 'NOPE', offset: 29 },
    ]);
  });
});
