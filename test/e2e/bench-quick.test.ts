/**
 * Runs `npm run bench -- --quick` (without the build, which the test run has done) so the bench never
 * rots: it must exit 0, print every row, and give every row a figure that is sane. Whether targets are met is
 * the bench's business, not a test's: timings on a shared machine under a parallel test run are not
 * something to assert on.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RowResult } from '../bench/harness.js';
import { NODE, ROOT, tempDir } from '../helpers/gateway.js';

interface Report {
  command: string;
  node: string;
  date: string;
  cpus: number;
  quick: boolean;
  rows: RowResult[];
}

/** Every row the bench prints; a row that cannot be measured is there too, as n/a with a reason. */
const EXPECTED_ROWS = [
  ...['stdio', 'http'].flatMap((transport) =>
    ['seq', 'c32'].flatMap((mode) =>
      ['call_backend', 'namespaced', 'relay'].flatMap((kind) =>
        ['p50', 'p99', 'rate'].map((m) => `${transport}.${mode}.${kind}.${m}`),
      ),
    ),
  ),
  'pipeline.wide.makespan',
  'pipeline.wide.direct',
  'pipeline.chain.makespan',
  'pipeline.foreach.makespan',
  'scheduler.validate.yaml',
  'scheduler.validate.json',
  'scheduler.validate.types',
  'scheduler.run.perStep',
  'scheduler.validate.cel',
  'scheduler.run.cel.perStep',
  'reload.p50',
  'reload.max',
  'footprint.rss.idle',
  'footprint.rss.backends',
  'footprint.startup.idle',
  'footprint.startup.backends',
  'footprint.ready.backends',
  ...['metrics', 'on', 'sampled'].flatMap((kind) =>
    ['seq.p50', 'seq.p99', 'c32.rate', 'c32.cpu'].map((m) => `observability.${kind}.${m}`),
  ),
  ...['hub', 'legacy', 'modern'].flatMap((kind) => [`peers.${kind}.seq.p50`, `peers.${kind}.c32.rate`]),
  'search.recall_at_1',
  'search.recall_at_5',
  'search.heldout_recall_at_5',
  'search.p50',
];

function runBench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, ['--import', 'tsx', path.join(ROOT, 'test/bench/run.ts'), ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const timer = setTimeout(() => {
      child.kill('SIGINT');
      reject(new Error(`bench --quick took over 150 s:\n${stderr}`));
    }, 240_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('npm run bench -- --quick', () => {
  it('runs, prints every row, and its figures are sane', { timeout: 250_000 }, async () => {
    const out = path.join(tempDir('mcp-gateway-bench-'), 'bench.json');
    const { code, stdout, stderr } = await runBench(['--quick', '--out', out]);
    expect(code, stderr).toBe(0);

    const report = JSON.parse(readFileSync(out, 'utf8')) as Report;
    expect(report.quick).toBe(true);
    expect(report.node).toBe(process.version);
    expect(report.cpus).toBeGreaterThan(0);
    expect(report.rows.map((r) => r.id).sort()).toEqual([...EXPECTED_ROWS].sort());

    // The table: a header, one line per row, and the command that produced it.
    for (const row of report.rows) expect(stdout).toContain(`| ${row.name} |`);
    expect(stdout).toContain('| row | figure | reference (same run) | ratio | target | verdict |');
    expect(stdout).toMatch(/Command: `npm run bench -- --quick --out .*` · node v\d+/);

    for (const row of report.rows) {
      // Every feature the bench measures is built: a row without a figure ("not implemented", "not
      // served", /proc unreadable) is a regression in the gateway or the bench, never a pass.
      expect(row.figure, `${row.id}: ${row.note ?? 'no figure'}`).not.toBeNull();
      if (row.figure === null) continue;
      expect(Number.isFinite(row.figure) && row.figure > 0, `${row.id}: ${row.figure}`).toBe(true);
      if (row.reference) {
        const ref = row.reference.value;
        expect(ref !== null && Number.isFinite(ref) && ref > 0, `${row.id} reference: ${ref}`).toBe(true);
        // Plausible, not good: a ratio off by a thousand means a unit or a measuring bug.
        expect(row.ratio, row.id).toBeGreaterThan(0.001);
        expect(row.ratio, row.id).toBeLessThan(1000);
      }
      if (row.target) expect(['met', 'missed'], row.id).toContain(row.verdict);
    }

    // Physical sense: p99 ≥ p50, and a pipeline cannot beat its own critical path.
    const byId = new Map(report.rows.map((r) => [r.id, r]));
    for (const prefix of EXPECTED_ROWS.filter((id) => id.endsWith('.p50')).map((id) => id.slice(0, -4))) {
      const p50 = byId.get(`${prefix}.p50`)?.figure;
      const p99 = byId.get(`${prefix}.p99`)?.figure;
      if (typeof p50 === 'number' && typeof p99 === 'number') expect(p99, prefix).toBeGreaterThanOrEqual(p50);
    }
    for (const id of ['pipeline.wide.makespan', 'pipeline.wide.direct', 'pipeline.chain.makespan']) {
      const figure = byId.get(id)?.figure;
      if (typeof figure === 'number') expect(figure, id).toBeGreaterThanOrEqual(300);
    }
  });
});
