import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type Check,
  compareWire,
  formatWire,
  parseKnownGaps,
  type RunResults,
  readResults,
} from '../conformance/compare.js';

const ok = (id: string): Check => ({ id, status: 'SUCCESS' });
const bad = (id: string): Check => ({ id, status: 'FAILURE' });
const results = (entries: Record<string, Check[]>): RunResults => new Map(Object.entries(entries));

describe('conformance comparison (reference alone vs. through the gateway)', () => {
  const reference = results({
    'tools-list': [ok('tools-list'), ok('wire-schema-valid')],
    'tools-call-simple-text': [ok('tools-call-simple-text'), bad('wire-schema-valid')],
    'tasks-lifecycle': [bad('tasks-a')],
  });

  it('matches when the gateway passes every check the reference passes', () => {
    const gateway = results({
      'tools-list': [ok('tools-list'), ok('wire-schema-valid')],
      'tools-call-simple-text': [ok('tools-call-simple-text'), bad('wire-schema-valid')],
      'tasks-lifecycle': [bad('tasks-a')],
    });
    const report = compareWire('legacy', reference, gateway, []);
    expect(report.regressions).toBe(0);
    expect(report.matched).toBe(3);
    expect(report.rows.map((r) => [r.scenario, r.verdict])).toEqual([
      ['tools-list', 'match'],
      ['tools-call-simple-text', 'match'],
      ['tasks-lifecycle', 'not passed by the reference'],
    ]);
  });

  it('reports a check the reference passes and the gateway fails, per check id', () => {
    const gateway = results({
      'tools-list': [bad('tools-list'), ok('wire-schema-valid')],
      'tools-call-simple-text': [ok('tools-call-simple-text'), bad('wire-schema-valid')],
    });
    const report = compareWire('legacy', reference, gateway, []);
    expect(report.regressions).toBe(1);
    expect(report.rows[0]).toMatchObject({ verdict: 'REGRESSION', regressions: ['tools-list'] });
    expect(formatWire(report)).toContain('REGRESSION legacy tools-list: tools-list');
  });

  it('counts a scenario missing from the gateway run, and an extra failing check, as regressions', () => {
    const gateway = results({
      'tools-list': [ok('tools-list'), ok('wire-schema-valid'), bad('something-new')],
    });
    const report = compareWire('legacy', reference, gateway, []);
    expect(report.rows.find((r) => r.scenario === 'tools-list')?.regressions).toEqual(['something-new']);
    expect(report.rows.find((r) => r.scenario === 'tools-call-simple-text')?.verdict).toBe('REGRESSION');
  });

  it('takes known gaps out, and says which of them pass now', () => {
    const gaps = parseKnownGaps(
      [
        'modern:',
        '  - scenario: tools-list',
        '    checks: [tools-list]',
        '    reason: the modern front is not built',
        '  - scenario: tools-call-simple-text',
        '    checks: "*"',
        '    reason: same',
      ].join('\n'),
    );
    const gateway = results({
      'tools-list': [bad('tools-list'), ok('wire-schema-valid')],
      'tools-call-simple-text': [ok('tools-call-simple-text')],
    });
    const report = compareWire('modern', reference, gateway, gaps.modern);
    expect(report.regressions).toBe(0);
    expect(report.knownGaps).toBe(1);
    expect(report.nowPassing).toEqual([{ scenario: 'tools-call-simple-text', checks: '*' }]);
    expect(formatWire(report)).toContain('now passing');
  });

  it('refuses a known gap without a reason', () => {
    expect(() => parseKnownGaps('legacy:\n  - scenario: ping\n    checks: "*"\n')).toThrow(/reason/);
  });

  it('the committed known-gaps.yaml parses, and lists no gap on either wire', () => {
    const gaps = parseKnownGaps(
      readFileSync(new URL('../conformance/known-gaps.yaml', import.meta.url), 'utf8'),
    );
    expect(gaps.legacy).toEqual([]);
    expect(gaps.modern).toEqual([]);
  });

  const dir = mkdtempSync(join(tmpdir(), 'conformance-compare-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the suite output folders, scenario names with dashes included', () => {
    const a = join(dir, 'server-tools-call-simple-text-2026-12-03T07-15-57-480Z');
    mkdirSync(a);
    writeFileSync(join(a, 'checks.json'), JSON.stringify([{ id: 'x', status: 'SUCCESS', name: 'X' }]));
    mkdirSync(join(dir, 'server-tasks-lifecycle-2026-12-03T07-15-57-481Z'));
    const read = readResults(dir);
    expect(read.get('tools-call-simple-text')).toEqual([ok('x')]);
    expect(read.get('tasks-lifecycle')).toEqual([]);
  });
});
