/**
 * Validated data → `GatewayConfig`: each top-level section read by its own module (servers.ts,
 * http-settings.ts, profiles.ts, cluster.ts, surface.ts, bridge.ts, …) and put together here, with
 * the small sections (timeouts, limits, tools, pipelines, audit) read in place. Every check guards its
 * value's type, since this also runs on data that failed the schema (so that one run reports every
 * problem); such a value was already reported.
 */
import { isAbsolute, resolve } from 'node:path';
import { tokenStoreSettings } from './backend-oauth.js';
import { type BridgeConfig, bridgeConfig } from './bridge.js';
import { clusterSettings, rateLimitSettings } from './cluster.js';
import type { Env } from './expand.js';
import { httpSettings } from './http-settings.js';
import type { Problem } from './problems.js';
import { normalizeProfiles, normalizeProfileTokens } from './profiles.js';
import { normalizeServers } from './servers.js';
import { surfaceSettings } from './surface.js';
import {
  type AuditSettings,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MAX_RUNTIME_BACKENDS,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  DEFAULT_STARTUP_GRACE_MS,
  DEFAULT_TIMEOUT_MS,
  type GatewayConfig,
  type Limits,
  type ServerSource,
  type ToolGroups,
} from './types.js';
import { type Data, durationValue, has, isData, nonEmpty, sizeValue, timeoutValue } from './values.js';

export const DEFAULT_PIPELINES_DIR = 'pipelines';

const EMPTY_MEANS_ABSENT = [
  'servers',
  'mcpServers',
  'tools',
  'http',
  'limits',
  'audit',
  'bridge',
  'cluster',
  'rate_limits',
  'token_store',
];
const EMPTY_MEANS_ABSENT_IN_SERVER = ['args', 'env', 'headers'];

/**
 * `servers:` or `env:` with every entry commented out is null in YAML; read it as absent rather than
 * as a type error. Mutates `data`.
 */
export function emptyAsAbsent(data: unknown): void {
  if (!isData(data)) return;
  for (const key of EMPTY_MEANS_ABSENT) if (Object.hasOwn(data, key) && data[key] === null) delete data[key];
  for (const key of ['servers', 'mcpServers']) {
    const servers = data[key];
    if (!isData(servers)) continue;
    for (const entry of Object.values(servers)) {
      if (!isData(entry)) continue;
      for (const k of EMPTY_MEANS_ABSENT_IN_SERVER)
        if (Object.hasOwn(entry, k) && entry[k] === null) delete entry[k];
    }
  }
}
/** The whole gateway file. `data` is the validated document (an empty file is `{}`). */
export function normalizeGateway(
  data: unknown,
  ctx: { file?: string; baseDir: string; env: Env },
  problems: Problem[],
): GatewayConfig {
  const root = isData(data) ? data : {};
  const source: ServerSource = ctx.file ? { kind: 'config', file: ctx.file } : { kind: 'runtime' };
  if (has(root, 'servers') && has(root, 'mcpServers')) {
    problems.push({
      path: ['mcpServers'],
      at: 'key',
      label: [],
      text: 'use "servers" or "mcpServers", not both',
    });
  }
  const serversKey = has(root, 'servers') ? 'servers' : 'mcpServers';
  const tools = isData(root.tools) ? root.tools : {};
  const http = isData(root.http) ? root.http : {};
  const limits = isData(root.limits) ? root.limits : {};
  const pipelines = nonEmpty(root.pipelines) ?? DEFAULT_PIPELINES_DIR;
  const servers = normalizeServers(
    root[serversKey],
    [serversKey],
    { baseDir: ctx.baseDir, source, tokenStore: tokenStoreSettings(root.token_store, ctx.baseDir, ctx.env) },
    problems,
  );
  const profiles = normalizeProfiles(
    root.profiles,
    servers.map((s) => s.name),
    problems,
  );
  const tokens = normalizeProfileTokens(
    http.tokens,
    profiles.map((p) => p.name),
    problems,
    http.auth !== undefined,
  );
  return {
    ...(ctx.file ? { file: ctx.file } : {}),
    baseDir: ctx.baseDir,
    defaultTimeoutMs: timeoutValue(root.timeout, ['timeout'], problems) ?? DEFAULT_TIMEOUT_MS,
    shutdownTimeoutMs:
      timeoutValue(root.shutdown_timeout, ['shutdown_timeout'], problems) ?? DEFAULT_SHUTDOWN_TIMEOUT_MS,
    startupGraceMs:
      durationValue(root.startup_grace, ['startup_grace'], problems) ?? DEFAULT_STARTUP_GRACE_MS,
    http: { ...httpSettings(http, ctx, problems), ...(tokens.length > 0 ? { tokens } : {}) },
    limits: {
      maxMessageBytes:
        sizeValue(limits.max_message_size, ['limits', 'max_message_size'], problems) ??
        DEFAULT_MAX_MESSAGE_BYTES,
      maxRuntimeBackends:
        typeof limits.max_runtime_backends === 'number' &&
        Number.isInteger(limits.max_runtime_backends) &&
        limits.max_runtime_backends >= 0
          ? limits.max_runtime_backends
          : DEFAULT_MAX_RUNTIME_BACKENDS,
    } satisfies Limits,
    tools: {
      meta: tools.meta !== false,
      backends: tools.backends !== false,
      pipelines: tools.pipelines !== false,
    } satisfies ToolGroups,
    pipelinesDir: isAbsolute(pipelines) ? pipelines : resolve(ctx.baseDir, pipelines),
    servers,
    metrics: root.metrics === true,
    audit: auditSettings(isData(root.audit) ? root.audit : {}, ctx.baseDir),
    surface: surfaceSettings(root.surface, ctx.baseDir),
    ...bridgeEntry(root.bridge, problems),
    cluster: clusterSettings(root.cluster, ctx.env),
    rateLimits: rateLimitSettings(root.rate_limits, problems),
    ...(profiles.length > 0 ? { profiles } : {}),
  };
}

/** `bridge:` only when the file has it: the gateway applies the defaults (src/bridge). */
function bridgeEntry(raw: unknown, problems: Problem[]): { bridge?: BridgeConfig } {
  const bridge = bridgeConfig(raw, problems);
  return bridge ? { bridge } : {};
}

function auditSettings(audit: Data, baseDir: string): AuditSettings {
  const file = nonEmpty(audit.file);
  return {
    ...(typeof audit.enabled === 'boolean' ? { enabled: audit.enabled } : {}),
    ...(file !== undefined ? { file: isAbsolute(file) ? file : resolve(baseDir, file) } : {}),
  };
}

/** The config with no file: defaults only, no servers. */
export function defaultConfig(baseDir: string, env: Env = process.env): GatewayConfig {
  return normalizeGateway({}, { baseDir: resolve(baseDir), env }, []);
}
