/**
 * The diff behind a config reload: which backends to start, restart, stop, or leave alone so that the
 * backends that came from a config file match the file again. Pure, so it is tested without processes.
 */
import type { ServerConfig, ServerSource } from '../config/types.js';

export interface ReconcilePlan {
  /** In the file, not running: start. */
  add: ServerConfig[];
  /** In the file with different settings: restart with these. */
  replace: ServerConfig[];
  /** From this file, no longer in it (or now `enabled: false`): stop. */
  remove: string[];
  /** Same settings: not touched (same process). */
  unchanged: string[];
  /** In the file, but the name belongs to a backend from elsewhere, which keeps it. */
  clashes: { name: string; holder: ServerSource }[];
  /**
   * Back to the settings the serving instance runs with while a replacement from an earlier reload
   * was still not ready: that replacement is dropped. Filled by the registry, not by the plan.
   */
  cancelled: string[];
}

/**
 * @param running every backend the registry has (from any source), with the settings it runs with
 * @param next the servers the file now defines, disabled ones included
 * @param file the config file, as in `source.file`: only backends from it are changed
 */
export function planReconcile(
  running: readonly ServerConfig[],
  next: readonly ServerConfig[],
  file: string,
): ReconcilePlan {
  const plan: ReconcilePlan = { add: [], replace: [], remove: [], unchanged: [], clashes: [], cancelled: [] };
  const byName = new Map(running.map((s) => [s.name, s]));
  const wanted = new Set<string>();
  for (const server of next) {
    if (!server.enabled) continue;
    wanted.add(server.name);
    const current = byName.get(server.name);
    if (!current) plan.add.push(server);
    else if (!fromFile(current, file)) plan.clashes.push({ name: server.name, holder: current.source });
    else if (sameBackend(current, server)) plan.unchanged.push(server.name);
    else plan.replace.push(server);
  }
  for (const server of running) {
    if (fromFile(server, file) && !wanted.has(server.name)) plan.remove.push(server.name);
  }
  return plan;
}

/** Whether two configs start the same backend; `source` and `enabled` do not count. */
export function sameBackend(a: ServerConfig, b: ServerConfig): boolean {
  return canonical(settings(a)) === canonical(settings(b));
}

/** The settings a running backend was started with; a change in any of them means a restart. */
function settings(server: ServerConfig): Record<string, unknown> {
  const common = {
    description: server.description,
    timeoutMs: server.timeoutMs,
    retryOnCrash: server.retryOnCrash,
    // Served names come from it: a new prefix is a new backend to clients, so it starts afresh.
    prefix: server.prefix,
  };
  if (server.transport === 'stdio') {
    const { command, args, env, cwd } = server;
    return { ...common, transport: 'stdio', command, args, env, cwd };
  }
  const { url, headers, httpTransport, oauth, forwardCallerToken, tokenExchange } = server;
  return {
    ...common,
    transport: 'http',
    url,
    headers,
    httpTransport,
    oauth,
    forwardCallerToken,
    tokenExchange,
  };
}

function fromFile(server: ServerConfig, file: string): boolean {
  return server.source.kind === 'config' && server.source.file === file;
}

/** JSON with object keys sorted, so `env: {A, B}` equals `env: {B, A}`; undefined fields drop out. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
