/**
 * `npm run soak` — the long soak: 20,000 calls across 5 testbed backends, up to 64 in flight, while
 * backends are killed with SIGKILL at random. Prints a table and exits 1 when a guarantee broke.
 *
 *   npm run soak -- [--calls N] [--backends N] [--in-flight N] [--kill-every MIN-MAX] [--seed N]
 */
import { parseArgs } from 'node:util';
import { formatReport, runSoak, soakProblems } from './soak-core.js';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '20000' },
    backends: { type: 'string', default: '5' },
    'in-flight': { type: 'string', default: '64' },
    'kill-every': { type: 'string', default: '200-1000' },
    timeout: { type: 'string', default: '5000' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
  },
});

const [lo, hi] = (values['kill-every'] ?? '').split('-').map(Number);
const options = {
  calls: Number(values.calls),
  backends: Number(values.backends),
  inFlight: Number(values['in-flight']),
  killEveryMs: [lo ?? 300, hi ?? lo ?? 1500] as [number, number],
  timeoutMs: Number(values.timeout),
  seed: Number(values.seed),
  log: (line: string) => console.error(line),
};
const command = `npm run soak -- --calls ${options.calls} --backends ${options.backends} --in-flight ${options.inFlight} --kill-every ${options.killEveryMs.join('-')} --timeout ${options.timeoutMs} --seed ${options.seed}`;
console.error(`soak: ${command}`);
const report = await runSoak(options);
console.log(formatReport(report));
console.log(`\n${command}`);
const problems = soakProblems(report);
if (problems.length > 0) {
  console.log(`\nFAILED:\n- ${problems.join('\n- ')}`);
  process.exit(1);
}
console.log('\nall calls accounted for; no leaks');
