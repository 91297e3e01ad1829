/**
 * Watching folders for content changes: the machinery behind hot reload of the config file and of
 * the pipelines folder. A leaf: it knows files, not what they mean.
 */
export {
  type FolderWatcher,
  type FolderWatchOptions,
  WatchError,
  type WatchErrorCode,
  watchFolder,
} from './folder-watcher.js';
export type { FileChange, FileChangeKind } from './snapshot.js';
