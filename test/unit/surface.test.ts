import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { globProblem, parseConfigText } from '../../src/config/index.js';
import {
  approveInFile,
  definitionHash,
  fitNames,
  globFilter,
  PinStore,
  SurfacePolicy,
  shortName,
} from '../../src/surface/index.js';

describe('glob filters', () => {
  it('no lists: everything passes', () => {
    expect(globFilter(undefined)('anything')).toBe(true);
    expect(globFilter({})('x')).toBe(true);
  });

  it('include keeps only matches; exclude wins over include', () => {
    const f = globFilter({ include: ['get_*', 'list_*'], exclude: ['*_secret'] });
    expect(f('get_weather')).toBe(true);
    expect(f('list_tables')).toBe(true);
    expect(f('get_secret')).toBe(false);
    expect(f('delete_table')).toBe(false);
  });

  it('on URIs * stops at / and ** crosses it', () => {
    const f = globFilter({ include: ['file:///docs/*'] });
    expect(f('file:///docs/a.md')).toBe(true);
    expect(f('file:///docs/deep/a.md')).toBe(false);
    expect(globFilter({ include: ['file:///docs/**'] })('file:///docs/deep/a.md')).toBe(true);
  });

  it('a leading ! is a literal, never negation', () => {
    expect(globFilter({ include: ['!x'] })('y')).toBe(false);
  });

  it('validation names what is wrong with a pattern', () => {
    expect(globProblem('get_*')).toBeUndefined();
    expect(globProblem('')).toMatch(/empty/);
    expect(globProblem('!secret')).toMatch(/exclude/);
    expect(globProblem('get_[ab')).toMatch(/"\["/);
    expect(globProblem('{a,b')).toMatch(/"\{"/);
  });
});

describe('a server policy', () => {
  const policy = new SurfacePolicy({
    tools: {
      exclude: ['delete_*'],
      overrides: {
        get_forecast: { name: 'forecast', description: 'Weather ahead' },
        get_alerts: { title: 'Alerts' },
      },
    },
    prompts: { include: ['summary'] },
  });

  it('renames, and maps the new name back; the old name no longer stands for the tool', () => {
    expect(policy.servedToolName('get_forecast')).toBe('forecast');
    expect(policy.backendToolName('forecast')).toBe('get_forecast');
    expect(policy.backendToolName('get_forecast')).toBeUndefined();
    expect(policy.backendToolName('get_alerts')).toBe('get_alerts');
  });

  it('presents the override, keeping everything else', () => {
    const tool = { name: 'get_alerts', description: 'd', inputSchema: { type: 'object' } };
    expect(policy.present(tool)).toEqual({ ...tool, title: 'Alerts' });
    expect(policy.describes('get_forecast')).toBe(true);
    expect(policy.describes('get_alerts')).toBe(false);
  });

  it('filters tools and prompts', () => {
    expect(policy.toolVisible('delete_all')).toBe(false);
    expect(policy.toolVisible('get_forecast')).toBe(true);
    expect(policy.promptVisible('summary')).toBe(true);
    expect(policy.promptVisible('other')).toBe(false);
    expect(policy.resourceVisible('any://thing')).toBe(true);
  });
});

describe('names that fit', () => {
  it('leaves short names alone and shortens long ones to max, deterministically', () => {
    const long = `server__${'a'.repeat(80)}`;
    const fitted = fitNames(['short', long], 64);
    expect(fitted.get('short')).toBe('short');
    const short = fitted.get(long) ?? '';
    expect(short.length).toBeLessThanOrEqual(64);
    expect(short).toMatch(/^server__a+-[0-9a-f]{8}$/);
    expect(fitNames([long], 64).get(long)).toBe(short);
  });

  it('two long names sharing their head get different names', () => {
    const head = `srv__${'x'.repeat(70)}`;
    const fitted = fitNames([`${head}_one`, `${head}_two`], 64);
    const [a, b] = [fitted.get(`${head}_one`), fitted.get(`${head}_two`)];
    expect(a).not.toBe(b);
    expect(a?.slice(0, 50)).toBe(b?.slice(0, 50));
  });

  it('never collides, even with a name that already is the short form of another', () => {
    const long = `s__${'y'.repeat(100)}`;
    const squatter = shortName(long, 40);
    const fitted = fitNames([long, squatter], 40);
    expect(fitted.get(squatter)).toBe(squatter);
    expect(fitted.get(long)).not.toBe(squatter);
    expect(fitted.get(long)?.length).toBeLessThanOrEqual(40);
  });

  it('the outcome does not depend on the order names come in', () => {
    const names = Array.from({ length: 20 }, (_, i) => `p__${'z'.repeat(70)}${i}`);
    const a = fitNames(names, 32);
    const b = fitNames([...names].reverse(), 32);
    for (const n of names) expect(a.get(n)).toBe(b.get(n));
    expect(new Set(a.values()).size).toBe(names.length);
  });
});

