import { describe, expect, it } from 'vitest';
import { mayUse, profilesFor } from '../../src/front/profile-access.js';
import { ProfileView } from '../../src/front/profile-view.js';

describe('ProfileView', () => {
  it('with nothing listed, sees everything (the default view)', () => {
    const view = new ProfileView({ name: 'all', mode: 'full' });
    expect(view.allows({ kind: 'backend', server: 'sqlite', served: 'sqlite__read_query' })).toBe(true);
    expect(view.allows({ kind: 'pipeline', pipeline: 'report' })).toBe(true);
    expect(view.allows({ kind: 'meta', name: 'register_server' })).toBe(true);
  });

  it('narrows by server globs, then tool include globs, then exclude globs', () => {
    const view = new ProfileView({
      name: 'db',
      servers: ['sql*'],
      tools: ['sqlite__*_query', 'sqlite__list_tables'],
      exclude: ['sqlite__write_*'],
      mode: 'full',
    });
    expect(view.allowsBackendTool('sqlite', 'sqlite__read_query')).toBe(true);
    expect(view.allowsBackendTool('sqlite', 'sqlite__list_tables')).toBe(true);
    expect(view.allowsBackendTool('sqlite', 'sqlite__write_query')).toBe(false);
    expect(view.allowsBackendTool('sqlite', 'sqlite__describe_table')).toBe(false);
    expect(view.allowsBackendTool('weather', 'weather__get_forecast')).toBe(false);
    expect(view.allowsServer('weather')).toBe(false);
  });

  it('an empty list means none; meta tools are chosen by name', () => {
    const view = new ProfileView({
      name: 'small',
      pipelines: [],
      metaTools: ['list_servers'],
      mode: 'search',
    });
    expect(view.allows({ kind: 'pipeline', pipeline: 'report' })).toBe(false);
    expect(view.allows({ kind: 'meta', name: 'list_servers' })).toBe(true);
    expect(view.allows({ kind: 'meta', name: 'register_server' })).toBe(false);
    expect(view.searchMode).toBe(true);
  });
});

describe('profilesFor', () => {
  const settings = { token: 'admin', tokens: [{ token: 'team', profiles: ['small'] }] };

  it('the single token opens every profile; a listed token only its own', () => {
    const admin = profilesFor('Bearer admin', settings);
    expect(mayUse(admin, 'small')).toBe(true);
    expect(mayUse(admin, 'default')).toBe(true);
    const team = profilesFor('Bearer team', settings);
    expect(mayUse(team, 'small')).toBe(true);
    expect(mayUse(team, 'default')).toBe(false);
  });

  it('refuses a missing or wrong token, and opens everything when no token is configured', () => {
    expect(profilesFor(undefined, settings)).toEqual({ ok: false, reason: 'missing-token' });
    expect(profilesFor('Bearer nope', settings)).toEqual({ ok: false, reason: 'bad-token' });
    expect(mayUse(profilesFor(undefined, { tokens: [] }), 'anything')).toBe(true);
  });
});

describe('ProfileView.narrowsBackends', () => {
  it('is true when servers, tools or exclude is set: such a profile refuses custom pipelines', () => {
    expect(new ProfileView({ name: 'a', mode: 'full' }).narrowsBackends).toBe(false);
    expect(new ProfileView({ name: 'a', pipelines: [], mode: 'full' }).narrowsBackends).toBe(false);
    expect(new ProfileView({ name: 'a', exclude: ['x'], mode: 'full' }).narrowsBackends).toBe(true);
  });
});
