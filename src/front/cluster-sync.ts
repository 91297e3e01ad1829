import type { BackendRegistry } from '../backends/index.js';
import { type ClusterEvent, ClusterLink, type ReplicaStatus } from '../cluster/index.js';
import { type ClusterSettings, type GatewayConfig, serverConfigFromInput } from '../config/index.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import type { ConfigStatus } from './config-reload.js';

/**
 * Runtime registrations shared by every replica: what register_server and remove_server do on one
 * replica happens on all. Redis holds the set (the source of truth for a replica that starts later
 * or missed a message while Redis was away); pub/sub tells the others at once. Each replica starts
 * its own instance of a registered backend (one process per replica for a `command`).
 */
export interface SharedRegistrations {
  /** Takes the name cluster-wide, counting the cluster against `max`; throws when refused. */
  reserve(name: string, input: Record<string, unknown>, max: number): Promise<void>;
  /** The backend started here: every replica starts it. */
  confirm(name: string, input: Record<string, unknown>): Promise<void>;
  /** Removed (or failed to start) here: every replica removes it. */
  drop(name: string): Promise<void>;
  /** This replica's id and the status of every replica, for list_servers. */
  status(): Promise<{ replica: string; replicas: ReplicaStatus[] }>;
}

export interface ClusterSyncOptions {
  /** `cluster:` with its Redis URL set. */
  cluster: ClusterSettings & { redis: string };
  registry: BackendRegistry;
  /** The config serving now, read at each use. */
  current(): GatewayConfig;
  configStatus(): ConfigStatus;
  /** The replica name in the requestStates the bridge issues (bridge.replica, else the replica id). */
  bridgeReplica: string;
  logger: Logger;
}

/** Safety net beside pub/sub: every replica compares itself with the stored set this often. */
const RESYNC_MS = 5_000;

export class ClusterSync implements SharedRegistrations {
  readonly link: ClusterLink;
  /** Names this replica serves because the cluster holds them (registered here or elsewhere). */
  private readonly shared = new Set<string>();
  private queue: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private draining = false;
  /** Where the other replicas reach this one; set once the HTTP front listens. */
  private url: string | undefined;

  constructor(private readonly options: ClusterSyncOptions) {
    this.link = new ClusterLink(options.cluster, options.logger);
  }

  async start(): Promise<void> {
    this.link.onEvent((event) => this.onEvent(event));
    this.link.onReady(() => {
      void this.resync();
      void this.publishStatus();
    });
    await this.link.connect();
    this.timer = setInterval(() => {
      void this.resync();
      void this.publishStatus();
    }, RESYNC_MS);
    this.timer.unref();
  }

  reachable(): boolean {
    return this.link.reachable();
  }

  async reserve(name: string, input: Record<string, unknown>, max: number): Promise<void> {
    await this.link.reserve(name, input, max);
  }

  async confirm(name: string, input: Record<string, unknown>): Promise<void> {
    this.shared.add(name);
    await this.link.confirm(name, input);
  }

  async drop(name: string): Promise<void> {
    this.shared.delete(name);
    await this.link.drop(name);
  }

  async status(): Promise<{ replica: string; replicas: ReplicaStatus[] }> {
    // Internal addresses are the replicas' business, not a client's: left out of list_servers.
    const replicas = (await this.link.statuses()).map(({ url: _url, bridge: _bridge, ...shown }) => shown);
    return { replica: this.link.replica, replicas };
  }

  /** Publishes where the other replicas reach this one (the HTTP front listens there). */
  advertise(url: string): void {
    this.url = url;
    void this.publishStatus(true);
  }

  /**
   * Where the live replica that issued requestStates under `name` is reached; undefined when no live
   * replica goes by that name (gone, or its status older than 30 s) or it advertised no address.
   */
  async addressOf(name: string): Promise<{ replica: string; url?: string } | undefined> {
    const found = (await this.link.statuses()).find((s) => (s.bridge ?? s.replica) === name);
    if (!found) return undefined;
    return { replica: found.replica, ...(found.url ? { url: found.url } : {}) };
  }

  /** After a config reload (applied or refused): every replica's list_servers shows it. */
  reloaded(): void {
    void this.publishStatus(true);
  }

  /** Shutdown began: the others list this replica as draining until it leaves. */
  drainStarted(): void {
    this.draining = true;
    void this.publishStatus(true);
  }

  private async publishStatus(announce = false): Promise<void> {
    const status = this.options.configStatus();
    try {
      await this.link.putStatus(
        {
          config: status.error ? 'refused' : 'ok',
          ...(status.error ? { issues: status.error.issues } : {}),
          loadedAt: status.loadedAt.getTime(),
          ...(this.draining ? { draining: true } : {}),
          ...(this.url ? { url: this.url } : {}),
          ...(this.options.bridgeReplica !== this.link.replica ? { bridge: this.options.bridgeReplica } : {}),
        },
        announce,
      );
    } catch {
      // Redis away: the heartbeat after it returns says it all again.
    }
  }

  private onEvent(event: ClusterEvent): void {
    if (event.type === 'removed' && event.name !== undefined) {
      const name = event.name;
      this.serial(() => this.removeLocal(name, `removed on replica ${event.from}`));
    } else if (event.type === 'registered') void this.resync();
  }

  /** Makes this replica's runtime backends match the stored set. Serialised: one at a time. */
  resync(): Promise<void> {
    return this.serial(async () => {
      if (!this.link.reachable()) return;
      const stored = await this.link.registrations();
      const local = new Set(this.options.registry.names());
      for (const [name, entry] of stored) {
        if (entry.state !== 'ready' || local.has(name)) continue;
        try {
          const config = serverConfigFromInput(
            { ...entry.input, name },
            { kind: 'runtime' },
            this.options.current().baseDir,
          );
          this.options.registry.add(config);
          this.shared.add(name);
          this.options.logger.info(`started '${name}', registered on replica ${entry.by}`);
        } catch (err) {
          this.options.logger.warn(
            `cannot start '${name}' registered on replica ${entry.by}: ${errorMessage(err)}`,
          );
        }
      }
      for (const name of [...this.shared]) {
        if (!stored.has(name)) await this.removeLocal(name, 'no longer registered in the cluster');
      }
    });
  }

  private async removeLocal(name: string, why: string): Promise<void> {
    this.shared.delete(name);
    if (!this.options.registry.get(name)) return;
    this.options.logger.info(`removing '${name}': ${why}`);
    await this.options.registry.remove(name).catch((err) => {
      this.options.logger.debug(`removing '${name}': ${errorMessage(err)}`);
    });
  }

  private serial(fn: () => Promise<void>): Promise<void> {
    const next = this.queue.then(fn, fn).catch((err) => {
      this.options.logger.debug(`cluster sync: ${errorMessage(err)}`);
    });
    this.queue = next;
    return next;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.link.close();
  }
}
