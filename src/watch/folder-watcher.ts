import { type FSWatcher, watch } from 'chokidar';
import { type FileChange, type Snapshot, scanFolder, snapshotDiff } from './snapshot.js';

export interface FolderWatchOptions {
  /** The folder to watch; its entries only, not its subfolders. */
  folder: string;
  /**
   * Which entries count, by absolute path (`path.join(folder, name)`): the config file, or every
   * `*.yaml` of a pipelines folder. Any event in the folder triggers a rescan, since what changes
   * on disk is not always the file itself (a ConfigMap swaps its `..data` symlink); only files this
   * accepts are hashed and reported.
   */
  include: (file: string) => boolean;
  /**
   * The files whose content changed once a burst of events has settled, sorted by path. Awaited, and
   * never called again before it settles: changes apply in order. A throw goes to `onError`.
   */
  onChange: (changes: FileChange[]) => void | Promise<void>;
  /** What went wrong with the watching itself; the watcher carries on where it can. */
  onError: (error: WatchError) => void;
  /** Quiet time after the last event before rescanning, in ms. Default 75. */
  debounceMs?: number;
  /**
   * While the folder is missing (never created, or removed), and after the OS refused a watch
   * (ENOSPC), how often to look again, in ms. Default 1000.
   */
  pollMs?: number;
}

export type WatchErrorCode =
  /** The folder does not exist when watching starts; it is picked up when it appears. */
  | 'FOLDER_MISSING'
  /** The folder went away; its files keep their last version until it comes back. */
  | 'FOLDER_REMOVED'
  /** The OS ran out of watches or file handles (ENOSPC, EMFILE); the folder is polled instead. */
  | 'WATCH_LIMIT'
  /** Another error from the file watcher or from reading the folder. */
  | 'WATCH_FAILED'
  /** `onChange` threw or rejected. */
  | 'HANDLER_FAILED';

