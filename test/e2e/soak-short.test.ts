/**
 * The soak in short (the long form is `npm run soak`): 1,000 calls across 5 backends with up to 64 in
 * flight while backends are killed with SIGKILL at random. Every call is answered, no answer goes to
 * the wrong caller, no process outlives the gateway, its memory and open files come back, nothing is
 * left over after close (handles, listeners, child processes), and most calls succeed: calls wait for a
 * restarting backend instead of failing fast.
 */
import { describe, expect, it } from 'vitest';
import { formatReport, runSoak, soakProblems } from '../soak/soak-core.js';

const SHORT_MIN_SUCCESS_RATE = 0.8;

describe('soak (short form)', () => {
  it('1,000 calls, 64 in flight, backends killed at random: every call accounted for, nothing leaked', async () => {
    const report = await runSoak({
      calls: 1_000,
      backends: 5,
      inFlight: 64,
      killEveryMs: [200, 600],
      timeoutMs: 5_000,
      seed: 20_240_601,
    });
    // A short run on a busy machine has few kills and much noise: its bar is lower than the long soak's
    // 95 % (the old fail-fast-while-backing-off made about half the calls fail there).
    const problems = soakProblems(report, SHORT_MIN_SUCCESS_RATE);
    expect(problems, `${formatReport(report)}\n\n${problems.join('\n')}`).toEqual([]);
    expect(report.hung).toBe(0);
    expect(report.kills).toBeGreaterThan(0);
  }, 60_000);
});
