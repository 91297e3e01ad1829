import type { Logger } from '../log.js';
import type { ClashKind, NameClash } from './served-names.js';

/**
 * The name clashes found the last time each list (tools, prompts, resources, templates) was built:
 * what `list_servers` shows per backend, and what the log tells once when a clash appears.
 */
export class NameClashes {
  private readonly byKind = new Map<ClashKind, NameClash[]>();
  /** Clashes already logged, so a rebuild of an unchanged list does not repeat them. */
  private readonly logged = new Set<string>();

  constructor(private readonly logger: Logger) {}

  /** The clashes of one list, replacing those of its last build. */
  set(kind: ClashKind, clashes: NameClash[]): void {
    this.byKind.set(kind, clashes);
    const now = new Set<string>();
    for (const clash of clashes) {
      const key = `${clash.kind}\0${clash.name}\0${clash.server}\0${clash.servedBy}`;
      now.add(key);
      if (!this.logged.has(key)) this.logger.warn(describeClash(clash));
    }
    for (const key of this.logged) if (key.startsWith(`${kind}\0`) && !now.has(key)) this.logged.delete(key);
    for (const key of now) this.logged.add(key);
  }

  /** The names of `server` that are not served, each with who serves it instead. */
  of(server: string): NameClash[] {
    return [...this.byKind.values()].flat().filter((c) => c.server === server);
  }
}

export function describeClash(clash: NameClash): string {
  const why =
    clash.servedBy === 'gateway'
      ? "it is reserved for the gateway's own tools"
      : `server '${clash.servedBy}' serves that name (it comes first: see "prefix" in docs/guides/backends.md)`;
  return `${clash.kind} ${JSON.stringify(clash.name)} of server '${clash.server}' is not served: ${why}`;
}
