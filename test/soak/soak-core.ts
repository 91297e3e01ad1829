/**
 * The soak: many calls across several testbed backends with many in flight, while backends are killed
 * (SIGKILL, their pids taken from list_servers) and come back. Every call must be accounted for (a
 * result or an error, none hanging), echoed results must be the caller's own (no cross-talk), no
 * process may outlive the gateway, and the gateway's RSS and open files must come back near their start.
 *
 * Used by `npm run soak` (test/soak/soak.ts, 20,000 calls) and by test/e2e/soak-short.test.ts.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { childPids, EXIT_REPORT_ENV } from '../../src/cli/exit-report.js';
import { startStdioGateway, tempDir, testbedServer, writeConfig } from '../helpers/gateway.js';
import { rssKiB } from '../helpers/http-raw.js';
import { isAlive, waitFor } from '../helpers/wait.js';

export interface SoakOptions {
  calls: number;
  backends: number;
  inFlight: number;
  /** A backend is killed every this many ms (uniformly random between the two). */
  killEveryMs: [number, number];
  /** Per-call backend timeout, given to the gateway. */
  timeoutMs: number;
  seed: number;
  /** Progress lines; silent when absent. */
  log?: (line: string) => void;
}

export interface SoakReport {
  options: SoakOptions;
  ok: number;
  /**
   * Errors by code: the gateway's own codes, `PROTOCOL <json-rpc code>` for a JSON-RPC error, `MISMATCH`
   * for a wrong answer.
   */
  errors: Record<string, number>;
  /** The first message seen for each error code, to tell what they were. */
  errorSamples: Record<string, string>;
  /** Calls the client gave up on: the gateway never answered them. Must be 0. */
  hung: number;
  kills: number;
  restarts: number;
  durationMs: number;
  /** Gateway RSS after warm-up, highest seen, when half the calls were done, and after they all were. */
  rssKiB: { start?: number; peak?: number; half?: number; end?: number };
  fds: { start?: number; end?: number };
  /** Backend pids still alive after the gateway closed. Must be empty. */
  leakedPids: number[];
  gatewayExited: boolean;
  /** Warnings on the gateway's stderr that point at leaks (MaxListenersExceeded and the like). */
  leakWarnings: string[];
  /** Child processes of the gateway once every backend was back, before closing: one per backend. */
  childrenBeforeClose?: number;
  /** What the gateway itself found left over after closing (src/cli/exit-report.ts). */
  exitReport?: ExitReport;
}

/** The gateway's own report after it closed, written to MCP_GATEWAY_EXIT_REPORT. */
export interface ExitReport {
  resources: string[];
  registryListeners: Record<string, number>;
  processListeners: Record<string, number>;
  children: number[];
}

/** Listeners the gateway leaves on `process` by design: its SIGINT/SIGTERM handlers, Node's own. */
const MAX_PROCESS_LISTENERS = 2;

