/**
 * The Streamable HTTP front as the gateway sets it up: both eras' legs, listen streams for modern
 * clients, tokens and auth rules read from the live config, call limits, the replica forwarder and,
 * when on, the web console — all wired to the gateway's shared parts.
 */
import type { IncomingMessage } from 'node:http';
import { accessOf, mayWatch, stepUpCheck } from './access-check.js';
import type { ClusterSync } from './cluster-sync.js';
import type { ConsoleGuard } from './console-host.js';
import type { GatewayParts } from './gateway-parts.js';
import { createSession } from './gateway-sessions.js';
import { checkHttpSettings, type HttpFront, startHttpFront } from './http.js';
import { endpointOf } from './http-endpoints.js';
import { httpCallLimits } from './http-limits.js';
import type { ModernLeg } from './http-modern.js';
import { ListenSubscriptions } from './listen-subscriptions.js';
import type { MetricsSource } from './metrics-http.js';
import { advertisedUrl, checkAdvertiseUrl, replicaForwarder } from './replica-forward.js';

export interface HttpOverrides {
  host?: string;
  port?: number;
}

/** Throws the USAGE error `serveHttpFront` would for these settings, without listening or starting anything. */
export function checkHttpFront(parts: GatewayParts, overrides: HttpOverrides = {}): void {
  checkHttpSettings({ ...parts.config().http, ...definedOnly(overrides) });
  if (parts.cluster) checkAdvertiseUrl(parts.config().cluster.advertiseUrl);
}

/** `metrics`: what `/metrics` serves (see src/observability); without it, `/metrics` is 404. */
export async function serveHttpFront(
  parts: GatewayParts,
  overrides: HttpOverrides = {},
  metrics?: MetricsSource,
): Promise<HttpFront> {
  const settings = { ...parts.config().http, ...definedOnly(overrides) };
  // Resource updates for modern clients' listen streams go through the front's bus, which filters
  // each stream by the URIs it listed; bound once the front exists.
  const legs = new Set<ModernLeg>();
  const listens = new ListenSubscriptions(
    parts.hub,
    (n) => {
      if (n.method !== 'notifications/resources/updated') return;
      for (const leg of legs) leg.resourceUpdated(n.params.uri);
    },
    parts.logger.child('http'),
  );
  parts.onClose(async () => listens.close());
  const front = await startHttpFront({
    modernLeg: {
      listen: (uris, signal) => listens.open(uris, signal),
      mayListen: (uris, authInfo) =>
        mayWatch(
          parts.hub,
          accessOf(authInfo, () => parts.config().http.auth),
          uris,
        ),
    },
    settings,
    ...(metrics ? { metrics } : {}),
    createSession: (profile) => createSession(parts, 'http', { profile }),
    createModernServer: (profile) =>
      createSession(parts, 'http', { era: 'modern', perRequest: true, profile }),
    profiles: () => parts.profiles.names(),
    onModernLeg: (leg, profile) => {
      legs.add(leg);
      const unwire = wireModernLeg(parts, leg, profile);
      return () => {
        legs.delete(leg);
        unwire();
      };
    },
    // Read on each request: a saved gateway.yaml changes which token opens which profile at once.
    tokens: () => ({
      ...(settings.token !== undefined ? { token: settings.token } : {}),
      tokens: parts.config().http.tokens ?? [],
    }),
    authRules: () => parts.config().http.auth?.rules,
    maxBodyBytes: () => parts.config().limits.maxMessageBytes,
    stepUp: stepUpCheck(parts.table, () => parts.config().http.auth),
    logger: parts.logger.child('http'),
    // Ready: serving (the config loaded before this), and Redis answering when there is a cluster.
    ready: () => parts.cluster?.reachable() ?? true,
    limitCall: httpCallLimits({
      limiter: parts.limiter,
      inFlight: parts.inFlight,
      table: parts.table,
      profile: profileOfRequest,
    }),
    ...(parts.cluster ? { forward: forwarder(parts, parts.cluster) } : {}),
    // Loaded only when on: with the console off, none of its code is read.
    ...(settings.console
      ? {
          console: async (guard: ConsoleGuard) => {
            const { loadConsole } = await import('./console-host.js');
            return loadConsole(
              {
                registry: parts.registry,
                table: parts.table,
                pipelines: parts.pipelines,
                hub: parts.hub,
                gate: parts.gate,
                config: () => parts.config(),
                logger: parts.logger.child('console'),
              },
              guard,
            );
          },
        }
      : {}),
  });
  parts.cluster?.advertise(advertisedUrl(parts.config().cluster.advertiseUrl, front.url));
  return front;
}

/**
 * Modern clients hear of changes through subscriptions/listen, which each endpoint's leg serves from
 * its own bus: `/mcp` follows the whole table, `/mcp/<profile>` that profile's view only (a reload
 * of one profile tells its listeners, not everyone's).
 */
function wireModernLeg(parts: GatewayParts, leg: ModernLeg, profile: string | undefined): () => void {
  const table = profile === undefined ? parts.table : parts.profiles.table(profile);
  const onTools = () => leg.toolsChanged();
  table.on('changed', onTools);
  const offHub = parts.hub.addListener((n) => {
    if (n.method === 'notifications/prompts/list_changed') leg.promptsChanged();
    else if (n.method === 'notifications/resources/list_changed') leg.resourcesChanged();
  });
  return () => {
    table.off('changed', onTools);
    offHub();
  };
}

/** A retry owed to another replica goes there (replica-forward.ts). */
function forwarder(parts: GatewayParts, cluster: ClusterSync) {
  return replicaForwarder({
    self: parts.bridge.replica,
    lookup: (name) => cluster.addressOf(name),
    logger: parts.logger.child('forward'),
  });
}

/** The profile whose endpoint (`/mcp/<profile>`) a request came to, for `rate_limits.per_profile`. */
function profileOfRequest(req: IncomingMessage): string | undefined {
  const endpoint = endpointOf(new URL(req.url ?? '/', 'http://gateway').pathname);
  return typeof endpoint === 'object' ? endpoint.profile : undefined;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
