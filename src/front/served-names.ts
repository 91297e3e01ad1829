import { type ServerConfig, type ServerSource, servedPrefix } from '../config/index.js';
import { gatewayUri } from './resource-uri.js';

/**
 * How each backend's names are served, from its `prefix:` setting: tool and prompt names get the
 * prefix (`<name>__` unless set), resource URIs are served as `mcpgw://<server>/<uri>` — or, for a
 * backend with `prefix: ""`, everything is served as the backend says it (transparent serving).
 *
 * Names of different backends can then meet (two transparent backends with a tool of one name, a
 * backend tool called like one of the gateway's own): `pickServed` decides which one is served, by
 * the rule in {@link precedence}, and the others are reported (name-clashes.ts), never dropped
 * silently.
 */
/** What {@link ServedNames} reads of the backend registry. */
export interface NamedBackends {
  names(): string[];
  get(name: string): { readonly config: ServerConfig } | undefined;
}

export class ServedNames {
  constructor(
    private readonly registry: NamedBackends,
    /** Server names of the config file as it is now, in file order. */
    private readonly fileOrder: () => readonly string[],
  ) {}

  prefix(server: string): string {
    const backend = this.registry.get(server);
    return backend ? servedPrefix(backend.config) : servedPrefix({ name: server });
  }

  /** A backend's tool or prompt name as served. */
  name(server: string, name: string): string {
    return `${this.prefix(server)}${name}`;
  }

  /** A backend's resource URI (or URI template) as served. */
  uri(server: string, uri: string): string {
    return this.prefix(server) === '' ? uri : gatewayUri(server, uri);
  }

  /** Servers whose names and URIs are served unchanged, in {@link precedence} order. */
  transparent(): string[] {
    return this.precedence().filter((server) => this.prefix(server) === '');
  }

  /**
   * The backend whose prefix begins `name` (the longest one, then the first by precedence) and the
   * backend's own name: where a served name points before any list has been seen. A transparent
   * backend matches every name, so it is the answer only when no prefixed backend is.
   */
  owner(name: string): { server: string; name: string } | undefined {
    let best: { server: string; name: string; length: number } | undefined;
    for (const server of this.precedence()) {
      const prefix = this.prefix(server);
      if (!name.startsWith(prefix) || name.length === prefix.length) continue;
      if (best === undefined || prefix.length > best.length)
        best = { server, name: name.slice(prefix.length), length: prefix.length };
    }
    return best && { server: best.server, name: best.name };
  }

  /**
   * The order in which backends win a name they share: servers of the config file first, in file
   * order; then those of `--auto-register` files; then those added by `register_server`, oldest
   * first. It depends on the configuration only, not on which backend connected first.
   */
  precedence(): string[] {
    const file = this.fileOrder();
    const names = this.registry.names();
    const key = (server: string, index: number): [number, number, number] => {
      const source = this.registry.get(server)?.config.source;
      const at = file.indexOf(server);
      return [sourceRank(source), at < 0 ? Number.MAX_SAFE_INTEGER : at, index];
    };
    const keyed = names.map((server, index) => ({ server, key: key(server, index) }));
    keyed.sort((a, b) => a.key[0] - b.key[0] || a.key[1] - b.key[1] || a.key[2] - b.key[2]);
    return keyed.map((k) => k.server);
  }
}

function sourceRank(source: ServerSource | undefined): number {
  if (source?.kind === 'config') return 0;
  if (source?.kind === 'auto-register') return 1;
  return 2;
}

export type ClashKind = 'tool' | 'prompt' | 'resource' | 'resource template';

/** A backend's name or URI that is not served because another holder of the same served name wins. */
export interface NameClash {
  kind: ClashKind;
  /** The name (or URI) as it would be served. */
  name: string;
  /** The backend whose name is not served. */
  server: string;
  /** Who serves the name instead: another backend, or `gateway` for the gateway's own tools. */
  servedBy: string;
}

export interface Candidate<T> {
  /** The name or URI as served. */
  served: string;
  server: string;
  item: T;
}

/**
 * Which candidates are served when several have one served name: a name `reserved` for the gateway
 * is never given to a backend; otherwise the backend first in `precedence` wins. Candidates keep
 * their order otherwise. A backend listing one name twice is its own affair: its first is served.
 */
export function pickServed<C extends Candidate<unknown>>(
  kind: ClashKind,
  candidates: readonly C[],
  precedence: readonly string[],
  reserved: (name: string) => boolean = () => false,
): { served: C[]; clashes: NameClash[] } {
  const rank = new Map(precedence.map((server, i) => [server, i]));
  const rankOf = (server: string) => rank.get(server) ?? Number.MAX_SAFE_INTEGER;
  const winner = new Map<string, string>();
  for (const c of candidates) {
    if (reserved(c.served)) continue;
    const holder = winner.get(c.served);
    if (holder === undefined || rankOf(c.server) < rankOf(holder)) winner.set(c.served, c.server);
  }
  const served: C[] = [];
  const clashes: NameClash[] = [];
  const taken = new Set<string>();
  for (const c of candidates) {
    const holder = reserved(c.served) ? 'gateway' : winner.get(c.served);
    if (holder !== c.server) {
      clashes.push({ kind, name: c.served, server: c.server, servedBy: holder ?? 'gateway' });
      continue;
    }
    if (taken.has(c.served)) continue;
    taken.add(c.served);
    served.push(c);
  }
  return { served, clashes };
}
