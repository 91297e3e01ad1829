/**
 * `npm run bench [-- --quick] [-- --json] [-- --out FILE] [-- --only calls-stdio,pipelines …] [-- --write-docs]`
 *
 * Measures the built gateway (dist/) against the limits that bound it and prints one markdown table:
 * each row's figure, the reference measured in the same run, their ratio, the target and a verdict.
 * `--json` prints the same as JSON instead; `--out FILE` also writes the JSON to FILE; `--write-docs` puts
 * the table, with the machine and date, into docs/benchmarks.md (a full run of every suite only). Exits 0 when
 * every suite ran, whether or not targets were met; 1 when a suite failed.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type CallSizes, callRows } from './calls.js';
import { footprintRows } from './footprint.js';
import { jsonReport, judge, markdownTable, progress, type Row, runInfo } from './harness.js';
import { type ObservabilitySizes, observabilityRows } from './observability.js';
import { type PeerSizes, peerRows } from './peers.js';
import { gatewayPipelineRows } from './pipelines.js';
import { reloadRows } from './reload.js';
import { schedulerRows } from './scheduler.js';
import { searchRows } from './search.js';
import { writeResults } from './write-docs.js';

export interface Sizes {
  quick: boolean;
  calls: { stdio: CallSizes; http: CallSizes };
  /** Repetitions of each pipeline run. */
  pipelineRuns: number;
  /** Repetitions of validate and of the 1,000-step run. */
  schedulerRuns: number;
  forEachItems: number;
  reloadEdits: number;
  footprintStarts: number;
  observability: ObservabilitySizes;
  peers: PeerSizes;
  /** Passes over the search queries for the latency figure. */
  searchRounds: number;
}

const FULL: Sizes = {
  quick: false,
  calls: {
    stdio: { rounds: 8, sequential: 3200, concurrent: 20_000, warmup: 300 },
    http: { rounds: 8, sequential: 2000, concurrent: 6400, warmup: 300 },
  },
  pipelineRuns: 9,
  schedulerRuns: 15,
  forEachItems: 1000,
  reloadEdits: 20,
  footprintStarts: 3,
  observability: { rounds: 9, sequential: 3600, concurrent: 18_000, warmup: 300 },
  peers: { rounds: 6, sequential: 1800, concurrent: 9000, warmup: 300 },
  searchRounds: 30,
};

const QUICK: Sizes = {
  quick: true,
  calls: {
    stdio: { rounds: 2, sequential: 400, concurrent: 2000, warmup: 100 },
    http: { rounds: 2, sequential: 200, concurrent: 1000, warmup: 100 },
  },
  pipelineRuns: 2,
  schedulerRuns: 5,
  forEachItems: 1000,
  reloadEdits: 5,
  footprintStarts: 1,
  observability: { rounds: 3, sequential: 300, concurrent: 1500, warmup: 100 },
  peers: { rounds: 2, sequential: 200, concurrent: 1000, warmup: 100 },
  searchRounds: 5,
};

const SUITES: Record<string, (sizes: Sizes) => Promise<Row[]>> = {
  'calls-stdio': (s) => callRows('stdio', s.calls.stdio),
  'calls-http': (s) => callRows('http', s.calls.http),
  pipelines: (s) => gatewayPipelineRows(s),
  scheduler: (s) => schedulerRows(s),
  reload: (s) => reloadRows(s),
  footprint: (s) => footprintRows(s),
  observability: (s) => observabilityRows(s.observability),
  peers: (s) => peerRows(s.peers),
  search: (s) => searchRows(s.searchRounds),
};

/**
 * Node's default warning printer, replaced by one that prints each kind once: undici's fetch keeps an
 * abort listener per request on the HTTP client's signal until GC, and Node warns about it per listener.
 */
function warnOnce(): void {
  const seen = new Set<string>();
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    if (seen.has(warning.name)) return;
    seen.add(warning.name);
    progress(`${warning.name}: ${warning.message} (printed once)`);
  });
}

async function main(): Promise<number> {
  warnOnce();
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      out: { type: 'string' },
      only: { type: 'string' },
      'write-docs': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      `usage: npm run bench -- [--quick] [--json] [--out FILE] [--only ${Object.keys(SUITES).join(',')}] [--write-docs]\n`,
    );
    return 0;
  }
  if (values['write-docs'] && (values.quick || values.only)) {
    // The docs show what the gateway does at full size, on every suite; a partial run would mislead.
    process.stderr.write('--write-docs needs a full run: leave out --quick and --only\n');
    return 2;
  }
  const sizes = values.quick ? QUICK : FULL;
  const only = values.only?.split(',').map((s) => s.trim());
  const unknown = only?.filter((s) => !(s in SUITES)) ?? [];
  if (unknown.length) {
    process.stderr.write(
      `unknown suite(s): ${unknown.join(', ')}; suites: ${Object.keys(SUITES).join(', ')}\n`,
    );
    return 2;
  }
  const started = performance.now();
  const rows: Row[] = [];
  let failed = false;
  for (const [name, suite] of Object.entries(SUITES)) {
    if (only && !only.includes(name)) continue;
    const t0 = performance.now();
    progress(`suite ${name}`);
    try {
      rows.push(...(await suite(sizes)));
    } catch (err) {
      failed = true;
      progress(`suite ${name} FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
    progress(`suite ${name} took ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const command = [
    'npm run bench',
    ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : []),
  ].join(' ');
  const info = runInfo(command, sizes.quick, performance.now() - started);
  const results = rows.map(judge);
  const json = jsonReport(results, info);
  if (values.out) writeFileSync(values.out, `${json}\n`);
  process.stdout.write(`${values.json ? json : markdownTable(results, info)}\n`);
  if (values['write-docs'] && !failed) {
    writeResults(results, info);
    progress('wrote docs/benchmarks.md');
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(
      `bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
