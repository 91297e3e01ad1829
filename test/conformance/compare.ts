/**
 * The conformance verdict, pure: the checks the reference server passed alone against the checks the
 * gateway passed in front of it, scenario by scenario and check id by check id, with the known gaps
 * (known-gaps.yaml) taken out. Kept apart from run.ts so it can be tested without processes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

export type Wire = 'legacy' | 'modern';

/** One check of one scenario, as the suite writes it to `checks.json`. */
export interface Check {
  id: string;
  status: string;
}

/** Every scenario of one suite run, by name. */
export type RunResults = Map<string, Check[]>;

/** One entry of known-gaps.yaml: checks of a scenario the gateway is known not to pass yet. */
export interface KnownGap {
  scenario: string;
  /** Check ids, or `*` for every check of the scenario. */
  checks: string[] | '*';
  reason: string;
}

export type KnownGaps = Record<Wire, KnownGap[]>;

export type Verdict = 'match' | 'known gap' | 'REGRESSION' | 'not passed by the reference';

export interface ScenarioRow {
  scenario: string;
  reference: { passed: number; total: number };
  gateway: { passed: number; total: number } | undefined;
  verdict: Verdict;
  /** Check ids the reference passes and the gateway does not, not listed as known gaps. */
  regressions: string[];
  /** Check ids the reference passes and the gateway does not, listed as known gaps. */
  gaps: string[];
}

export interface WireReport {
  wire: Wire;
  rows: ScenarioRow[];
  /** Checks the reference passed that the gateway passed too. */
  matched: number;
  regressions: number;
  knownGaps: number;
  /** Known-gap entries (and check ids of them) that the gateway passes now: the list can shrink. */
  nowPassing: { scenario: string; checks: string[] | '*' }[];
}

const TIMESTAMP = /-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$/;

/** The results in a suite's output folder: one `server-<scenario>-<timestamp>/checks.json` per scenario. */
export function readResults(dir: string): RunResults {
  const results: RunResults = new Map();
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return results;
  }
  for (const entry of entries) {
    if (!entry.startsWith('server-') || !TIMESTAMP.test(entry)) continue;
    const scenario = entry.slice('server-'.length).replace(TIMESTAMP, '');
    try {
      const checks = JSON.parse(readFileSync(join(dir, entry, 'checks.json'), 'utf8')) as Check[];
      results.set(
        scenario,
        checks.map((c) => ({ id: String(c.id), status: String(c.status) })),
      );
    } catch {
      // A scenario that crashed before writing its checks: no checks passed.
      results.set(scenario, []);
    }
  }
  return results;
}

export function parseKnownGaps(text: string): KnownGaps {
  const data = (parse(text) ?? {}) as Partial<Record<Wire, unknown>>;
  const read = (wire: Wire): KnownGap[] => {
    const list = data[wire] ?? [];
    if (!Array.isArray(list)) throw new Error(`known-gaps.yaml: "${wire}" must be a list`);
    return list.map((raw, i) => {
      const entry = raw as Record<string, unknown>;
      const where = `known-gaps.yaml: ${wire}[${i}]`;
      if (typeof entry.scenario !== 'string') throw new Error(`${where}: "scenario" must be a string`);
      if (typeof entry.reason !== 'string' || entry.reason.trim() === '')
        throw new Error(`${where}: "reason" must say why`);
      const checks = entry.checks ?? '*';
      if (checks !== '*' && !(Array.isArray(checks) && checks.every((c) => typeof c === 'string')))
        throw new Error(`${where}: "checks" must be "*" or a list of check ids`);
      return { scenario: entry.scenario, checks: checks as string[] | '*', reason: entry.reason };
    });
  };
  return { legacy: read('legacy'), modern: read('modern') };
}

/** How many times each check id passed (a scenario may repeat an id). */
function passes(checks: readonly Check[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const c of checks) if (c.status === 'SUCCESS') counts.set(c.id, (counts.get(c.id) ?? 0) + 1);
  return counts;
}

function failed(checks: readonly Check[]): boolean {
  return checks.some((c) => c.status === 'FAILURE');
}

function gapCovers(gaps: readonly KnownGap[], scenario: string, check: string): boolean {
  return gaps.some((g) => g.scenario === scenario && (g.checks === '*' || g.checks.includes(check)));
}

