/**
 * The gateway's live tool surface: each server's policy (from the config as it is now, so a reload of
 * filters applies without restarting the backend), pinned definitions, and what was renamed or
 * changed, for list_servers. Every path a client controls that reaches a backend tool — its served
 * name, call_backend, a custom pipeline, search mode's call_tool — asks {@link Surface.toolVisible}
 * or {@link Surface.checkCall}; pipelines of the gateway's own folder do not (they run with the
 * gateway's rights).
 */
import { closest, type ServerConfig, type SurfaceSettings } from '../config/index.js';
import { GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import { definitionHash, type PinnedParts, type PinStore } from './pins.js';
import { OPEN_POLICY, SurfacePolicy } from './policy.js';

export interface SurfaceOptions {
  /** The settings a server's surface comes from now (for servers of gateway.yaml: the file as reloaded). */
  serverConfig: (server: string) => ServerConfig | undefined;
  settings: () => SurfaceSettings;
  pins: PinStore;
  logger: Logger;
  /** Tell clients (a log message to sessions that asked for them); the list change itself is sent by the table. */
  notify?: (message: string) => void;
}

/** How a call reached for a tool, for the refusal's message. */
export type CallPath = 'call_backend' | 'pipeline' | 'call_tool';

/** What list_servers shows of one server's surface. */
export interface SurfaceReport {
  /** Backend tool name → served name, where they differ by more than the prefix (overrides, shortening). */
  renamed?: Record<string, string>;
  /** Backend tools the filters hide. */
  hidden?: string[];
  /** Tools whose definition changed since recorded: withheld ones wait for approval. */
  definitionChanges?: { tool: string; at: string; withheld: boolean }[];
  /** Overrides of tools the backend does not have. */
  unknownOverrides?: { tool: string; didYouMean?: string }[];
}

export class Surface {
  private readonly policies = new WeakMap<object, SurfacePolicy>();
  private readonly renamed = new Map<string, Record<string, string>>();
  private readonly hidden = new Map<string, string[]>();
  private readonly changes = new Map<string, Map<string, string>>();
  private readonly unknown = new Map<string, { tool: string; didYouMean?: string }[]>();
  /** `server\0tool\0hash` of changes already told, so a rebuild does not repeat them. */
  private readonly told = new Set<string>();

  constructor(private readonly options: SurfaceOptions) {}

  policy(server: string): SurfacePolicy {
    const settings = this.options.serverConfig(server)?.surface;
    if (!settings) return OPEN_POLICY;
    let policy = this.policies.get(settings);
    if (!policy) {
      policy = new SurfacePolicy(settings);
      this.policies.set(settings, policy);
    }
    return policy;
  }

  get settings(): SurfaceSettings {
    return this.options.settings();
  }

  get pins(): PinStore {
    return this.options.pins;
  }

  /**
   * Whether clients may reach backend tool `tool` of `server`: its filters let it through, and it is
   * not a pinned tool whose changed definition waits for approval. The one check for every path.
   */
  toolVisible(server: string, tool: string): boolean {
    const policy = this.policy(server);
    if (!policy.toolVisible(tool)) return false;
    return !(policy.pinned && this.options.pins.isPending(server, tool));
  }

  /** Throws TOOL_NOT_SERVED unless {@link toolVisible}; `call_backend` may be let through by a setting. */
  checkCall(server: string, tool: string, via: CallPath): void {
    if (via === 'call_backend' && this.settings.callBackendBypassesFilters) return;
    if (this.toolVisible(server, tool)) return;
    const withheld = this.policy(server).toolVisible(tool);
    const why = withheld
      ? `its definition changed and server '${server}' has pin: true; approve it with "mcp-gateway tools approve ${server} ${tool}"`
      : `server '${server}' does not serve it (its tools.include/exclude in the gateway config)`;
    throw new GatewayError(
      'TOOL_NOT_SERVED',
      `${via}: tool '${tool}' of server '${server}' is not served: ${why}`,
      {
        server,
        tool,
        reason: withheld ? 'withheld' : 'filtered',
      },
    );
  }

  /**
   * The tools of `server` to serve, from its listed tools: filtered, pins checked (a change is told
   * once: log, and a message to clients), and unknown overrides noted. Called on each table build.
   */
  select<T extends PinnedParts>(server: string, tools: readonly T[]): T[] {
    const policy = this.policy(server);
    const out: T[] = [];
    const hidden: string[] = [];
    const changed = new Map<string, string>();
    for (const tool of tools) {
      if (!policy.toolVisible(tool.name)) {
        hidden.push(tool.name);
        continue;
      }
      const hash = definitionHash(tool);
      const seen = this.options.pins.observe(server, tool.name, hash, !policy.pinned);
      const pending = policy.pinned && this.options.pins.isPending(server, tool.name);
      if (seen === 'changed' || pending) {
        changed.set(tool.name, new Date().toISOString());
        this.tell(server, tool.name, hash, policy.pinned);
      }
      if (!pending) out.push(tool);
    }
    const earlier = this.changes.get(server);
    for (const [tool, at] of changed) changed.set(tool, earlier?.get(tool) ?? at);
    // An unpinned change stays reported until the gateway restarts; a pinned one until approved.
    for (const [tool, at] of earlier ?? []) if (!changed.has(tool) && !policy.pinned) changed.set(tool, at);
    this.changes.set(server, changed);
    this.hidden.set(server, hidden);
    this.noteUnknownOverrides(server, policy, tools);
    return out;
  }

  /** The served names that differ from `<prefix><tool>`, recorded by the table on each build. */
  setRenamed(server: string, renamed: Record<string, string>): void {
    if (Object.keys(renamed).length === 0) this.renamed.delete(server);
    else this.renamed.set(server, renamed);
  }

  report(server: string): SurfaceReport {
    const policy = this.policy(server);
    const renamed = this.renamed.get(server);
    const hidden = this.hidden.get(server);
    const changes = [...(this.changes.get(server) ?? [])].map(([tool, at]) => ({
      tool,
      at,
      withheld: policy.pinned && this.options.pins.isPending(server, tool),
    }));
    const unknown = this.unknown.get(server);
    return {
      ...(renamed ? { renamed } : {}),
      ...(hidden?.length ? { hidden } : {}),
      ...(changes.length ? { definitionChanges: changes } : {}),
      ...(unknown?.length ? { unknownOverrides: unknown } : {}),
    };
  }

  private tell(server: string, tool: string, hash: string, pinned: boolean): void {
    const key = `${server}\0${tool}\0${hash}`;
    if (this.told.has(key)) return;
    if (this.told.size >= 10_000) this.told.clear();
    this.told.add(key);
    const message = pinned
      ? `tool '${tool}' of server '${server}' changed its definition; it is withheld until approved ` +
        `("mcp-gateway tools approve ${server} ${tool}" or the approve_tool tool)`
      : `tool '${tool}' of server '${server}' changed its definition (name, description or schema); ` +
        'serving the new one (set pin: true on the server to hold changes for approval)';
    this.options.logger.warn(message);
    this.options.notify?.(message);
  }

  private noteUnknownOverrides(server: string, policy: SurfacePolicy, tools: readonly PinnedParts[]): void {
    const names = tools.map((t) => t.name);
    const unknown = policy
      .overridden()
      .filter((tool) => !names.includes(tool))
      .map((tool) => {
        const near = closest(tool, names);
        return near === undefined ? { tool } : { tool, didYouMean: near };
      });
    const before = JSON.stringify(this.unknown.get(server) ?? []);
    this.unknown.set(server, unknown);
    if (JSON.stringify(unknown) === before || tools.length === 0) return;
    for (const u of unknown) {
      this.options.logger.warn(
        `servers.${server}.tools.overrides: server '${server}' has no tool '${u.tool}'` +
          (u.didYouMean ? `; did you mean '${u.didYouMean}'?` : ''),
      );
    }
  }
}
