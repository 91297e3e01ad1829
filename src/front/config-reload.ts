/**
 * Hot reload of the config file: read it again, and apply what changed to the running gateway. An
 * invalid file changes nothing. Backends go through `BackendRegistry.reconcile`; the rest of the
 * config is compared here.
 */
import type { BackendRegistry, ReconcilePlan } from '../backends/index.js';
import {
  type AuthSettings,
  type ConfigIssue,
  formatIssue,
  type GatewayConfig,
  loadConfigFile,
} from '../config/index.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';

export type ReloadResult =
  | { ok: true; file: string; plan: ReconcilePlan; settings: SettingsChange }
  /** The file is invalid (or unreadable): nothing changed. */
  | { ok: false; file: string; issues: ConfigIssue[] };

/** Where the config that serves came from, and whether the file on disk is currently broken. */
export interface ConfigStatus {
  file?: string;
  /** When the config that serves was read. */
  loadedAt: Date;
  reloads: number;
  /** Set while the file's latest version is invalid; cleared by a successful reload. */
  error?: { at: Date; issues: string[] };
  /**
   * Servers whose changed settings have not started yet (the previous instance keeps serving), with
   * why the new one failed when it did.
   */
  pendingChanges?: { server: string; status: string; error?: string }[];
}

/** What changed besides the servers, and what of it cannot apply without a restart. */
export interface SettingsChange {
  toolGroups: boolean;
  defaultTimeout: boolean;
  allowCommands: boolean;
  allowUrlHosts: boolean;
  maxRuntimeBackends: boolean;
  /** `http.auth.rules` changed: they apply from the next request. */
  authRules: boolean;
  /** The pipelines folder moved: it is watched and loaded from its new place. */
  pipelines: boolean;
  /** Settings that changed in the file but keep their old value until a restart, by config key. */
  restartNeeded: string[];
}

export interface ConfigReloaderOptions {
  registry: BackendRegistry;
  logger: Logger;
  /** The config serving now. */
  current(): GatewayConfig;
  /** Make `config` the one that serves; called only for a valid file. */
  apply(config: GatewayConfig): void;
  /** Send tools/list_changed (the tool groups changed). */
  invalidateTools(): void;
  /** The pipelines folder moved (the new config is applied already); awaited before the next reload. */
  pipelinesMoved?(from: string, to: string): Promise<void>;
  /** Grace for calls in flight on removed or restarted backends; default each backend's timeout. */
  graceMs?: number;
}

export class ConfigReloader {
  private readonly state: { loadedAt: Date; reloads: number; error?: ConfigStatus['error'] } = {
    loadedAt: new Date(),
    reloads: 0,
  };
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: ConfigReloaderOptions) {}

  status(): ConfigStatus {
    const file = this.options.current().file;
    const pendingChanges = this.options.registry.names().flatMap((server) => {
      const change = this.options.registry.pendingChange(server);
      if (!change) return [];
      return [
        { server, status: change.status, ...(change.error === undefined ? {} : { error: change.error }) },
      ];
    });
    return {
      ...(file === undefined ? {} : { file }),
      ...this.state,
      ...(pendingChanges.length ? { pendingChanges } : {}),
    };
  }

  /** Reloads run one at a time, in the order asked. Undefined when the gateway has no config file. */
  reload(): Promise<ReloadResult | undefined> {
    const next = this.queue.then(() => this.reloadNow());
    this.queue = next.catch(() => {});
    return next;
  }

  private async reloadNow(): Promise<ReloadResult | undefined> {
    const { logger } = this.options;
    const current = this.options.current();
    const file = current.file;
    if (!file) return undefined;
    const result = await loadConfigFile(file);
    for (const warning of result.warnings) logger.warn(formatIssue(warning));
    if (!result.ok) {
      const lines = result.errors.map(formatIssue);
      this.state.error = { at: new Date(), issues: lines };
      logger.error(
        `${file} is invalid (${plural(lines.length, 'problem')}); the gateway keeps running on its last good config:`,
      );
      for (const line of lines) logger.error(line);
      return { ok: false, file, issues: result.errors };
    }

    const next = result.config;
    const settings = compareSettings(current, next);
    const applied: GatewayConfig = {
      ...next,
      // Bound when the gateway started; they keep their value until a restart. The register_server
      // policy and http.tokens are read on each call, so they apply from the next one.
      http: {
        ...current.http,
        allowCommands: next.http.allowCommands,
        allowUrlHosts: next.http.allowUrlHosts,
        // Which static token opens which profile is read on each request (http-endpoints.ts).
        tokens: next.http.tokens,
        ...liveAuth(current.http.auth, next.http.auth),
      },
    };
    this.options.apply(applied);
    if (settings.defaultTimeout) this.options.registry.setDefaultTimeout(next.defaultTimeoutMs);
    let plan: ReconcilePlan;
    try {
      plan = this.options.registry.reconcile(next.servers, file, { graceMs: this.options.graceMs });
    } catch (err) {
      // Only a registry already closed (the gateway is shutting down) throws here.
      logger.warn(`reloading ${file}: ${errorMessage(err)}`);
      plan = { add: [], replace: [], remove: [], unchanged: [], clashes: [], cancelled: [] };
    }
    // New rules change what restricted callers list: the sessions hear list_changed and ask again.
    if (settings.toolGroups || settings.authRules) this.options.invalidateTools();
    if (settings.pipelines) {
      try {
        await this.options.pipelinesMoved?.(current.pipelinesDir, next.pipelinesDir);
      } catch (err) {
        logger.warn(`reloading pipelines from ${next.pipelinesDir}: ${errorMessage(err)}`);
      }
    }
    delete this.state.error;
    this.state.loadedAt = new Date();
    this.state.reloads++;
    this.report(file, plan, settings);
    return { ok: true, file, plan, settings };
  }

  private report(file: string, plan: ReconcilePlan, settings: SettingsChange): void {
    const { logger } = this.options;
    for (const { name, holder } of plan.clashes) {
      const who = holder.kind === 'runtime' ? 'registered at runtime' : `auto-registered from ${holder.file}`;
      logger.warn(
        `${file}: server '${name}' is not started: the name is taken by a server ${who}, which keeps it; ` +
          `rename the entry, or remove that server and save ${file} again`,
      );
    }
    if (settings.restartNeeded.length) {
      logger.warn(
        `${file}: ${settings.restartNeeded.join(', ')} changed; restart the gateway to apply (the old values stay in effect)`,
      );
    }
    const done = [
      plan.add.length ? `started ${names(plan.add)}` : '',
      plan.replace.length ? `restarting ${names(plan.replace)}` : '',
      plan.remove.length ? `stopping ${plan.remove.join(', ')}` : '',
      plan.cancelled.length ? `dropped the pending restart of ${plan.cancelled.join(', ')}` : '',
      settings.toolGroups ? 'tool groups changed' : '',
      settings.defaultTimeout ? 'default timeout changed' : '',
      settings.allowCommands ? 'http.allow_commands changed' : '',
      settings.allowUrlHosts ? 'http.allow_url_hosts changed' : '',
      settings.authRules ? 'http.auth.rules changed' : '',
      settings.maxRuntimeBackends ? 'limits.max_runtime_backends changed' : '',
      settings.pipelines ? 'pipelines folder changed' : '',
    ].filter(Boolean);
    const unchanged = plan.unchanged.length ? `; ${plan.unchanged.length} server(s) unchanged` : '';
    if (done.length) logger.info(`reloaded ${file}: ${done.join('; ')}${unchanged}`);
    else logger.debug(`reloaded ${file}: nothing changed${unchanged}`);
  }
}

