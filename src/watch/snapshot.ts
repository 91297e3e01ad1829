import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';

export type FileChangeKind = 'add' | 'change' | 'unlink';

/** One file whose content differs from the last scan. */
export interface FileChange {
  kind: FileChangeKind;
  /** Absolute: `path.join(folder, name)`, through any symlink as the folder lists it. */
  file: string;
}

/** Content hash by file, for the files of a folder a watcher cares about. */
export type Snapshot = ReadonlyMap<string, string>;

export type ScanResult =
  | { kind: 'ok'; files: Snapshot }
  | { kind: 'missing' }
  | { kind: 'failed'; error: Error };

/**
 * Hashes every entry of `folder` that `include` accepts: regular files and symlinks, read through
 * the link (a ConfigMap's files are symlinks into `..data/`). An entry that is a folder, or went
 * away while being read, is left out; one that cannot be read gets a hash naming why, so that
 * becoming readable again counts as a change.
 */
export async function scanFolder(folder: string, include: (file: string) => boolean): Promise<ScanResult> {
  let names: string[];
  try {
    const entries = await readdir(folder, { withFileTypes: true });
    names = entries.filter((e) => e.isFile() || e.isSymbolicLink()).map((e) => e.name);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'missing' };
    return { kind: 'failed', error: err instanceof Error ? err : new Error(String(err)) };
  }
  const files = names.map((name) => path.join(folder, name)).filter(include);
  const hashes = await Promise.all(files.map(async (file) => [file, await hashFile(file)] as const));
  const snapshot = new Map<string, string>();
  for (const [file, hash] of hashes.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (hash !== undefined) snapshot.set(file, hash);
  }
  return { kind: 'ok', files: snapshot };
}

/** What changed from `before` to `after`, sorted by file. */
export function snapshotDiff(before: Snapshot, after: Snapshot): FileChange[] {
  const changes: FileChange[] = [];
  for (const [file, hash] of after) {
    const old = before.get(file);
    if (old === undefined) changes.push({ kind: 'add', file });
    else if (old !== hash) changes.push({ kind: 'change', file });
  }
  for (const file of before.keys()) if (!after.has(file)) changes.push({ kind: 'unlink', file });
  return changes.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

/** sha256 of the content, streamed so a stray huge file costs no memory; undefined when absent. */
function hashFile(file: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const hash = createHash('sha256');
    const stream = createReadStream(file);
    stream.on('data', (chunk) => hash.update(chunk));
    stream.on('end', () => resolve(hash.digest('hex')));
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'EISDIR' || err.code === 'ELOOP') resolve(undefined);
      else resolve(`unreadable:${err.code ?? err.message}`);
    });
  });
}
