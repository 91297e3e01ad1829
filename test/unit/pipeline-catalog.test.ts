import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadCatalog, loadPipelineFile, summarize } from '../../src/pipeline/index.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/pipelines');
const temps: string[] = [];

async function tempDir(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pipelines-'));
  temps.push(dir);
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

afterEach(async () => {
  await Promise.all(temps.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe('loadCatalog', () => {
  it('loads every pipeline file in a folder, by name', async () => {
    const catalog = await loadCatalog(join(FIXTURES, 'good'));
    expect(catalog.list().map((e) => [e.name, e.valid])).toEqual([
      ['database-report', true],
      ['minimal', true],
      ['weather-analysis', true],
    ]);
    expect(catalog.get('minimal')?.pipeline?.steps.get('echo')?.tool).toBe('echo');
    expect(catalog.get('nope')).toBeUndefined();
  });

  it('keeps invalid files as entries with their issues', async () => {
    const dir = join(FIXTURES, 'broken');
    const catalog = await loadCatalog(dir, { knownTools: new Map([['sqlite', ['read_query']]]) });
    const files = (await readdir(dir)).filter((f) => /\.(ya?ml|json)$/.test(f));
    expect(catalog.list()).toHaveLength(files.length);
    for (const entry of catalog.list()) {
      expect(entry.valid, entry.name).toBe(false);
      expect(entry.pipeline).toBeUndefined();
      expect(entry.issues.length, entry.name).toBeGreaterThan(0);
    }
    expect(catalog.get('name-mismatch')?.issues[0]?.message).toBe(
      "name 'weather' must equal the file name's stem 'name-mismatch'",
    );
  });

  it('ignores other files, and lists a second file with the same name as invalid', async () => {
    const dir = await tempDir({
      'a.yaml': 'name: a\nsteps:\n  s: { server: s, tool: t }\n',
      'a.json': '{"name": "a", "steps": {"s": {"server": "s", "tool": "t"}}}',
      'notes.md': '# not a pipeline',
    });
    const catalog = await loadCatalog(dir);
    expect(catalog.list().map((e) => [e.file, e.valid])).toEqual([
      [join(dir, 'a.json'), true],
      [join(dir, 'a.yaml'), false],
    ]);
    expect(catalog.get('a')?.file).toBe(join(dir, 'a.json'));
    expect(catalog.list()[1]?.issues).toEqual([
      {
        file: join(dir, 'a.yaml'),
        line: 1,
        column: 1,
        message: `pipeline 'a' is already defined by ${join(dir, 'a.json')}`,
      },
    ]);
    expect((await loadPipelineFile(join(dir, 'a.yaml'))).valid).toBe(true);
  });

  it('is empty for a missing folder', async () => {
    const catalog = await loadCatalog(join(FIXTURES, 'no-such-folder'));
    expect(catalog.list()).toEqual([]);
  });

  it('checks tools when it knows them', async () => {
    const catalog = await loadCatalog(join(FIXTURES, 'good'), {
      knownTools: new Map([['sqlite', ['list_tables']]]),
    });
    const entry = catalog.get('database-report')!;
    expect(entry.valid).toBe(false);
    expect(entry.issues.map((i) => `${i.line}:${i.column}: ${i.message}`)).toEqual([
      "12:11: server 'sqlite' has no tool 'describe_table'; its tools: list_tables",
      "18:11: server 'sqlite' has no tool 'read_query'; its tools: list_tables",
    ]);
    expect(catalog.get('minimal')!.issues[0]?.message).toBe("unknown server 'everything'; servers: sqlite");
  });
});

describe('summarize', () => {
  it('gives list_pipelines its view of a valid pipeline', async () => {
    const entry = await loadPipelineFile(join(FIXTURES, 'good/weather-analysis.yaml'));
    expect(summarize(entry)).toEqual({
      name: 'weather-analysis',
      description: 'Alerts for one or more states and the forecast for a point, all in parallel',
      file: join(FIXTURES, 'good/weather-analysis.yaml'),
      valid: true,
      inputsSchema: {
        type: 'object',
        properties: {
          states: {
            type: 'array',
            items: { type: 'string', pattern: '^[A-Z]{2}$' },
            default: ['CA'],
            description: 'Two-letter state codes',
          },
          latitude: { type: 'number', minimum: -90, maximum: 90 },
          longitude: { type: 'number', minimum: -180, maximum: 180 },
        },
        required: ['latitude', 'longitude'],
        additionalProperties: false,
      },
      steps: [
        { id: 'alerts', server: 'weather', tool: 'get_alerts', needs: [], for_each: true },
        { id: 'forecast', server: 'weather', tool: 'get_forecast', needs: [], for_each: false },
      ],
      issues: [],
    });
  });

  it('and of an invalid file', async () => {
    const file = join(FIXTURES, 'broken/cycle.yaml');
    const summary = summarize(await loadPipelineFile(file));
    expect(summary).toMatchObject({ name: 'cycle', valid: false, steps: [], file });
    expect(summary.inputsSchema).toEqual({
      type: 'object',
      properties: {},
      required: [],
      additionalProperties: false,
    });
    expect(summary.issues.map((i) => i.message)).toEqual([
      'cycle: a -> c -> b -> a',
      "step 'd' needs itself",
    ]);
  });
});

describe('layering', () => {
  it('src/pipeline reaches backends and the SDK through types only', async () => {
    const dir = join(import.meta.dirname, '../../src/pipeline');
    const allowed = new Set([
      'yaml',
      'ajv',
      'jsonpath-plus',
      '@marcbachmann/cel-js',
      '../errors.js',
      '../config/index.js',
    ]);
    const typeOnly = new Set(['../backends/types.js', '@modelcontextprotocol/server']);
    for (const file of (await readdir(dir)).filter((f) => f.endsWith('.ts'))) {
      const source = await readFile(join(dir, file), 'utf8');
      for (const m of source.matchAll(/^(import|export)\s+(type\s+)?[^'"]*?from\s+'([^']+)'/gms)) {
        const [, , isType, spec] = m as unknown as [string, string, string | undefined, string];
        if (spec.startsWith('./') || spec.startsWith('node:') || allowed.has(spec)) continue;
        expect(typeOnly.has(spec) && isType !== undefined, `${file} imports ${spec}`).toBe(true);
      }
    }
  });
});
