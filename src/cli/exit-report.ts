import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import type { Gateway } from '../front/index.js';

/** The variable naming the file a diagnostic report is appended to at shutdown (the soak reads it). */
export const EXIT_REPORT_ENV = 'MCP_GATEWAY_EXIT_REPORT';

/**
 * What is still alive in this process once the gateway has closed: the handles keeping the event loop
 * busy, the listeners left on the registry and on `process`, and child processes. Written only when
 * MCP_GATEWAY_EXIT_REPORT names a file (never to stdout, which carries JSON-RPC in stdio mode), so
 * `npm run soak` can assert that nothing was left over.
 */
export async function writeExitReport(gateway: Gateway): Promise<void> {
  const file = process.env[EXIT_REPORT_ENV];
  if (!file) return;
  // Handles closed during close() (a child's process handle, once it exited) go on the next turns, and
  // one-shot callbacks queued by the last closes (setImmediate chains) run out within a few more. One
  // still queued after 50 turns is re-queuing itself: that stays in the report.
  for (let turn = 0; turn < 50; turn++) {
    await new Promise((resolve) => setImmediate(resolve));
    if (turn >= 1 && !process.getActiveResourcesInfo().includes('Immediate')) break;
  }
  const registry = gateway.registry;
  const report = {
    pid: process.pid,
    resources: process.getActiveResourcesInfo(),
    registryListeners: Object.fromEntries(registry.eventNames().map((e) => [e, registry.listenerCount(e)])),
    processListeners: Object.fromEntries(
      process.eventNames().map((e) => [String(e), process.listenerCount(e)]),
    ),
    children: childPids(process.pid),
  };
  try {
    appendFileSync(file, `${JSON.stringify(report)}\n`);
  } catch {
    // A diagnostic only: shutdown goes on.
  }
}

/** Processes whose parent is `pid` (Linux /proc; empty elsewhere). */
export function childPids(pid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const children: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The ppid is the second field after the parenthesized command name, which may hold spaces.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === pid) children.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return children;
}
