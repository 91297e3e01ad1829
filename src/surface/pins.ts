/**
 * Pinned tool definitions. A backend that quietly changes a tool's description or schema changes
 * what models are told — a "rug pull" if the backend is not the user's own. The gateway records a
 * hash of each served tool's definition the first time it sees it; a later different hash is a
 * change: reported always, and for a server with `pin: true` held back until approved.
 *
 * The record is one JSON file (`surface.pins_file`), written whole through a temporary file and a
 * rename, so a reader never sees half of it. `mcp-gateway tools approve` edits the same file; the
 * running gateway notices (it polls the file's mtime: no watcher to leak, works on every file
 * system) and takes the approvals from it. Each writer re-reads before writing, so the window in
 * which one could lose the other's edit is one read-modify-write.
 */
import { createHash } from 'node:crypto';
import {
  mkdirSync,
  readFileSync,
  renameSync,
  type StatWatcher,
  unwatchFile,
  watchFile,
  writeFileSync,
} from 'node:fs';
import { dirname } from 'node:path';

/** What a pin is taken of: everything a model is told about the tool. */
export interface PinnedParts {
  name: string;
  title?: string;
  description?: string;
  inputSchema?: unknown;
  outputSchema?: unknown;
}

interface Entry {
  hash: string;
  /** ISO time it was recorded or approved. */
  at: string;
}

/** A change not yet approved: the recorded hash stays in `tools`, the new one waits here. */
interface Pending extends Entry {
  was: string;
}

export interface PinFile {
  version: 1;
  /** Server → backend tool name → the approved definition's hash. */
  tools: Record<string, Record<string, Entry>>;
  /** Server → backend tool name → a changed definition waiting for approval. */
  pending: Record<string, Record<string, Pending>>;
}

export type Observation = 'new' | 'same' | 'changed';

export function definitionHash(tool: PinnedParts): string {
  const parts = {
    name: tool.name,
    title: tool.title,
    description: tool.description,
    inputSchema: tool.inputSchema,
    outputSchema: tool.outputSchema,
  };
  return createHash('sha256').update(canonical(parts)).digest('hex');
}

/** JSON with object keys sorted, so the hash does not depend on key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

export function emptyPins(): PinFile {
  return { version: 1, tools: {}, pending: {} };
}

/** The file's content, or an empty record when it is missing or unreadable (it is rebuilt). */
export function readPins(file: string): PinFile {
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as Partial<PinFile>;
    if (data?.version !== 1) return emptyPins();
    return { version: 1, tools: data.tools ?? {}, pending: data.pending ?? {} };
  } catch {
    return emptyPins();
  }
}

export function writePins(file: string, pins: PinFile): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(pins, null, 2)}\n`);
  renameSync(tmp, file);
}

/**
 * Approve the pending change of `tool` on `server` in `file` (the CLI's `tools approve`): its new
 * hash becomes the recorded one. Returns false when nothing is pending for it.
 */
export function approveInFile(file: string, server: string, tool: string): boolean {
  const pins = readPins(file);
  const pending = pins.pending[server]?.[tool];
  if (!pending) return false;
  const tools = pins.tools[server] ?? {};
  pins.tools[server] = tools;
  tools[tool] = { hash: pending.hash, at: new Date().toISOString() };
  delete pins.pending[server]?.[tool];
  if (Object.keys(pins.pending[server] ?? {}).length === 0) delete pins.pending[server];
  writePins(file, pins);
  return true;
}

/** The pending changes in `file`, for `tools pending` and messages. */
export function pendingInFile(file: string): { server: string; tool: string; at: string }[] {
  const pins = readPins(file);
  return Object.entries(pins.pending).flatMap(([server, tools]) =>
    Object.entries(tools).map(([tool, p]) => ({ server, tool, at: p.at })),
  );
}

/** The running gateway's view of the pins file. */
export class PinStore {
  private pins: PinFile;
  private watching: { file: string; listener: (curr: { mtimeMs: number }) => void } | undefined;
  private readonly listeners = new Set<() => void>();

  constructor(private file: string) {
    this.pins = readPins(file);
  }

  /**
   * Records `hash` for the tool: `new` the first time (recorded as approved), `same` when it equals
   * the approved one, `changed` otherwise. A change is recorded as pending (once per new hash);
   * `accept` records it as approved at once (a server without `pin`).
   */
  observe(server: string, tool: string, hash: string, accept: boolean): Observation {
    const approved = this.pins.tools[server]?.[tool];
    const at = new Date().toISOString();
    if (!approved) {
      this.update((p) => {
        p.tools[server] = { ...p.tools[server], [tool]: { hash, at } };
      });
      return 'new';
    }
    if (approved.hash === hash) {
      if (this.pins.pending[server]?.[tool]) this.update((p) => delete p.pending[server]?.[tool]);
      return 'same';
    }
    if (accept) {
      this.update((p) => {
        p.tools[server] = { ...p.tools[server], [tool]: { hash, at } };
        delete p.pending[server]?.[tool];
      });
    } else if (this.pins.pending[server]?.[tool]?.hash !== hash) {
      this.update((p) => {
        p.pending[server] = { ...p.pending[server], [tool]: { hash, at, was: approved.hash } };
      });
    }
    return 'changed';
  }

  /** Whether a change of the tool waits for approval. */
  isPending(server: string, tool: string): boolean {
    return this.pins.pending[server]?.[tool] !== undefined;
  }

  pendingOf(server: string): { tool: string; at: string }[] {
    return Object.entries(this.pins.pending[server] ?? {}).map(([tool, p]) => ({ tool, at: p.at }));
  }

  /** Approve the pending change (the approve_tool meta tool); false when nothing is pending. */
  approve(server: string, tool: string): boolean {
    const ok = approveInFile(this.file, server, tool);
    this.pins = readPins(this.file);
    if (ok) this.emit();
    return ok;
  }

  /** Follow edits of the file by `mcp-gateway tools approve`; `listener` runs after each. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Start polling the file (every `intervalMs`); `close` stops. */
  watch(intervalMs = 500): void {
    if (this.watching) return;
    const file = this.file;
    const listener = () => {
      const next = readPins(file);
      if (JSON.stringify(next) === JSON.stringify(this.pins)) return;
      this.pins = next;
      this.emit();
    };
    const watcher: StatWatcher = watchFile(file, { interval: intervalMs, persistent: false }, listener);
    watcher.unref?.();
    this.watching = { file, listener };
  }

  /** The pins file moved (a reload changed `surface.pins_file`). */
  moveTo(file: string): void {
    if (file === this.file) return;
    const watched = this.watching !== undefined;
    this.close();
    this.file = file;
    this.pins = readPins(file);
    if (watched) this.watch();
    this.emit();
  }

  close(): void {
    if (this.watching) unwatchFile(this.watching.file, this.watching.listener);
    this.watching = undefined;
  }

  private update(change: (pins: PinFile) => void): void {
    // Re-read first: the CLI may have approved something since the last poll.
    const pins = readPins(this.file);
    change(pins);
    this.pins = pins;
    try {
      writePins(this.file, pins);
    } catch {
      // A read-only data dir: pins still work for this run, from memory.
    }
  }

  private emit(): void {
    for (const listener of this.listeners) listener();
  }
}
