/**
 * The soak in short (the long form is `npm run soak`): 1,000 calls across 5 backends with up to 64 in
 * flight while backends are killed with SIGKILL at random. Every call is answered, no answer goes to
 * the wrong caller, no process outlives the gateway, and its memory and open files come back.
 */
import { describe, expect, it } from 'vitest';
import { formatReport, runSoak, soakProblems } from '../soak/soak-core.js';

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
    const problems = soakProblems(report);
    expect(problems, `${formatReport(report)}\n\n${problems.join('\n')}`).toEqual([]);
    expect(report.hung).toBe(0);
    expect(report.kills).toBeGreaterThan(0);
  }, 60_000);
});
