import type { ProfileConfig } from '../config/index.js';
import { GatewayError } from '../errors.js';
import { ProfileTable, type ProfileTableOptions } from './profile-table.js';
import { ProfileView } from './profile-view.js';
import type { ToolTable } from './tool-table.js';

/**
 * The gateway's profiles (gateway.yaml `profiles:`), one ProfileTable each, shared by every session of
 * that profile and kept across reloads, so that a reload reaches the sessions already open.
 */
export class ProfileTables {
  private readonly tables = new Map<string, ProfileTable>();
  private settings = new Map<string, ProfileConfig>();

  constructor(
    private readonly base: ToolTable,
    private readonly options: ProfileTableOptions,
    profiles: readonly ProfileConfig[],
  ) {
    this.reconfigure(profiles);
  }

  names(): string[] {
    return [...this.settings.keys()];
  }

  has(name: string): boolean {
    return this.settings.has(name);
  }

  /** The view of profile `name`; USAGE error for a profile the config does not have. */
  table(name: string): ProfileTable {
    const existing = this.tables.get(name);
    if (existing) return existing;
    const settings = this.settings.get(name);
    if (!settings) {
      const known = this.names();
      throw new GatewayError(
        'USAGE',
        `no profile '${name}' in the config${known.length ? `; profiles: ${known.join(', ')}` : ''}`,
        { profile: name },
      );
    }
    const table = new ProfileTable(this.base, new ProfileView(settings), this.options);
    this.tables.set(name, table);
    return table;
  }

  /**
   * A reload's profiles. A profile that changed gets the new view (its sessions hear list_changed if
   * their list differs); a removed one serves nothing from now on, so an open session cannot keep
   * rights the file no longer gives.
   */
  reconfigure(profiles: readonly ProfileConfig[]): void {
    this.settings = new Map(profiles.map((p) => [p.name, p]));
    for (const [name, table] of this.tables) {
      const next = this.settings.get(name) ?? {
        name,
        servers: [],
        pipelines: [],
        metaTools: [],
        mode: 'full',
      };
      table.setView(new ProfileView(next));
    }
  }

  close(): void {
    for (const table of this.tables.values()) table.close();
    this.tables.clear();
  }
}
