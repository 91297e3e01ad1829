import { mkdir, mkdtemp, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BackendRegistry } from '../../src/backends/index.js';
import { defaultConfig, type GatewayConfig, type ServerConfig } from '../../src/config/index.js';
import { PipelineHost } from '../../src/front/index.js';
import { silentLogger } from '../../src/log.js';
import {
  type Catalog,
  loadCatalog,
  mergeCatalog,
  servedPipeline,
  summarize,
} from '../../src/pipeline/index.js';

const temps: string[] = [];

async function folder(files: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pipelines-merge-'));
  temps.push(dir);
  await write(dir, files);
  return dir;
}

async function write(dir: string, files: Record<string, string>): Promise<void> {
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
}

afterEach(async () => {
  await Promise.all(temps.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** A valid pipeline `name` whose one step calls `tool` on server `s`. */
function good(name: string, tool = 't'): string {
  return `name: ${name}\nsteps:\n  step: { server: s, tool: ${tool} }\n`;
}

/** Invalid: a step without its tool. */
function broken(name: string): string {
  return `name: ${name}\nsteps:\n  step: { server: s }\n`;
}

/** Reads `dir` again and merges it into `previous`, as a reload does. */
async function reload(previous: Catalog, dir = previous.dir): Promise<Catalog> {
  return mergeCatalog(previous, await loadCatalog(dir));
}

describe('mergeCatalog', () => {
  it('takes a valid file as it now is', async () => {
    const dir = await folder({ 'a.yaml': good('a') });
    const first = await loadCatalog(dir);
    await write(dir, { 'a.yaml': good('a', 'u') });
    const next = await reload(first);
    const a = next.get('a')!;
    expect(a.valid).toBe(true);
    expect(a.lastGood).toBeUndefined();
    expect(servedPipeline(a)?.steps.get('step')?.tool).toBe('u');
  });

  it('keeps the last good version of a file that broke, with the new problems', async () => {
    const dir = await folder({ 'a.yaml': good('a'), 'b.yaml': good('b') });
    const first = await loadCatalog(dir);
    const served = first.get('a')!.pipeline!;
    await write(dir, { 'a.yaml': broken('a') });
    const next = await reload(first);
    const a = next.get('a')!;
    expect(a.valid).toBe(false);
    expect(a.pipeline).toBeUndefined();
    expect(a.lastGood).toBe(served);
    expect(servedPipeline(a)).toBe(served);
    expect(a.issues.map((i) => [i.line, i.column])).toEqual([[3, 3]]);
    expect(a.issues[0]?.message).toMatch(/tool/);
    expect(next.get('b')?.valid).toBe(true);
  });

  it('carries the last good version through further broken saves, and drops it once fixed', async () => {
    const dir = await folder({ 'a.yaml': good('a') });
    const first = await loadCatalog(dir);
    const served = first.get('a')!.pipeline!;
    await write(dir, { 'a.yaml': broken('a') });
    const second = await reload(first);
    await write(dir, { 'a.yaml': 'name: a\nsteps: [' });
    const third = await reload(second);
    expect(third.get('a')?.lastGood).toBe(served);
    expect(third.get('a')?.issues[0]?.message).not.toBe(second.get('a')?.issues[0]?.message);

    await write(dir, { 'a.yaml': good('a', 'fixed') });
    const fourth = await reload(third);
    expect(fourth.get('a')?.valid).toBe(true);
    expect(fourth.get('a')?.lastGood).toBeUndefined();
    expect(servedPipeline(fourth.get('a')!)?.steps.get('step')?.tool).toBe('fixed');
  });

  it('removes the pipeline of a deleted file, even one kept as last good', async () => {
    const dir = await folder({ 'a.yaml': good('a') });
    const first = await loadCatalog(dir);
    await write(dir, { 'a.yaml': broken('a') });
    const second = await reload(first);
    await unlink(join(dir, 'a.yaml'));
    const third = await reload(second);
    expect(third.get('a')).toBeUndefined();
    expect(third.list()).toEqual([]);
  });

  it('serves nothing for a new file that is invalid', async () => {
    const dir = await folder({ 'a.yaml': good('a') });
    const first = await loadCatalog(dir);
    await write(dir, { 'n.yaml': broken('n') });
    const n = (await reload(first)).get('n')!;
    expect(n.valid).toBe(false);
    expect(servedPipeline(n)).toBeUndefined();
  });

  it('treats a rename as a deletion plus a new file: the last good version stays with the old file', async () => {
    const dir = await folder({ 'a.yaml': good('a') });
    const first = await loadCatalog(dir);
    // Renamed without changing `name`: the new file is invalid (name must equal the stem) and serves nothing.
    await rename(join(dir, 'a.yaml'), join(dir, 'b.yaml'));
    const second = await reload(first);
    expect(second.get('a')).toBeUndefined();
    const b = second.get('b')!;
    expect(b.valid).toBe(false);
    expect(b.lastGood).toBeUndefined();
    expect(b.issues[0]?.message).toBe("name 'a' must equal the file name's stem 'b'");

    // Renamed back to another extension, broken: a different file, so no last good version either.
    await write(dir, { 'b.yaml': good('b') });
    const third = await reload(second);
    expect(third.get('b')?.valid).toBe(true);
    await unlink(join(dir, 'b.yaml'));
    await write(dir, { 'b.yml': broken('b') });
    const fourth = await reload(third);
    expect(fourth.get('b')?.file).toBe(join(dir, 'b.yml'));
    expect(servedPipeline(fourth.get('b')!)).toBeUndefined();
  });

  it('gives a last good version only to the file that holds the name', async () => {
    const dir = await folder({
      'a.json': JSON.stringify({ name: 'a', steps: { s: { server: 's', tool: 't' } } }),
    });
    const first = await loadCatalog(dir);
    const served = first.get('a')!.pipeline!;
    await write(dir, { 'a.json': '{"name": "a", "steps": {}}', 'a.yaml': good('a') });
    const next = await reload(first);
    expect(next.get('a')?.file).toBe(join(dir, 'a.json'));
    expect(next.get('a')?.lastGood).toBe(served);
    const second = next.list().find((e) => e.file.endsWith('a.yaml'))!;
    expect(second.valid).toBe(false);
    expect(second.lastGood).toBeUndefined();
    expect(second.issues[0]?.message).toMatch(/already defined by/);
  });

  it('carries nothing over from another folder', async () => {
    const one = await folder({ 'a.yaml': good('a') });
    const two = await folder({ 'a.yaml': broken('a') });
    const next = await reload(await loadCatalog(one), two);
    expect(next.dir).toBe(two);
    expect(servedPipeline(next.get('a')!)).toBeUndefined();
  });

  it('is pure: neither catalog changes, and merging again gives the same', async () => {
    const dir = await folder({ 'a.yaml': good('a'), 'b.yaml': good('b') });
    const first = await loadCatalog(dir);
    await write(dir, { 'a.yaml': broken('a') });
    const loaded = await loadCatalog(dir);
    const snapshot = (c: Catalog) =>
      c.list().map((e) => ({ file: e.file, valid: e.valid, pipeline: e.pipeline, lastGood: e.lastGood }));
    const before = [snapshot(first), snapshot(loaded)];
    const once = mergeCatalog(first, loaded);
    const twice = mergeCatalog(first, loaded);
    expect([snapshot(first), snapshot(loaded)]).toEqual(before);
    expect(loaded.get('a')?.lastGood).toBeUndefined();
    expect(snapshot(once)).toEqual(snapshot(twice));
    expect(once.list().map((e) => e.name)).toEqual(['a', 'b']);
  });
});

describe('summarize, for a file serving its last good version', () => {
  it('shows the problems, and the version that serves', async () => {
    const dir = await folder({ 'a.yaml': `description: first\n${good('a')}` });
    const first = await loadCatalog(dir);
    await write(dir, { 'a.yaml': broken('a') });
    const summary = summarize((await reload(first)).get('a')!);
    expect(summary).toMatchObject({
      name: 'a',
      valid: false,
      servingLastGood: true,
      description: 'first',
      steps: [{ id: 'step', server: 's', tool: 't' }],
    });
    expect(summary.issues).toHaveLength(1);
    expect(summarize((await loadCatalog(dir)).get('a')!).servingLastGood).toBeUndefined();
  });
});

describe('loadCatalog and symlinks', () => {
  it('reads a symlinked pipeline file (a ConfigMap mount) and skips dangling links', async () => {
    const dir = await folder();
    await write(dir, { 'target.txt': good('linked') });
    await symlink('target.txt', join(dir, 'linked.yaml'));
    await symlink('missing.yaml', join(dir, 'dangling.yaml'));
    const catalog = await loadCatalog(dir);
    expect(catalog.list().map((e) => [e.name, e.valid])).toEqual([['linked', true]]);
  });
});

describe('PipelineHost: reloads keep the last good version', () => {
  /** A host on `dir` whose config names these servers (only their names matter to validation). */
  function host(dir: string, servers: string[]) {
    const registry = new BackendRegistry({ defaultTimeoutMs: 1000, logger: silentLogger });
    let config: GatewayConfig = defaultConfig(dir);
    const setServers = (names: string[]) => {
      config = { ...config, pipelinesDir: dir, servers: names.map((name) => ({ name }) as ServerConfig) };
    };
    setServers(servers);
    const h = new PipelineHost({ registry, config: () => config, logger: silentLogger });
    return { host: h, registry, setServers };
  }

  it('revalidate (the backends changed) keeps serving the version of a file that is now invalid', async () => {
    const dir = await folder({ 'a.yaml': good('a'), 'b.yaml': good('b') });
    const { host: h, registry, setServers } = host(dir, ['s']);
    await h.reload();
    const served = h.resolve('a');
    expect(h.tools().map((t) => t.definition.name)).toEqual(['pipeline__a', 'pipeline__b']);

    // Server `s` goes away: every file naming it is invalid, and keeps its last good version.
    const changed = new Promise<void>((resolve) => h.onChange(resolve));
    setServers([]);
    registry.emit('toolsChanged');
    await changed;
    const a = h.current().get('a')!;
    expect(a.valid).toBe(false);
    expect(a.issues[0]?.message).toMatch(/server 's'/);
    expect(h.resolve('a')).toBe(served);
    expect(h.tools().map((t) => t.definition.name)).toEqual(['pipeline__a', 'pipeline__b']);

    // Reloads from disk keep it too; a deleted file takes its pipeline with it.
    await unlink(join(dir, 'b.yaml'));
    await h.reload([join(dir, 'b.yaml')]);
    expect(h.resolve('a')).toBe(served);
    expect(h.tools().map((t) => t.definition.name)).toEqual(['pipeline__a']);
    expect(() => h.resolve('b')).toThrow(/unknown pipeline 'b'/);
    h.close();
    await registry.close();
  });

  it('keeps the pipelines of a folder that went away as last read, until it is back', async () => {
    const dir = await folder({ 'a.yaml': good('a') });
    const { host: h, registry } = host(dir, ['s']);
    await h.reload();
    const served = h.resolve('a');
    await rm(dir, { recursive: true });
    await h.reload();
    expect(h.resolve('a')).toBe(served);
    await mkdir(dir);
    await write(dir, { 'b.yaml': good('b') });
    await h.reload();
    expect(
      h
        .current()
        .list()
        .map((e) => e.name),
    ).toEqual(['b']);
    h.close();
    await registry.close();
  });

  it('runs reloads one at a time, one replace each, each merged with the one before', async () => {
    const dir = await folder({ 'a.yaml': good('a') });
    const { host: h, registry } = host(dir, ['s']);
    let replaces = 0;
    h.onChange(() => replaces++);
    await h.reload();
    const served = h.resolve('a');
    await write(dir, { 'a.yaml': broken('a') });
    const results = await Promise.all([h.reload(), h.reload(), h.reload()]);
    expect(replaces).toBe(4);
    // Each reload saw the one before it: the last good version survives them all.
    for (const catalog of results) expect(catalog.get('a')?.lastGood).toBe(served);
    expect(h.current()).toBe(results[2]);
    h.close();
    await registry.close();
  });
});
