import { afterEach, describe, expect, it, vi } from 'vitest';
import { PausableTimer } from '../../src/backends/pausable-timer.js';
import { ParkedCall } from '../../src/bridge/parked-call.js';
import { PendingTable } from '../../src/bridge/pending-table.js';
import { bindingOf, StateCodec } from '../../src/bridge/state-codec.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('PausableTimer', () => {
  it('fires after its limit, not counting the time paused (pauses nest)', () => {
    vi.useFakeTimers();
    let fired = 0;
    const timer = new PausableTimer(1_000, () => fired++);
    vi.advanceTimersByTime(600);
    timer.pause();
    timer.pause();
    vi.advanceTimersByTime(5_000);
    timer.resume();
    vi.advanceTimersByTime(5_000);
    expect(fired).toBe(0);
    expect(timer.remaining()).toBe(400);
    timer.resume();
    vi.advanceTimersByTime(399);
    expect(fired).toBe(0);
    vi.advanceTimersByTime(1);
    expect(fired).toBe(1);
  });

  it('pauses for the length of a wait and never fires once cleared', async () => {
    vi.useFakeTimers();
    let fired = 0;
    const timer = new PausableTimer(100, () => fired++);
    const wait = timer.while(() => new Promise((r) => setTimeout(r, 1_000)));
    await vi.advanceTimersByTimeAsync(1_000);
    await wait;
    expect(fired).toBe(0);
    timer.clear();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(fired).toBe(0);
  });
});

describe('PendingTable', () => {
  it('gives an entry once', () => {
    const table = new PendingTable<string>();
    table.add('a', 'call', 1_000, () => {});
    expect(table.take('a')).toBe('call');
    expect(table.take('a')).toBeUndefined();
    expect(table.size).toBe(0);
  });

  it('ends an entry nobody took at its expiry, and every entry on clear', () => {
    vi.useFakeTimers();
    const table = new PendingTable<string>();
    const ended: string[] = [];
    table.add('a', 'first', 1_000, (v) => ended.push(`expired ${v}`));
    table.add('b', 'second', 5_000, (v) => ended.push(`expired ${v}`));
    vi.advanceTimersByTime(1_000);
    expect(ended).toEqual(['expired first']);
    expect(table.take('a')).toBeUndefined();
    table.clear((v) => ended.push(`closed ${v}`));
    expect(ended).toEqual(['expired first', 'closed second']);
  });
});

describe('StateCodec', () => {
  const key = 'x'.repeat(32);
  const bind = bindingOf('tools/call', 'old__ask', { b: 1, a: [2] }, 'caller');

  it('opens what it minted for the same call (argument order does not matter)', async () => {
    const codec = new StateCodec({ key, ttlMs: 60_000, replica: 'east' });
    const wire = await codec.mint({ id: 'p1', replica: 'east', bind });
    const same = bindingOf('tools/call', 'old__ask', { a: [2], b: 1 }, 'caller');
    await expect(codec.open(wire, same)).resolves.toMatchObject({ id: 'p1', replica: 'east' });
  });

  it('refuses a state for another call, another caller, a forged one and garbage, saying which', async () => {
    const codec = new StateCodec({ key, ttlMs: 60_000, replica: 'east' });
    const wire = await codec.mint({ id: 'p1', replica: 'east', bind });
    const refusal = async (state: unknown, b = bind) => {
      try {
        await codec.open(state, b);
      } catch (err) {
        return (err as { data?: { refusal?: string }; code?: number }).data?.refusal;
      }
      return 'accepted';
    };
    expect(await refusal(wire, bindingOf('tools/call', 'old__ask', { b: 2, a: [2] }, 'caller'))).toBe(
      'mismatch',
    );
    expect(await refusal(wire, bindingOf('tools/call', 'old__ask', { b: 1, a: [2] }, 'someone else'))).toBe(
      'mismatch',
    );
    const [v, body, mac] = wire.split('.');
    const other = (
      await new StateCodec({ key, ttlMs: 60_000, replica: 'east' }).mint({ id: 'p2', replica: 'east', bind })
    ).split('.')[1];
    expect(await refusal(`${v}.${other}.${mac}`)).toBe('forged');
    expect(await refusal(`${v}.${body}.${mac?.slice(1)}`)).toBe('forged');
    expect(await refusal('nonsense')).toBe('malformed');
    expect(await refusal(42)).toBe('malformed');
    const foreign = await new StateCodec({ ttlMs: 60_000, replica: 'east' }).mint({
      id: 'p1',
      replica: 'east',
      bind,
    });
    expect(await refusal(foreign)).toBe('forged');
  });

  it('names the replica a state came from when it reaches another one', async () => {
    const east = new StateCodec({ key, ttlMs: 60_000, replica: 'east' });
    const west = new StateCodec({ key, ttlMs: 60_000, replica: 'west' });
    const wire = await east.mint({ id: 'p1', replica: 'east', bind });
    await expect(west.open(wire, bind)).rejects.toThrow(
      /issued by gateway replica 'east', and this is replica 'west'/,
    );
  });

  it('refuses a state past its lifetime, to the millisecond', async () => {
    const codec = new StateCodec({ key, ttlMs: 1_500, replica: 'east' });
    const now = Date.now();
    const wire = await codec.mint({ id: 'p1', replica: 'east', bind });
    const spy = vi.spyOn(Date, 'now').mockReturnValue(now + 1_600);
    try {
      await expect(codec.open(wire, bind)).rejects.toMatchObject({
        code: -32602,
        data: { reason: 'invalid_request_state', refusal: 'expired' },
      });
    } finally {
      spy.mockRestore();
    }
  });
});

describe('ParkedCall', () => {
  it("hands a client the backend's own keys, numbering only asks without one or with a clash", async () => {
    const answers: Record<string, unknown>[] = [];
    const call = new ParkedCall(
      async (requester) => {
        const ask = (inputKey?: string) =>
          requester.request(
            { server: 's', method: 'roots/list', ...(inputKey ? { inputKey } : {}) },
            { signal: new AbortController().signal },
          );
        answers.push(...(await Promise.all([ask('user_name'), ask('user_name'), ask()])));
        return 'done';
      },
      { maxInputRounds: 8, capabilities: { roots: {} }, inputResponses: { early: {} } },
    );
    // What the client declared and answered unasked travel with the requester to a 2026 backend.
    expect(call.requester.capabilities).toEqual({ roots: {} });
    expect(call.requester.inputResponses).toEqual({ early: {} });
    const round = await call.next(new AbortController().signal, undefined);
    expect(round.kind).toBe('asks');
    const keys = round.kind === 'asks' ? Object.keys(round.inputRequests) : [];
    expect(keys).toEqual(['user_name', 'input-1', 'input-2']);
    call.answer(Object.fromEntries(keys.map((k) => [k, { roots: [], key: k }])));
    expect(await call.next(new AbortController().signal, undefined)).toEqual({ kind: 'done', value: 'done' });
    expect(answers.map((a) => a.key)).toEqual(keys);
  });
});
