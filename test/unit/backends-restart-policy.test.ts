import { describe, expect, it } from 'vitest';
import { DEFAULT_RESTART_POLICY, RestartTracker } from '../../src/backends/restart-policy.js';
import { operatorSetting, retriesOnCrash } from '../../src/backends/retry.js';

const WAIT = 10_000;

function tracker() {
  let now = 0;
  const t = new RestartTracker(DEFAULT_RESTART_POLICY, () => now);
  return { t, advance: (ms: number) => (now += ms) };
}

describe('RestartTracker: the crash-loop policy', () => {
  it('a backend that never became ready fails fast from its first failure, with a growing backoff', () => {
    const { t } = tracker();
    expect(t.startFailed(WAIT)).toEqual({ delayMs: 250, failFast: true, failures: 1 });
    expect(t.startFailed(WAIT)).toEqual({ delayMs: 500, failFast: true, failures: 2 });
  });

  it('a process that ran and served (stable uptime) restarts after restartMs and resets the backoff', () => {
    const { t, advance } = tracker();
    t.ready();
    advance(DEFAULT_RESTART_POLICY.stableMs);
    expect(t.ended(WAIT)).toEqual({
      delayMs: DEFAULT_RESTART_POLICY.restartMs,
      failFast: false,
      failures: 0,
    });
    // Again and again: never backed off, however often it is killed.
    for (let i = 0; i < 20; i++) {
      t.ready();
      advance(DEFAULT_RESTART_POLICY.stableMs + 1);
      expect(t.ended(WAIT).delayMs).toBe(DEFAULT_RESTART_POLICY.restartMs);
    }
  });

  it('a process that answered a call ran and served, however short its life', () => {
    const { t, advance } = tracker();
    t.ready();
    advance(10);
    t.served();
    expect(t.ended(WAIT)).toMatchObject({ failures: 0, failFast: false });
  });

  it('deaths soon after ready, having answered nothing, count: backoff grows; calls wait until the crash loop', () => {
    const { t, advance } = tracker();
    t.ready();
    advance(100);
    const decisions = [];
    for (let i = 0; i < DEFAULT_RESTART_POLICY.crashLoopAfter; i++) {
      decisions.push(t.ended(WAIT));
      t.ready();
      advance(100);
    }
    expect(decisions.map((d) => d.delayMs)).toEqual([250, 500, 1_000, 2_000, 4_000]);
    expect(decisions.map((d) => d.failFast)).toEqual([false, false, false, false, true]);
  });

  it('a failed restart of a backend that served keeps calls waiting; a served run resets the count', () => {
    const { t, advance } = tracker();
    t.ready();
    t.served();
    expect(t.ended(WAIT).failFast).toBe(false);
    expect(t.startFailed(WAIT)).toEqual({ delayMs: 250, failFast: false, failures: 1 });
    expect(t.startFailed(WAIT)).toEqual({ delayMs: 500, failFast: false, failures: 2 });
    t.ready();
    advance(DEFAULT_RESTART_POLICY.stableMs);
    expect(t.ended(WAIT).failures).toBe(0);
    expect(t.startFailed(WAIT).delayMs).toBe(250);
  });

  it('fails fast once the next attempt is due no sooner than the calls could wait', () => {
    const { t } = tracker();
    t.ready();
    t.served();
    t.ended(WAIT);
    expect(t.startFailed(500)).toMatchObject({ delayMs: 250, failFast: false });
    expect(t.startFailed(500)).toMatchObject({ delayMs: 500, failFast: true });
  });
});

describe('retriesOnCrash', () => {
  const readOnly = { annotations: { readOnlyHint: true } };
  const idempotent = { annotations: { idempotentHint: true } };
  const plain = { annotations: {} };

  it('follows the hints when the operator says nothing: read-only or idempotent tools only', () => {
    expect(retriesOnCrash('get', readOnly, undefined)).toBe(true);
    expect(retriesOnCrash('put', idempotent, undefined)).toBe(true);
    expect(retriesOnCrash('write', plain, undefined)).toBe(false);
    expect(retriesOnCrash('gone', undefined, undefined)).toBe(false);
    expect(
      retriesOnCrash('x', { annotations: { readOnlyHint: false, destructiveHint: true } }, undefined),
    ).toBe(false);
  });

  it('the operator overrides the hints, for the whole server or per tool', () => {
    expect(retriesOnCrash('get', readOnly, false)).toBe(false);
    expect(retriesOnCrash('write', plain, true)).toBe(true);
    expect(retriesOnCrash('get', readOnly, { get: false })).toBe(false);
    expect(retriesOnCrash('write', plain, { 'wr*': true })).toBe(true);
    // A tool the mapping does not name follows its hints.
    expect(retriesOnCrash('get', readOnly, { other: false })).toBe(true);
  });

  it('an exact name wins over a pattern; patterns match the whole name; other characters are literal', () => {
    expect(operatorSetting('read_file', { 'read_*': true, read_file: false })).toBe(false);
    expect(operatorSetting('xread_file', { 'read_*': true })).toBeUndefined();
    expect(operatorSetting('a.b', { 'a.*': true })).toBe(true);
    expect(operatorSetting('axb', { 'a.b': true })).toBeUndefined();
    expect(operatorSetting('anything', { '*': false })).toBe(false);
  });
});