/**
 * The gateway must pass every check the reference passes, in the same run. A scenario the reference
 * passes whole must not fail through the gateway, even on a check id the reference did not report.
 * Scenarios the reference does not pass at all (tasks-*, pending ones) only show in the table.
 */
export function compareWire(
  wire: Wire,
  reference: RunResults,
  gateway: RunResults,
  gaps: readonly KnownGap[],
): WireReport {
  const rows: ScenarioRow[] = [];
  let matched = 0;
  let regressionCount = 0;
  let gapCount = 0;
  const stillNeeded = new Set<string>();
  for (const [scenario, refChecks] of reference) {
    const gwChecks = gateway.get(scenario);
    const want = passes(refChecks);
    const got = passes(gwChecks ?? []);
    const regressions: string[] = [];
    const knownGaps: string[] = [];
    for (const [id, count] of want) {
      const ok = Math.min(count, got.get(id) ?? 0);
      matched += ok;
      if (ok === count) continue;
      if (gapCovers(gaps, scenario, id)) {
        knownGaps.push(id);
        stillNeeded.add(`${scenario}\0${id}`);
      } else regressions.push(id);
    }
    // Extra failing checks in a scenario the reference passes whole.
    if (!failed(refChecks) && gwChecks && failed(gwChecks)) {
      for (const c of gwChecks) {
        if (c.status !== 'FAILURE' || want.has(c.id)) continue;
        if (gapCovers(gaps, scenario, c.id)) {
          knownGaps.push(c.id);
          stillNeeded.add(`${scenario}\0${c.id}`);
        } else regressions.push(c.id);
      }
    }
    regressionCount += regressions.length;
    gapCount += knownGaps.length;
    const verdict: Verdict =
      want.size === 0
        ? 'not passed by the reference'
        : regressions.length > 0
          ? 'REGRESSION'
          : knownGaps.length > 0
            ? 'known gap'
            : 'match';
    rows.push({
      scenario,
      reference: { passed: count(refChecks), total: refChecks.length },
      gateway: gwChecks && { passed: count(gwChecks), total: gwChecks.length },
      verdict,
      regressions,
      gaps: knownGaps,
    });
  }
  const nowPassing: WireReport['nowPassing'] = [];
  for (const gap of gaps) {
    const used = (id: string) => stillNeeded.has(`${gap.scenario}\0${id}`);
    if (gap.checks === '*') {
      const any = [...stillNeeded].some((k) => k.startsWith(`${gap.scenario}\0`));
      if (!any) nowPassing.push({ scenario: gap.scenario, checks: '*' });
      continue;
    }
    const unused = gap.checks.filter((id) => !used(id));
    if (unused.length > 0) nowPassing.push({ scenario: gap.scenario, checks: unused });
  }
  return { wire, rows, matched, regressions: regressionCount, knownGaps: gapCount, nowPassing };
}

function count(checks: readonly Check[]): number {
  return checks.filter((c) => c.status === 'SUCCESS').length;
}

/** The summary table of one wire, one scenario a line. */
export function formatWire(report: WireReport): string {
  const header = ['scenario', 'reference', 'gateway', 'verdict'];
  const lines = report.rows.map((r) => [
    r.scenario,
    `${r.reference.passed}/${r.reference.total}`,
    r.gateway ? `${r.gateway.passed}/${r.gateway.total}` : 'not run',
    r.verdict +
      (r.regressions.length ? ` (${r.regressions.length} checks)` : '') +
      (r.verdict === 'known gap' ? ` (${r.gaps.length} checks)` : ''),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const row = (cells: string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ');
  const out = [row(header), row(widths.map((w) => '-'.repeat(w))), ...lines.map(row)];
  out.push(
    `${report.wire}: ${report.matched} reference checks matched, ${report.knownGaps} known gaps, ${report.regressions} regressions`,
  );
  for (const r of report.rows)
    if (r.regressions.length > 0)
      out.push(`  REGRESSION ${report.wire} ${r.scenario}: ${r.regressions.join(', ')}`);
  for (const gap of report.nowPassing) {
    const which = gap.checks === '*' ? 'every check' : gap.checks.join(', ');
    out.push(
      `  now passing (or no longer run): remove from known-gaps.yaml: ${report.wire} ${gap.scenario} (${which})`,
    );
  }
  return out.join('\n');
}