/** What differs between two configs apart from the servers. */
export function compareSettings(before: GatewayConfig, after: GatewayConfig): SettingsChange {
  const a = before.http;
  const b = after.http;
  const restartNeeded = [
    a.host !== b.host ? 'http.host' : '',
    a.port !== b.port ? 'http.port' : '',
    a.token !== b.token ? 'http.token' : '',
    !sameList(a.allowedHosts, b.allowedHosts) ? 'http.allowed_hosts' : '',
    !sameJson(boundAuth(a.auth), boundAuth(b.auth)) ? 'http.auth' : '',
  ].filter(Boolean);
  const t = before.tools;
  const u = after.tools;
  return {
    toolGroups: t.meta !== u.meta || t.backends !== u.backends || t.pipelines !== u.pipelines,
    defaultTimeout: before.defaultTimeoutMs !== after.defaultTimeoutMs,
    allowCommands: !sameJson(a.allowCommands, b.allowCommands),
    allowUrlHosts: !sameJson(a.allowUrlHosts, b.allowUrlHosts),
    // Rules apply live only where http.auth was on at start (the authenticator is bound then).
    authRules: a.auth !== undefined && b.auth !== undefined && !sameJson(a.auth.rules, b.auth.rules),
    maxRuntimeBackends: before.limits.maxRuntimeBackends !== after.limits.maxRuntimeBackends,
    pipelines: before.pipelinesDir !== after.pipelinesDir,
    restartNeeded,
  };
}

/**
 * `http.auth` as reloaded: its rules (read on each request, src/front/access-check.ts) from the new
 * file; the issuer, audience and the rest stay as the authenticator was built at start.
 */
function liveAuth(current: AuthSettings | undefined, next: AuthSettings | undefined) {
  const bound = boundAuth(current);
  if (!bound || !next) return {};
  return { auth: next.rules ? { ...bound, rules: next.rules } : bound };
}

/** `http.auth` without its rules: what a reload cannot change. */
function boundAuth(auth: AuthSettings | undefined): Omit<AuthSettings, 'rules'> | undefined {
  if (!auth) return undefined;
  const { rules: _rules, ...bound } = auth;
  return bound;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Parsed allow-list entries are plain data; an IP range holds bigints, which JSON cannot show. */
function sameJson(a: unknown, b: unknown): boolean {
  const text = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));
  return text(a) === text(b);
}

function names(servers: readonly { name: string }[]): string {
  return servers.map((s) => s.name).join(', ');
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
