/**
 * The tool surface (src/surface) wired to the running gateway: where a server's surface settings come
 * from, the pins file, and what a reload of them changes. Kept apart so gateway.ts only plugs it in.
 */
import type { BackendRegistry } from '../backends/index.js';
import type { GatewayConfig, ServerConfig } from '../config/index.js';
import type { Logger } from '../log.js';
import { PinStore, Surface } from '../surface/index.js';
import type { ListVisibility } from './aggregated-lists.js';

export interface SurfaceHostOptions {
  registry: BackendRegistry;
  config: () => GatewayConfig;
  logger: Logger;
  /** A message to clients that asked for log messages. */
  notify: (message: string) => void;
}

export function createSurface(options: SurfaceHostOptions): Surface {
  const { registry, config } = options;
  return new Surface({
    // A server of gateway.yaml takes its filters from the file as reloaded last, so changing them
    // needs no restart of the backend (reconcile.ts does not count them as its settings).
    serverConfig: (server) => {
      const running = registry.get(server)?.config;
      if (running?.source.kind !== 'config') return running;
      return config().servers.find((s) => s.name === server) ?? running;
    },
    settings: () => config().surface,
    pins: new PinStore(config().surface.pinsFile),
    logger: options.logger,
    notify: options.notify,
  });
}

/** The resource and prompt filters, for the aggregated lists. */
export function listVisibility(surface: Surface): ListVisibility {
  return (kind, server, own) => {
    const policy = surface.policy(server);
    return kind === 'resource' ? policy.resourceVisible(own) : policy.promptVisible(own);
  };
}

/** Whether a reload changed what the surface serves: a server's filters or the name length. */
export function surfaceChanged(before: GatewayConfig, after: GatewayConfig): boolean {
  if (before.surface.maxNameLength !== after.surface.maxNameLength) return true;
  const of = (servers: readonly ServerConfig[]) =>
    JSON.stringify(Object.fromEntries(servers.map((s) => [s.name, s.surface ?? null])));
  return of(before.servers) !== of(after.servers);
}
