import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * Backends run in their own process group (POSIX: spawned `detached`, so the child leads a new
 * session and group whose id is its pid). A wrapper (`sh -c`, `npx`, `uvx`) and the real server it
 * starts are in that group, so signalling `-pid` reaches both, where signalling the pid alone left
 * the server running. On Windows there are no groups: `taskkill /T /F` ends the tree.
 *
 * Detached children no longer get the terminal's Ctrl-C, so the gateway must end them itself: every
 * group still running is tracked here and killed synchronously when the process exits, whatever the
 * reason it exits for (a SIGKILL of the gateway is the one case nothing can catch).
 */

const IS_WINDOWS = process.platform === 'win32';
const live = new Set<number>();
let exitHooked = false;

/** Remembers a group so the exit hook kills it should the gateway exit first. */
export function trackGroup(pid: number): void {
  live.add(pid);
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', killTrackedGroups);
}

export function untrackGroup(pid: number): void {
  live.delete(pid);
}

/** Groups started and not yet seen gone (tests, diagnostics). */
export function trackedGroups(): number[] {
  return [...live];
}

/** Last resort on 'exit': only synchronous work runs there. */
function killTrackedGroups(): void {
  for (const pid of live) killGroup(pid, 'SIGKILL');
  live.clear();
}

/**
 * Sends `signal` to the group led by `pid` (Windows: any signal ends the whole tree at once, forced,
 * since a console program there has no SIGTERM to handle). False when there was nothing to signal.
 */
export function killGroup(pid: number, signal: NodeJS.Signals): boolean {
  if (IS_WINDOWS) {
    const result = spawnSync('taskkill', ['/T', '/F', '/PID', String(pid)], {
      stdio: 'ignore',
      windowsHide: true,
    });
    return result.status === 0;
  }
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    // ESRCH: the group is empty. EPERM: not ours to signal (cannot happen for a group we started).
    return false;
  }
}

/**
 * Whether any process of the group led by `pid` still runs. A zombie does not count: where the
 * machine's init does not reap orphans (some containers), a dead grandchild stays a zombie for ever
 * and `kill(-pid, 0)` keeps saying yes.
 */
export function groupAlive(pid: number): boolean {
  if (IS_WINDOWS) return processAlive(pid);
  try {
    process.kill(-pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (process.platform !== 'linux') return true;
  return linuxGroupHasLiving(pid);
}

/** Whether the process `pid` runs (Linux: and is not a zombie). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (process.platform !== 'linux') return true;
  const stat = readStat(pid);
  return stat === undefined || stat.state !== 'Z';
}

function linuxGroupHasLiving(pgid: number): boolean {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return true;
  }
  for (const entry of entries) {
    if (entry.charCodeAt(0) < 48 || entry.charCodeAt(0) > 57) continue;
    const stat = readStat(Number(entry));
    if (stat && stat.pgrp === pgid && stat.state !== 'Z') return true;
  }
  return false;
}

/** State and process group from /proc/PID/stat; the command name may hold spaces and parentheses. */
function readStat(pid: number): { state: string; pgrp: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '', pgrp: Number(fields[2]) };
  } catch {
    return undefined;
  }
}

/** Resolves true once the group is gone, false if it still runs after `ms`. Polls: groups have no exit event. */
export async function groupGoneWithin(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (groupAlive(pid)) {
    if (Date.now() >= deadline) return false;
    // Not unref'd: a CLI command closing its backends would otherwise exit (with code 0) mid-wait.
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}