/** mulberry32: a small seeded generator, so a failing soak can be run again as it was. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function fdCount(pid: number): Promise<number | undefined> {
  try {
    return (await readdir(`/proc/${pid}/fd`)).length;
  } catch {
    return undefined;
  }
}

interface ServerInfo {
  name: string;
  status: string;
  pid?: number;
  restarts: number;
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? (() => {});
  const rand = random(options.seed);
  const names = Array.from({ length: options.backends }, (_, i) => `soak${i}`);
  const config = writeConfig(
    [`timeout: ${options.timeoutMs}ms`, 'servers:', ...names.map((n) => testbedServer(n))].join('\n'),
  );
  const exitReportFile = path.join(tempDir('mcp-gateway-soak-'), 'exit-report.jsonl');
  const gw = await startStdioGateway(['--config', config], { env: { [EXIT_REPORT_ENV]: exitReportFile } });
  const gatewayPid = gw.pid;
  const allPids = new Set<number>();
  const listServers = async (): Promise<ServerInfo[]> => {
    const result = (await gw.client.callTool({ name: 'list_servers', arguments: {} })) as CallToolResult;
    const servers = (result.structuredContent as { servers: ServerInfo[] }).servers;
    for (const s of servers) if (s.pid) allPids.add(s.pid);
    return servers;
  };
  await waitFor(async () => (await listServers()).every((s) => s.status === 'ready'), { timeoutMs: 20_000 });

  // Warm up (JIT, buffers, every backend connection) before taking the baseline.
  await Promise.all(names.map((n) => gw.client.callTool({ name: `${n}__echo`, arguments: { warm: true } })));
  const report: SoakReport = {
    options,
    ok: 0,
    errors: {},
    errorSamples: {},
    hung: 0,
    kills: 0,
    restarts: 0,
    durationMs: 0,
    rssKiB: {},
    fds: {},
    leakedPids: [],
    gatewayExited: false,
    leakWarnings: [],
  };
  if (gatewayPid) {
    report.rssKiB.start = await rssKiB(gatewayPid);
    report.rssKiB.peak = report.rssKiB.start;
    report.fds.start = await fdCount(gatewayPid);
  }
  const countError = (code: string, message: string) => {
    report.errors[code] = (report.errors[code] ?? 0) + 1;
    report.errorSamples[code] ??= message.slice(0, 300);
  };

  const started = Date.now();
  let issued = 0;
  let done = 0;
  let running = true;

  const sampler = setInterval(() => {
    if (!gatewayPid) return;
    void rssKiB(gatewayPid).then((rss) => {
      if (rss !== undefined) report.rssKiB.peak = Math.max(report.rssKiB.peak ?? 0, rss);
    });
  }, 250);

  let wakeKiller = () => {};
  const killer = (async () => {
    while (running) {
      const [lo, hi] = options.killEveryMs;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, lo + rand() * (hi - lo));
        wakeKiller = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      if (!running) break;
      try {
        const servers = await listServers();
        const victim = servers[Math.floor(rand() * servers.length)];
        if (victim?.pid && isAlive(victim.pid)) {
          process.kill(victim.pid, 'SIGKILL');
          report.kills++;
        }
      } catch (err) {
        log(`killer: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  })();

  const progress = setInterval(() => {
    log(
      `  ${done}/${options.calls} calls, ${report.kills} kills, ${Math.round((Date.now() - started) / 1000)} s`,
    );
  }, 2_000);

  const worker = async () => {
    while (issued < options.calls) {
      const n = issued++;
      const server = names[Math.floor(rand() * names.length)]!;
      const viaMeta = rand() < 0.5;
      const sleepy = rand() < 0.1;
      const tool = sleepy ? 'sleep' : 'echo';
      const args = sleepy ? { ms: Math.floor(rand() * 20) } : { n, token: `${options.seed}-${n}` };
      const request = viaMeta
        ? { name: 'call_backend', arguments: { server, tool, params: args } }
        : { name: `${server}__${tool}`, arguments: args };
      try {
        const result = (await gw.client.callTool(request, undefined, {
          // The gateway must answer every call within its timeout; far beyond it, the call is hanging.
          timeout: options.timeoutMs + 15_000,
        })) as CallToolResult;
        const text = JSON.stringify(result.content);
        if (result.isError) {
          const code = (result.structuredContent as { code?: string } | undefined)?.code;
          countError(String(code ?? 'TOOL_ERROR'), text);
        } else {
          const expected = sleepy ? { slept: args.ms } : { server, args };
          if (JSON.stringify(result.structuredContent) === JSON.stringify(expected)) report.ok++;
          else countError('MISMATCH', text);
        }
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        // -32001 is the SDK's own RequestTimeout: the client gave up waiting.
        if (code === -32001) report.hung++;
        else countError(`PROTOCOL ${String(code)}`, err instanceof Error ? err.message : String(err));
      } finally {
        done++;
        if (done === Math.floor(options.calls / 2) && gatewayPid) {
          void rssKiB(gatewayPid).then((rss) => {
            report.rssKiB.half = rss;
          });
        }
      }
    }
  };
  await Promise.all(Array.from({ length: options.inFlight }, worker));
  running = false;
  wakeKiller();
  await killer;
  clearInterval(progress);
  report.durationMs = Date.now() - started;

  // Let the backends come back and the gateway settle, then take the end sample.
  await waitFor(async () => (await listServers()).every((s) => s.status === 'ready'), {
    timeoutMs: 60_000,
    intervalMs: 250,
  }).catch(() => log('not every backend came back within 60 s'));
  report.restarts = (await listServers()).reduce((sum, s) => sum + s.restarts, 0);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  clearInterval(sampler);
  if (gatewayPid) {
    report.rssKiB.end = await rssKiB(gatewayPid);
    report.fds.end = await fdCount(gatewayPid);
    report.childrenBeforeClose = childPids(gatewayPid).length;
  }

  await gw.close();
  if (gatewayPid) {
    report.gatewayExited = await waitFor(() => !isAlive(gatewayPid), { timeoutMs: 15_000 })
      .then(() => true)
      .catch(() => false);
  }
  await waitFor(() => [...allPids].every((pid) => !isAlive(pid)), { timeoutMs: 15_000 }).catch(() => {});
  report.leakedPids = [...allPids].filter((pid) => isAlive(pid));
  if (existsSync(exitReportFile)) {
    report.exitReport = JSON.parse(readFileSync(exitReportFile, 'utf8').trim().split('\n').at(-1)!);
  }
  if (process.env.SOAK_GATEWAY_LOG) writeFileSync(process.env.SOAK_GATEWAY_LOG, gw.stderr());
  const stderrLines = gw.stderr().split('\n');
  stderrLines.forEach((line, i) => {
    if (!/MaxListenersExceeded|memory leak|EMFILE/i.test(line)) return;
    // With NODE_OPTIONS=--trace-warnings the stack follows; keep it.
    const stack = stderrLines.slice(i + 1, i + 12).filter((l) => l.startsWith('    at '));
    report.leakWarnings.push([line, ...stack].join('\n'));
  });
  return report;
}

/** The report as a table, for people. */
export function formatReport(r: SoakReport): string {
  const mib = (kib: number | undefined) => (kib === undefined ? 'n/a' : `${(kib / 1024).toFixed(1)} MiB`);
  const errors = Object.entries(r.errors)
    .sort((a, b) => b[1] - a[1])
    .map(([code, n]) => `${code} ${n}`)
    .join(', ');
  const rows: [string, string][] = [
    ['calls', `${r.options.calls} (${r.options.inFlight} in flight, ${r.options.backends} backends)`],
    ['ok', `${r.ok} (${(successRate(r) * 100).toFixed(1)} % success)`],
    ['errors', errors || '0'],
    ...Object.entries(r.errorSamples).map(([code, text]): [string, string] => [`  e.g. ${code}`, text]),
    ['hung', String(r.hung)],
    [
      'accounted',
      `${r.ok + r.hung + Object.values(r.errors).reduce((a, b) => a + b, 0)} of ${r.options.calls}`,
    ],
    ['kills (SIGKILL)', String(r.kills)],
    ['restarts', String(r.restarts)],
    [
      'duration',
      `${(r.durationMs / 1000).toFixed(1)} s (${Math.round(r.options.calls / (r.durationMs / 1000))} calls/s)`,
    ],
    [
      'gateway RSS',
      `start ${mib(r.rssKiB.start)}, half-way ${mib(r.rssKiB.half)}, peak ${mib(r.rssKiB.peak)}, end ${mib(r.rssKiB.end)}`,
    ],
    ['gateway open files', `start ${r.fds.start ?? 'n/a'}, end ${r.fds.end ?? 'n/a'}`],
    ['leaked processes', r.leakedPids.length ? r.leakedPids.join(', ') : 'none'],
    ['children before close', `${r.childrenBeforeClose ?? 'n/a'} (${r.options.backends} backends)`],
    [
      'left after close',
      r.exitReport
        ? `handles [${r.exitReport.resources.join(', ')}], registry listeners ${JSON.stringify(r.exitReport.registryListeners)}, process listeners ${JSON.stringify(r.exitReport.processListeners)}, children [${r.exitReport.children.join(', ')}]`
        : 'n/a (no exit report)',
    ],
    ['gateway exited', String(r.gatewayExited)],
    ['leak warnings', r.leakWarnings.length ? r.leakWarnings.join(' | ') : 'none'],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

/** Share of the calls that succeeded with the right answer, 0 to 1. */
export function successRate(r: SoakReport): number {
  return r.options.calls > 0 ? r.ok / r.options.calls : 0;
}

/**
 * The success rate the long soak holds with its defaults (5 backends, 64 in flight, a SIGKILL every
 * 200–1000 ms): calls wait for a restarting backend, so only calls in flight on a killed process fail.
 */
export const MIN_SUCCESS_RATE = 0.95;

/** What must hold; each problem as a sentence, empty when the soak passed. */
export function soakProblems(r: SoakReport, minSuccessRate = MIN_SUCCESS_RATE): string[] {
  const problems: string[] = [];
  if (successRate(r) < minSuccessRate) {
    problems.push(
      `${(successRate(r) * 100).toFixed(1)} % of calls succeeded; at least ${minSuccessRate * 100} % must`,
    );
  }
  const accounted = r.ok + r.hung + Object.values(r.errors).reduce((a, b) => a + b, 0);
  if (accounted !== r.options.calls) problems.push(`${accounted} of ${r.options.calls} calls accounted for`);
  if (r.hung > 0) problems.push(`${r.hung} calls hung`);
  if (r.errors.MISMATCH) problems.push(`${r.errors.MISMATCH} calls got someone else's answer`);
  if (r.ok === 0) problems.push('no call succeeded');
  if (r.kills === 0) problems.push('no backend was killed');
  if (r.leakedPids.length > 0) problems.push(`processes left running: ${r.leakedPids.join(', ')}`);
  if (!r.gatewayExited) problems.push('the gateway did not exit');
  if (r.leakWarnings.length > 0) problems.push(`leak warnings: ${r.leakWarnings.join(' | ')}`);
  if (r.childrenBeforeClose !== undefined && r.childrenBeforeClose !== r.options.backends) {
    problems.push(
      `the gateway had ${r.childrenBeforeClose} child processes for ${r.options.backends} backends`,
    );
  }
  const left = r.exitReport;
  if (!left) problems.push('the gateway wrote no exit report');
  else {
    // Its own stdin, stdout and stderr stay open until it exits; nothing else may.
    const own = left.resources.filter((r) => r === 'PipeWrap' || r === 'TTYWrap');
    const others = left.resources.filter((r) => r !== 'PipeWrap' && r !== 'TTYWrap');
    if (own.length > 3 || others.length > 0)
      problems.push(`handles left after close: ${left.resources.join(', ')}`);
    if (left.children.length > 0)
      problems.push(`child processes left after close: ${left.children.join(', ')}`);
    const registry = Object.values(left.registryListeners).reduce((a, b) => a + b, 0);
    if (registry > 0) problems.push(`${registry} listeners left on the registry after close`);
    for (const [event, count] of Object.entries(left.processListeners)) {
      if (count > MAX_PROCESS_LISTENERS) problems.push(`${count} '${event}' listeners left on process`);
    }
  }
  const { start, half, end } = r.rssKiB;
  // V8 keeps the heap it grew under load, so RSS after a burst sits above the idle start for good; a
  // leak is growth that goes on. So: the second half of the calls must not grow RSS past the first
  // half's level by more than 32 MiB, and the end must stay within 128 MiB of the start.
  if (half !== undefined && end !== undefined && end > half + 32 * 1024) {
    problems.push(`gateway RSS grew from ${half} KiB half-way to ${end} KiB at the end`);
  }
  if (start !== undefined && end !== undefined && end > start + 128 * 1024) {
    problems.push(`gateway RSS went from ${start} KiB to ${end} KiB`);
  }
  if (r.fds.start !== undefined && r.fds.end !== undefined && r.fds.end > r.fds.start + 10) {
    problems.push(`gateway open files went from ${r.fds.start} to ${r.fds.end}`);
  }
  return problems;
}
