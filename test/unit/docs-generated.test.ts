import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { replaceResults } from '../bench/write-docs.js';
import { ERROR_CODE_DOCS, TYPE_PROBLEM_DOCS } from '../docs/error-codes.js';
import {
  errorCodesInSource,
  fillGenerated,
  GENERATED,
  REPO_ROOT,
  stalePages,
  typeProblemCodesInSource,
} from '../docs/gen-docs.js';
import { anchors, brokenLink, docPages, fencedBlocks, links } from '../docs/markdown.js';

/** The docs' structure: generated parts current, links that resolve, a front page that stays short. */
describe('generated reference pages', () => {
  it('match their sources (schemas, CLI usage, error codes)', () => {
    const stale = stalePages().map((p) => p.file);
    expect(stale, `${stale.join(', ')} out of date: run \`npm run docs\``).toEqual([]);
  });

  it('would notice a generated part edited by hand', () => {
    const [file, parts] = Object.entries(GENERATED)[0]!;
    const text = readFileSync(path.join(REPO_ROOT, file), 'utf8');
    const [name] = Object.keys(parts);
    const tampered = text.replace(
      `<!-- generated:${name}:end -->`,
      `| edited | by hand |\n<!-- generated:${name}:end -->`,
    );
    expect(fillGenerated(file, tampered, parts)).toBe(text);
    expect(tampered).not.toBe(text);
  });

  it('describe every error code in src/errors.ts', () => {
    const codes = errorCodesInSource();
    expect(codes.length).toBeGreaterThan(10);
    const missing = codes.filter((code) => !ERROR_CODE_DOCS[code]);
    expect(missing, 'describe these in test/docs/error-codes.ts, then run `npm run docs`').toEqual([]);
    const stray = Object.keys(ERROR_CODE_DOCS).filter((code) => !codes.includes(code));
    expect(stray, 'no longer in src/errors.ts: remove from test/docs/error-codes.ts').toEqual([]);
  });

  it('describe every type problem code of the data-flow check', () => {
    const codes = typeProblemCodesInSource();
    expect(codes).toContain('TYPE_MISMATCH');
    const missing = codes.filter((code) => !TYPE_PROBLEM_DOCS[code]);
    expect(missing, 'describe these in test/docs/error-codes.ts, then run `npm run docs`').toEqual([]);
    const stray = Object.keys(TYPE_PROBLEM_DOCS).filter((code) => !codes.includes(code));
    expect(stray, 'no longer a TypeProblemCode: remove from test/docs/error-codes.ts').toEqual([]);
  });
});

describe('documentation pages', () => {
  const pages = docPages();

  it('include the front page, the architecture and the reference', () => {
    for (const page of ['README.md', 'ARCHITECTURE.md', 'docs/README.md', ...Object.keys(GENERATED)]) {
      expect(pages).toContain(page);
    }
  });

  it('keep README.md under 12 KB', () => {
    expect(statSync(path.join(REPO_ROOT, 'README.md')).size).toBeLessThan(12 * 1024);
  });

  it('link only to files and headings that exist', () => {
    const broken = pages.flatMap((page) =>
      links(page, readFileSync(path.join(REPO_ROOT, page), 'utf8')).flatMap((link) => {
        const why = brokenLink(link);
        return why ? [`${page}: ${why}`] : [];
      }),
    );
    expect(broken).toEqual([]);
  });

  it('are all reachable from the docs index or the front page', () => {
    const linked = new Set<string>();
    for (const page of ['README.md', 'docs/README.md']) {
      for (const link of links(page, readFileSync(path.join(REPO_ROOT, page), 'utf8'))) {
        const file = link.target.split('#')[0];
        if (file) linked.add(path.posix.normalize(path.posix.join(path.posix.dirname(page), file)));
      }
    }
    const orphans = pages.filter((p) => p.startsWith('docs/') && p !== 'docs/README.md' && !linked.has(p));
    expect(orphans).toEqual([]);
  });

  it('justify every block they leave unchecked', () => {
    const unjustified = pages.flatMap((page) =>
      fencedBlocks(page, readFileSync(path.join(REPO_ROOT, page), 'utf8'))
        .filter((b) => b.noCheck !== undefined && b.noCheck.length < 10)
        .map((b) => `${page}:${b.line}`),
    );
    expect(unjustified).toEqual([]);
  });
});

describe('the docs checkers themselves', () => {
  it('find a broken file link and a broken anchor', () => {
    expect(brokenLink({ page: 'README.md', target: 'docs/no-such-page.md' })).toMatch(/no such file/);
    expect(brokenLink({ page: 'README.md', target: 'docs/README.md#no-such-heading' })).toMatch(/no heading/);
    expect(brokenLink({ page: 'README.md', target: 'docs/README.md#guides' })).toBeUndefined();
    expect(brokenLink({ page: 'README.md', target: 'https://example.com/x' })).toBeUndefined();
  });

  it('make GitHub anchors from headings', () => {
    const got = anchors("# Configuration: `gateway.yaml`\n## A step's result\n## Keys\n## Keys\n");
    expect([...got]).toEqual(['configuration-gatewayyaml', 'a-steps-result', 'keys', 'keys-1']);
  });

  it('read fenced blocks with their tags, indented ones included', () => {
    const md =
      'x\n```yaml no-check: because reasons\na: 1\n```\n- item\n  ```json output\n  {"a": 1}\n  ```\n';
    const blocks = fencedBlocks('p.md', md);
    expect(blocks.map((b) => [b.lang, b.tags[0], b.noCheck, b.text])).toEqual([
      ['yaml', 'no-check:', 'because reasons', 'a: 1\n'],
      ['json', 'output', undefined, '{"a": 1}\n'],
    ]);
  });

  it('put a bench run into docs/benchmarks.md between its markers only', () => {
    const page =
      'intro\n<!-- generated:bench-results:start -->\nold\n<!-- generated:bench-results:end -->\nprose\n';
    expect(replaceResults(page, 'new table')).toBe(
      'intro\n<!-- generated:bench-results:start -->\nnew table\n<!-- generated:bench-results:end -->\nprose\n',
    );
    expect(() => replaceResults('no markers', 'x')).toThrow(/no <!-- generated:bench-results:start/);
    const real = readFileSync(path.join(REPO_ROOT, 'docs/benchmarks.md'), 'utf8');
    expect(real).toMatch(/generated:bench-results:start -->\nMeasured on: \d+ CPUs \(.+\) · node v\d+/);
  });
});