describe('pinned definitions', () => {
  const tool = { name: 't', description: 'one', inputSchema: { type: 'object', properties: { a: {} } } };

  it('the hash covers the description and schemas, not key order', () => {
    const same = { inputSchema: { properties: { a: {} }, type: 'object' }, description: 'one', name: 't' };
    expect(definitionHash(same)).toBe(definitionHash(tool));
    expect(definitionHash({ ...tool, description: 'two' })).not.toBe(definitionHash(tool));
  });

  it('records new, sees the same, holds a change until approved (also through the file)', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'pins-')), 'sub', 'pins.json');
    const pins = new PinStore(file);
    expect(pins.observe('s', 't', 'h1', false)).toBe('new');
    expect(pins.observe('s', 't', 'h1', false)).toBe('same');
    expect(pins.observe('s', 't', 'h2', false)).toBe('changed');
    expect(pins.isPending('s', 't')).toBe(true);
    expect(JSON.parse(readFileSync(file, 'utf8')).pending.s.t.hash).toBe('h2');
    expect(approveInFile(file, 's', 't')).toBe(true);
    expect(approveInFile(file, 's', 't')).toBe(false);
    const again = new PinStore(file);
    expect(again.isPending('s', 't')).toBe(false);
    expect(again.observe('s', 't', 'h2', false)).toBe('same');
  });

  it('a change accepted at once (no pin) is reported but not held', () => {
    const pins = new PinStore(join(mkdtempSync(join(tmpdir(), 'pins-')), 'p.json'));
    pins.observe('s', 't', 'h1', true);
    expect(pins.observe('s', 't', 'h2', true)).toBe('changed');
    expect(pins.isPending('s', 't')).toBe(false);
    expect(pins.observe('s', 't', 'h2', true)).toBe('same');
  });
});

describe('config: the surface settings', () => {
  const load = (text: string) => parseConfigText(text, join(tmpdir(), 'gateway.yaml'), {});

  it('reads filters, overrides, pin and the surface block', () => {
    const result = load(
      [
        'surface:',
        '  max_name_length: 40',
        'servers:',
        '  w:',
        '    command: node',
        '    pin: true',
        '    tools:',
        '      include: ["get_*"]',
        '      overrides:',
        '        get_forecast: { name: forecast }',
        '    resources: { exclude: ["secret://**"] }',
      ].join('\n'),
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config.surface.maxNameLength).toBe(40);
    expect(result.config.surface.callBackendBypassesFilters).toBe(false);
    expect(result.config.surface.pinsFile).toMatch(/\.data[/\\]tool-pins\.json$/);
    expect(result.config.servers[0]?.surface).toEqual({
      tools: { include: ['get_*'], overrides: { get_forecast: { name: 'forecast' } } },
      resources: { exclude: ['secret://**'] },
      pin: true,
    });
  });

  it('reports bad globs, bad and doubled override names at file:line:col', () => {
    const result = load(
      [
        'servers:',
        '  w:',
        '    command: node',
        '    tools:',
        '      include: ["!x", "ok_*"]',
        '      overrides:',
        '        a: { name: "has space" }',
        '        b: { name: same }',
        '        c: { name: same }',
        '    prompts: { exclude: ["[ab"] }',
      ].join('\n'),
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const text = result.errors.map((e) => `${e.line}:${e.column} ${e.message}`);
    expect(text).toEqual([
      expect.stringMatching(/^5:17 servers\.w\.tools\.include\[0\]: "!x": a leading "!"/),
      expect.stringMatching(/^7:20 .*letters, digits/),
      expect.stringMatching(/^9:20 .*already the new name of "b"/),
      expect.stringMatching(/^10:26 .*without its "\]"/),
    ]);
  });

  it('warns about an override of a tool its own filters hide', () => {
    const result = load(
      [
        'servers:',
        '  w:',
        '    command: node',
        '    tools:',
        '      exclude: ["x*"]',
        '      overrides:',
        '        xy: { title: T }',
      ].join('\n'),
    );
    expect(result.ok).toBe(true);
    expect(result.warnings.map((w) => w.message).join('\n')).toMatch(
      /overrides tool "xy", which this server's include\/exclude hide/,
    );
  });

  it('refuses a max_name_length out of range', () => {
    const result = load('surface:\n  max_name_length: 8\n');
    expect(result.ok).toBe(false);
  });
});

describe('register_server input', () => {
  it('takes the same filters and overrides as gateway.yaml, and refuses a bad glob', async () => {
    const { serverConfigFromInput } = await import('../../src/config/index.js');
    const server = serverConfigFromInput(
      { name: 'r', command: 'node', tools: { exclude: ['danger_*'] }, pin: true },
      { kind: 'runtime' },
      tmpdir(),
    );
    expect(server.surface).toEqual({ tools: { exclude: ['danger_*'] }, pin: true });
    expect(() =>
      serverConfigFromInput(
        { name: 'r', command: 'node', tools: { include: ['!x'] } },
        { kind: 'runtime' },
        tmpdir(),
      ),
    ).toThrow(/leading "!"/);
  });
});