export class WatchError extends Error {
  override readonly name = 'WatchError';
  constructor(
    readonly code: WatchErrorCode,
    readonly folder: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface FolderWatcher {
  readonly folder: string;
  /** Resolves once the folder is watched (or known to be missing) and its first snapshot taken. */
  readonly ready: Promise<void>;
  /** Rescans now, past the debounce; resolves after `onChange` has handled what it found. */
  rescan(): Promise<void>;
  /** Stops watching. An `onChange` already running finishes; no new one starts. */
  close(): Promise<void>;
}

const DEFAULT_DEBOUNCE_MS = 75;
const DEFAULT_POLL_MS = 1_000;

/**
 * Watches one folder with chokidar and reports the files whose content changed: added, changed
 * (by content hash, not timestamp) and removed. Watching the folder instead of the files sees an
 * editor's atomic save (write a temp file, rename it over) and a Kubernetes ConfigMap update (a new
 * `..data` symlink renamed over the old); bursts of events are debounced into one rescan.
 */
export function watchFolder(options: FolderWatchOptions): FolderWatcher {
  return new FolderWatch(options);
}

type FolderState = 'present' | 'missing' | 'removed';

class FolderWatch implements FolderWatcher {
  readonly folder: string;
  readonly ready: Promise<void>;
  private snapshot: Snapshot = new Map();
  private fsw: FSWatcher | undefined;
  private debounceTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  /** Polling instead of (or beside) events: the folder is missing, or the OS refused a watch. */
  private polling: 'folder' | 'limit' | undefined;
  private running: Promise<void> | undefined;
  private dirty = false;
  private closed = false;
  private state: FolderState = 'present';
  private lastReadFailure: string | undefined;
  private readonly debounceMs: number;
  private readonly pollMs: number;

  constructor(private readonly options: FolderWatchOptions) {
    this.folder = options.folder;
    this.debounceMs = options.debounceMs ?? DEFAULT_DEBOUNCE_MS;
    this.pollMs = options.pollMs ?? DEFAULT_POLL_MS;
    this.ready = this.start();
  }

  rescan(): Promise<void> {
    clearTimeout(this.debounceTimer);
    return this.run();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.debounceTimer);
    this.stopPolling();
    await this.ready.catch(() => {});
    await this.stopWatcher();
  }

  private async start(): Promise<void> {
    const first = await scanFolder(this.folder, this.options.include);
    if (first.kind === 'missing') {
      this.state = 'missing';
      this.report('FOLDER_MISSING', `${this.folder} does not exist; watching for it to appear`);
      this.startPolling('folder');
      return;
    }
    if (first.kind === 'failed') {
      this.state = 'missing';
      this.reportReadFailure(first.error);
      this.startPolling('folder');
      return;
    }
    this.snapshot = first.files;
    await this.startWatcher();
    // Whatever changed between the first scan and the watch taking hold.
    this.trigger();
  }

  private async startWatcher(): Promise<void> {
    if (this.closed) return;
    const fsw = watch(this.folder, {
      depth: 0,
      // Watching alone keeps no process alive; what is served does.
      persistent: false,
      ignoreInitial: true,
      // A symlink is an entry of the folder like any other: its swap is an event here, and reading
      // the file through it (when hashing) gets the new target's content.
      followSymlinks: false,
      // Events only trigger a rescan; chokidar's own unlink/add merging would merely delay it.
      atomic: false,
    });
    this.fsw = fsw;
    const trigger = () => this.trigger();
    fsw.on('all', trigger);
    fsw.on('raw', trigger);
    fsw.on('error', (err) => this.onWatcherError(err));
    await new Promise<void>((resolve) => {
      fsw.once('ready', resolve);
    });
  }

  private async stopWatcher(): Promise<void> {
    const fsw = this.fsw;
    this.fsw = undefined;
    await fsw?.close();
  }

  private onWatcherError(err: unknown): void {
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    const message = err instanceof Error ? err.message : String(err);
    if (code === 'ENOSPC' || code === 'EMFILE') {
      const what = code === 'ENOSPC' ? 'the limit of file watches' : 'the limit of open files';
      this.report(
        'WATCH_LIMIT',
        `cannot watch ${this.folder}: the system reached ${what} (${code}); checking it every ${this.pollMs} ms instead` +
          (code === 'ENOSPC' ? ' (raise fs.inotify.max_user_watches to fix)' : ''),
        err,
      );
      this.startPolling('limit');
      return;
    }
    this.report('WATCH_FAILED', `watching ${this.folder} failed: ${message}`, err);
    this.trigger();
  }

  private trigger(): void {
    if (this.closed) return;
    clearTimeout(this.debounceTimer);
    this.debounceTimer = setTimeout(() => void this.run(), this.debounceMs);
    this.debounceTimer.unref();
  }

  /** Scans and reports until no event came in meanwhile; one run at a time. */
  private run(): Promise<void> {
    if (this.running) {
      this.dirty = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.dirty = false;
          await this.scanOnce();
        } while (this.dirty && !this.closed);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  private async scanOnce(): Promise<void> {
    if (this.closed) return;
    const scan = await scanFolder(this.folder, this.options.include);
    if (this.closed) return;
    if (scan.kind === 'missing') {
      if (this.state === 'present') {
        this.state = 'removed';
        this.report(
          'FOLDER_REMOVED',
          `${this.folder} was removed; its files stay as last read until it comes back`,
        );
        await this.stopWatcher();
        this.startPolling('folder');
      }
      return;
    }
    if (scan.kind === 'failed') {
      this.reportReadFailure(scan.error);
      return;
    }
    this.lastReadFailure = undefined;
    if (this.state !== 'present') {
      this.state = 'present';
      if (this.polling === 'folder') this.stopPolling();
      await this.startWatcher();
    }
    const changes = snapshotDiff(this.snapshot, scan.files);
    this.snapshot = scan.files;
    if (changes.length === 0) return;
    try {
      await this.options.onChange(changes);
    } catch (err) {
      this.report('HANDLER_FAILED', `handling changes in ${this.folder} failed: ${messageOf(err)}`, err);
    }
  }

  private startPolling(why: 'folder' | 'limit'): void {
    if (this.closed || this.polling) return;
    this.polling = why;
    this.pollTimer = setInterval(() => void this.run(), this.pollMs);
    this.pollTimer.unref();
  }

  private stopPolling(): void {
    clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    this.polling = undefined;
  }

  /** A folder that cannot be read is reported once per distinct reason, not at every poll. */
  private reportReadFailure(error: Error): void {
    if (this.lastReadFailure === error.message) return;
    this.lastReadFailure = error.message;
    this.report('WATCH_FAILED', `cannot read ${this.folder}: ${error.message}`, error);
  }

  private report(code: WatchErrorCode, message: string, cause?: unknown): void {
    if (this.closed) return;
    this.options.onError(new WatchError(code, this.folder, message, cause === undefined ? {} : { cause }));
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
