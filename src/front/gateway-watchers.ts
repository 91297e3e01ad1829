/**
 * The gateway's hot reload watchers: the config file, and the pipelines folder — followed when a
 * config reload moves it. Each watcher is closed with the gateway.
 */
import { dirname } from 'node:path';
import type { Logger } from '../log.js';
import { telemetry } from '../observability/index.js';
import { isPipelineFile } from '../pipeline/index.js';
import { type FileChange, type FolderWatcher, type FolderWatchOptions, watchFolder } from '../watch/index.js';
import type { PipelineHost } from './pipeline-host.js';

export interface GatewayWatchersOptions {
  logger: Logger;
  pipelines: PipelineHost;
  /** `serve --pipelines DIR`: it overrides the config's folder, so a config change does not move it. */
  pipelinesDir?: string | undefined;
  /** Run `close` when the gateway closes. */
  onClose(close: () => Promise<void>): void;
}

export class GatewayWatchers {
  /** Watches the pipelines folder once `watchPipelines` is called; re-pointed when the folder moves. */
  private pipelineWatcher: FolderWatcher | undefined;

  constructor(private readonly options: GatewayWatchersOptions) {}

  /**
   * Calls `reload` on every change of the config file's content. Watches the file's folder, not the
   * file, so an editor's atomic save and a ConfigMap's `..data` swap are seen.
   */
  watchConfig(file: string, reload: () => Promise<unknown>): FolderWatcher {
    return this.watch(file, {
      folder: dirname(file),
      include: (f) => f === file,
      onChange: async () => {
        await reload();
      },
    });
  }

  /** See Gateway.watchPipelines. Calling it again returns the watcher already running. */
  watchPipelines(): FolderWatcher {
    if (this.pipelineWatcher) return this.pipelineWatcher;
    this.pipelineWatcher = this.startPipelineWatcher();
    this.options.onClose(async () => {
      const watcher = this.pipelineWatcher;
      this.pipelineWatcher = undefined;
      await watcher?.close();
    });
    return this.pipelineWatcher;
  }

  /**
   * `pipelines:` changed in the config file (already applied): watch the new folder instead of the old
   * one, then load it. `serve --pipelines DIR` overrides the config, so then nothing moves.
   */
  async pipelinesMoved(from: string, to: string): Promise<void> {
    const logger = this.options.logger.child('pipelines');
    if (this.options.pipelinesDir !== undefined) {
      logger.info(
        `pipelines changed to ${to} in the config; --pipelines ${this.options.pipelinesDir} still applies`,
      );
      return;
    }
    logger.info(`the pipelines folder moved from ${from} to ${to}`);
    const old = this.pipelineWatcher;
    if (old) {
      this.pipelineWatcher = this.startPipelineWatcher();
      await old.close();
      // Watching before reading: an edit from here on is seen by one or the other.
      await this.pipelineWatcher.ready;
    }
    await this.options.pipelines.reload();
  }

  private startPipelineWatcher(): FolderWatcher {
    const { pipelines } = this.options;
    const folder = pipelines.dir;
    return this.startWatch(folder, {
      folder,
      include: isPipelineFile,
      onChange: async (changes: FileChange[]) => {
        const files = changes.map((c) => c.file);
        const catalog = await pipelines.reload(files);
        telemetry.reloaded('pipelines', !catalog.list().some((e) => !e.valid && files.includes(e.file)));
      },
    });
  }

  private watch(what: string, options: Omit<FolderWatchOptions, 'onError'>): FolderWatcher {
    const watcher = this.startWatch(what, options);
    this.options.onClose(() => watcher.close());
    return watcher;
  }

  private startWatch(what: string, options: Omit<FolderWatchOptions, 'onError'>): FolderWatcher {
    const logger = this.options.logger.child('watch');
    const watcher = watchFolder({
      ...options,
      onError: (err) => (err.code === 'FOLDER_MISSING' ? logger.debug : logger.warn)(err.message),
    });
    void watcher.ready.then(() => logger.info(`watching ${what} for changes`));
    return watcher;
  }
}
