import { mkdirSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type FileChange, type FolderWatcher, type WatchError, watchFolder } from '../../src/watch/index.js';
import { tempDir } from '../helpers/gateway.js';
import { waitFor } from '../helpers/wait.js';

/** A watcher over a temp folder that records what it reports. */
function watchTemp(include: (file: string) => boolean, dir: string) {
  const batches: FileChange[][] = [];
  const errors: WatchError[] = [];
  const watcher = watchFolder({
    folder: dir,
    include,
    onChange: (changes) => {
      batches.push(changes);
    },
    onError: (err) => errors.push(err),
    debounceMs: 50,
    pollMs: 100,
  });
  const flat = () => batches.flat().map((c) => `${c.kind} ${path.basename(c.file)}`);
  return { dir, watcher, batches, errors, flat };
}

const yamlOnly = (file: string) => file.endsWith('.yaml');

describe('watchFolder', () => {
  let watcher: FolderWatcher | undefined;
  afterEach(async () => {
    await watcher?.close();
    watcher = undefined;
  });

  it('reports added, changed and removed files by content, in one batch per burst', async () => {
    const dir = tempDir('mcp-gateway-watch-');
    writeFileSync(path.join(dir, 'keep.yaml'), 'a: 1\n');
    const t = watchTemp(yamlOnly, dir);
    watcher = t.watcher;
    await watcher.ready;

    // A burst: three writes to one file and a new one, faster than the debounce.
    writeFileSync(path.join(t.dir, 'keep.yaml'), 'a: 2\n');
    writeFileSync(path.join(t.dir, 'keep.yaml'), 'a: 3\n');
    writeFileSync(path.join(t.dir, 'new.yaml'), 'b: 1\n');
    writeFileSync(path.join(t.dir, 'ignored.txt'), 'not a match');
    await waitFor(() => t.flat().length >= 2, { message: 'first burst reported' });
    expect(t.batches).toHaveLength(1);
    expect(t.flat()).toEqual(['change keep.yaml', 'add new.yaml']);

    rmSync(path.join(t.dir, 'new.yaml'));
    await waitFor(() => t.flat().includes('unlink new.yaml'));
    expect(t.errors).toEqual([]);
  });

  it('ignores a save that does not change the content (timestamps alone)', async () => {
    const dir = tempDir('mcp-gateway-watch-');
    const file = path.join(dir, 'same.yaml');
    writeFileSync(file, 'x: 1\n');
    const t = watchTemp(yamlOnly, dir);
    watcher = t.watcher;
    await watcher.ready;

    writeFileSync(file, 'x: 1\n');
    utimesSync(file, new Date(), new Date(Date.now() + 5_000));
    // A marker change after it: once the marker is reported, the touch has been seen and dropped.
    writeFileSync(path.join(t.dir, 'marker.yaml'), 'm: 1\n');
    await waitFor(() => t.flat().includes('add marker.yaml'));
    expect(t.flat()).toEqual(['add marker.yaml']);
  });

  it('sees an atomic save: a temp file renamed over the file', async () => {
    const dir = tempDir('mcp-gateway-watch-');
    const file = path.join(dir, 'gateway.yaml');
    writeFileSync(file, 'v: 1\n');
    const t = watchTemp(yamlOnly, dir);
    watcher = t.watcher;
    await watcher.ready;

    const temp = path.join(dir, '.gateway.yaml.swp');
    writeFileSync(temp, 'v: 2\n');
    renameSync(temp, file);
    await waitFor(() => t.flat().includes('change gateway.yaml'));
    expect(t.flat()).toEqual(['change gateway.yaml']);
  });

  it('sees a Kubernetes ConfigMap update: the ..data symlink swapped to a new folder', async () => {
    const dir = tempDir('mcp-gateway-configmap-');
    mkdirSync(path.join(dir, '..2024_01_01_v1'));
    writeFileSync(path.join(dir, '..2024_01_01_v1', 'gateway.yaml'), 'v: 1\n');
    symlinkSync('..2024_01_01_v1', path.join(dir, '..data'));
    symlinkSync('..data/gateway.yaml', path.join(dir, 'gateway.yaml'));
    const file = path.join(dir, 'gateway.yaml');
    const t = watchTemp((f) => f === file, dir);
    watcher = t.watcher;
    await watcher.ready;

    // What the kubelet does: write the new version beside, point ..data_tmp at it, rename it over
    // ..data, delete the old version. gateway.yaml itself is never touched.
    mkdirSync(path.join(dir, '..2024_01_02_v2'));
    writeFileSync(path.join(dir, '..2024_01_02_v2', 'gateway.yaml'), 'v: 2\n');
    symlinkSync('..2024_01_02_v2', path.join(dir, '..data_tmp'));
    renameSync(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
    rmSync(path.join(dir, '..2024_01_01_v1'), { recursive: true });
    await waitFor(() => t.flat().length > 0);
    expect(t.flat()).toEqual(['change gateway.yaml']);
  });

  it('reports a removed folder, keeps quiet while it is gone, and picks it up again when it returns', async () => {
    const parent = tempDir('mcp-gateway-watch-parent-');
    const dir = path.join(parent, 'pipelines');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'a.yaml'), 'a: 1\n');
    const t = watchTemp(yamlOnly, dir);
    watcher = t.watcher;
    await watcher.ready;

    rmSync(dir, { recursive: true });
    await waitFor(() => t.errors.some((e) => e.code === 'FOLDER_REMOVED'));
    // Its files are not reported removed: they keep their last version.
    expect(t.flat()).toEqual([]);

    mkdirSync(dir);
    writeFileSync(path.join(dir, 'a.yaml'), 'a: 2\n');
    writeFileSync(path.join(dir, 'b.yaml'), 'b: 1\n');
    await waitFor(() => t.flat().includes('add b.yaml'), { message: 'the folder came back' });
    expect(t.flat()).toEqual(['change a.yaml', 'add b.yaml']);

    // Watched again by events, not only by polling.
    writeFileSync(path.join(dir, 'c.yaml'), 'c: 1\n');
    await waitFor(() => t.flat().includes('add c.yaml'));
    expect(t.errors.map((e) => e.code)).toEqual(['FOLDER_REMOVED']);
  });

  it('waits for a folder that does not exist yet', async () => {
    const dir = path.join(tempDir('mcp-gateway-watch-parent-'), 'later');
    const t = watchTemp(yamlOnly, dir);
    watcher = t.watcher;
    await watcher.ready;
    expect(t.errors.map((e) => e.code)).toEqual(['FOLDER_MISSING']);
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'x.yaml'), 'x: 1\n');
    await waitFor(() => t.flat().includes('add x.yaml'));
  });

  it('never runs onChange twice at once, and a throwing onChange is reported, not fatal', async () => {
    const dir = tempDir('mcp-gateway-watch-');
    let running = 0;
    let overlapped = false;
    let calls = 0;
    const errors: WatchError[] = [];
    let release: () => void = () => {};
    watcher = watchFolder({
      folder: dir,
      include: yamlOnly,
      onChange: async () => {
        calls++;
        running++;
        if (running > 1) overlapped = true;
        if (calls === 1) await new Promise<void>((resolve) => (release = resolve));
        running--;
        if (calls === 2) throw new Error('boom');
      },
      onError: (err) => errors.push(err),
      debounceMs: 20,
    });
    await watcher.ready;
    writeFileSync(path.join(dir, 'a.yaml'), '1');
    await waitFor(() => calls === 1);
    writeFileSync(path.join(dir, 'a.yaml'), '2');
    // A rescan asked for while the first handler still runs waits for it, then runs.
    const second = watcher.rescan();
    release();
    await second;
    await waitFor(() => calls === 2);
    await waitFor(() => errors.length === 1);
    expect(overlapped).toBe(false);
    expect(errors[0]?.code).toBe('HANDLER_FAILED');
    expect(errors[0]?.message).toMatch(/boom/);
    writeFileSync(path.join(dir, 'a.yaml'), '3');
    await waitFor(() => calls === 3);
  });
});
