/**
 * `npm run bench -- --write-docs`: puts a full run's table, with the machine and date it was measured
 * on, into docs/benchmarks.md between its `generated:bench-results` markers. The prose around it (what
 * the rows measure, what the profiles say) stays as written.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { markdownTable, type RowResult, type RunInfo } from './harness.js';

export const BENCH_DOCS = path.resolve(import.meta.dirname, '../../docs/benchmarks.md');
const START = '<!-- generated:bench-results:start -->';
const END = '<!-- generated:bench-results:end -->';

export function resultsSection(rows: readonly RowResult[], info: RunInfo): string {
  return [
    `Measured on: ${info.cpus} CPUs (${info.cpuModel}) · node ${info.node} · ${info.platform} · ${info.date}`,
    '',
    markdownTable(rows, info),
  ].join('\n');
}

/** `page` with the text between the markers replaced by `section`; throws when the markers are missing. */
export function replaceResults(page: string, section: string): string {
  const from = page.indexOf(START);
  const to = page.indexOf(END);
  if (from < 0 || to < from) throw new Error(`docs/benchmarks.md has no ${START} … ${END}`);
  return `${page.slice(0, from + START.length)}\n${section}\n${page.slice(to)}`;
}

export function writeResults(rows: readonly RowResult[], info: RunInfo, file = BENCH_DOCS): void {
  writeFileSync(file, replaceResults(readFileSync(file, 'utf8'), resultsSection(rows, info)));
}
