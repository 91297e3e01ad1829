import { describe, expect, it } from 'vitest';
import { bothAllow, pipelineVisible, profileAccess, runsFor } from '../../src/front/caller-view.js';
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

describe('profileAccess: a view as the listings see it', () => {
  const servedName = (server: string, tool: string) => `${server}__${tool}`;

  it('names only the view’s servers, its tools and its pipelines; runs filter the same way', () => {
    const view = new ProfileView({
      name: 'db',
      servers: ['sqlite'],
      exclude: ['sqlite__write_*'],
      pipelines: ['report'],
      mode: 'full',
    });
    const access = profileAccess(view, servedName);
    expect(access?.showsServer?.('sqlite')).toBe(true);
    expect(access?.showsServer?.('weather')).toBe(false);
    expect(access?.allows({ kind: 'backend', server: 'sqlite', tool: 'read_query' })).toBe(true);
    expect(access?.allows({ kind: 'backend', server: 'sqlite', tool: 'write_query' })).toBe(false);
    expect(access && pipelineVisible(access, 'report')).toBe(true);
    expect(access && pipelineVisible(access, 'cleanup')).toBe(false);
    const runs = [{ pipeline: 'report' }, { pipeline: 'cleanup' }] as Parameters<typeof runsFor>[1];
    expect(access && runsFor(access, runs).map((r) => r.pipeline)).toEqual(['report']);
  });

  it('is nothing for a view that narrows nothing listed', () => {
    expect(
      profileAccess(new ProfileView({ name: 'all', metaTools: ['list_servers'], mode: 'full' }), servedName),
    ).toBeUndefined();
  });

  it('composes with http.auth.rules: both must allow', () => {
    const view = new ProfileView({ name: 'db', servers: ['sqlite', 'weather'], mode: 'full' });
    const rules = {
      unrestricted: false,
      allows: (t: { kind: string; server?: string }) => t.kind !== 'backend' || t.server === 'weather',
    };
    const both = bothAllow(rules as Parameters<typeof bothAllow>[0], profileAccess(view, servedName));
    expect(both?.allows({ kind: 'backend', server: 'weather', tool: 'get_forecast' })).toBe(true);
    expect(both?.allows({ kind: 'backend', server: 'sqlite', tool: 'read_query' })).toBe(false);
    expect(both?.showsServer?.('sqlite')).toBe(true);
    expect(both?.showsServer?.('github')).toBe(false);
    expect(bothAllow(undefined, undefined)).toBeUndefined();
  });
});
