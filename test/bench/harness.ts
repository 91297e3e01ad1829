/**
 * The bench's shared harness: rows (a figure, the reference it is measured against in the same run,
 * their ratio, a target and a verdict), statistics, and the two outputs: a markdown table a person
 * can paste, and JSON for machines.
 */
import os from 'node:os';

export type Unit = 'ms' | 'µs' | 'calls/s' | 'MB' | 'ms/step' | 'recall';

/**
 * What a row must reach. `ratio` bounds figure / reference; `max` bounds the figure itself;
 * `overRef` bounds figure − reference (same unit). No target: the row informs.
 */
export type Target =
  | { kind: 'ratio'; op: '<=' | '>='; bound: number }
  | { kind: 'max'; bound: number }
  | { kind: 'min'; bound: number }
  | { kind: 'overRef'; bound: number };

export type Verdict = 'met' | 'missed' | 'info' | 'n/a';

export interface Row {
  /** Stable key, for the JSON and the test. */
  id: string;
  /** What a reader sees. */
  name: string;
  unit: Unit;
  /** null when the row could not be measured (see `note`). */
  figure: number | null;
  reference?: { label: string; value: number | null };
  target?: Target;
  /** Why a row is n/a, or what else a reader should know. */
  note?: string;
}

export interface RowResult extends Row {
  ratio: number | null;
  verdict: Verdict;
}

export function judge(row: Row): RowResult {
  const ref = row.reference?.value ?? null;
  const ratio = row.figure !== null && ref !== null && ref !== 0 ? row.figure / ref : null;
  let verdict: Verdict;
  if (row.figure === null) verdict = 'n/a';
  else if (!row.target) verdict = 'info';
  else {
    const t = row.target;
    if (t.kind === 'max') verdict = row.figure <= t.bound ? 'met' : 'missed';
    else if (t.kind === 'min') verdict = row.figure >= t.bound ? 'met' : 'missed';
    else if (t.kind === 'overRef') {
      verdict = ref === null ? 'n/a' : row.figure - ref <= t.bound ? 'met' : 'missed';
    } else if (ratio === null) verdict = 'n/a';
    else verdict = (t.op === '<=' ? ratio <= t.bound : ratio >= t.bound) ? 'met' : 'missed';
  }
  return { ...row, ratio, verdict };
}

// ---------------------------------------------------------------------------------------------------
// Statistics

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export function median(values: readonly number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

export interface LatencyStats {
  count: number;
  p50: number;
  p99: number;
  /** Calls completed per second of wall time. */
  rate: number;
}

/** Latency samples (ms) and the wall time they took → p50, p99 and calls per second. */
export function latencyStats(samples: readonly number[], wallMs: number): LatencyStats {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    rate: (sorted.length / wallMs) * 1000,
  };
}

/** Accumulates samples and wall time over several interleaved rounds. */
export class Samples {
  readonly latencies: number[] = [];
  wallMs = 0;
  add(latencies: readonly number[], wallMs: number): void {
    for (const l of latencies) this.latencies.push(l);
    this.wallMs += wallMs;
  }
  stats(): LatencyStats {
    return latencyStats(this.latencies, this.wallMs);
  }
}

/**
 * Runs `total` calls of `call`, `inFlight` at a time, and returns each call's latency and the wall
 * time. `inFlight` 1 is the sequential case.
 */
export async function drive(
  call: () => Promise<unknown>,
  total: number,
  inFlight: number,
): Promise<{ latencies: number[]; wallMs: number }> {
  const latencies = new Array<number>(total);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < total; i = next++) {
      const t0 = performance.now();
      await call();
      latencies[i] = performance.now() - t0;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: Math.min(inFlight, total) }, worker));
  return { latencies, wallMs: performance.now() - t0 };
}

/** Times `fn` `times` times and returns the median in milliseconds. */
export async function medianTime(fn: () => unknown, times: number): Promise<number> {
  const runs: number[] = [];
  for (let i = 0; i < times; i++) {
    const t0 = performance.now();
    await fn();
    runs.push(performance.now() - t0);
  }
  return median(runs);
}

// ---------------------------------------------------------------------------------------------------
// Output

export interface RunInfo {
  command: string;
  node: string;
  date: string;
  cpus: number;
  cpuModel: string;
  platform: string;
  quick: boolean;
  durationMs: number;
}

export function runInfo(command: string, quick: boolean, durationMs: number): RunInfo {
  const cpus = os.cpus();
  return {
    command,
    node: process.version,
    date: new Date().toISOString(),
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    platform: `${os.platform()} ${os.release()}`,
    quick,
    durationMs: Math.round(durationMs),
  };
}

export function formatNumber(value: number | null, unit?: Unit): string {
  if (value === null || !Number.isFinite(value)) return 'n/a';
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  const text =
    abs > 0 && abs < 1
      ? String(Number(value.toPrecision(2)))
      : value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
  return unit ? `${text} ${unit}` : text;
}

function formatTarget(row: RowResult): string {
  const t = row.target;
  if (!t) return '—';
  if (t.kind === 'ratio') return `${t.op === '<=' ? '≤' : '≥'} ${t.bound}x`;
  if (t.kind === 'max') return `≤ ${formatNumber(t.bound, row.unit)}`;
  if (t.kind === 'min') return `≥ ${formatNumber(t.bound, row.unit)}`;
  return `≤ ref + ${formatNumber(t.bound, row.unit)}`;
}

function formatVerdict(row: RowResult): string {
  switch (row.verdict) {
    case 'met':
      return 'met';
    case 'missed':
      return '**missed**';
    case 'info':
      return '—';
    case 'n/a':
      return 'n/a';
  }
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function markdownTable(rows: readonly RowResult[], info: RunInfo): string {
  const lines = [
    '| row | figure | reference (same run) | ratio | target | verdict |',
    '|---|---:|---|---:|---|---|',
  ];
  for (const row of rows) {
    const figure =
      row.figure === null ? `n/a (${row.note ?? 'not measured'})` : formatNumber(row.figure, row.unit);
    const ref = row.reference
      ? `${row.reference.label} ${formatNumber(row.reference.value, row.unit)}`.trim()
      : '—';
    const ratio = row.ratio === null ? '—' : `${row.ratio.toFixed(2)}x`;
    lines.push(
      `| ${cell(row.name)} | ${cell(figure)} | ${cell(ref)} | ${ratio} | ${cell(formatTarget(row))} | ${formatVerdict(row)} |`,
    );
  }
  const notes = rows.filter((r) => r.figure !== null && r.note);
  const met = rows.filter((r) => r.verdict === 'met').length;
  const missed = rows.filter((r) => r.verdict === 'missed').length;
  lines.push('');
  for (const r of notes) lines.push(`- ${r.name}: ${r.note}`);
  if (notes.length) lines.push('');
  lines.push(
    `Targets: ${met} met, ${missed} missed. Command: \`${info.command}\` · node ${info.node} · ${info.date} · ` +
      `${info.cpus} CPUs (${info.cpuModel}) · ${info.platform} · took ${(info.durationMs / 1000).toFixed(0)} s`,
  );
  return lines.join('\n');
}

export function jsonReport(rows: readonly RowResult[], info: RunInfo): string {
  return JSON.stringify({ ...info, rows }, null, 2);
}

/** Progress lines go to stderr, so stdout holds only the table (or the JSON). */
export function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}
