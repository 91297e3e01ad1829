/**
 * Hot reload: a pipeline file renamed into the watched pipelines folder (an editor's atomic save, or a
 * deploy) → the client's notifications/tools/list_changed. The reference is a bare chokidar watcher
 * on the same folder, in this process, seeing the same renames: the latency of noticing at all.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { watch } from 'chokidar';
import { tempDir } from '../helpers/gateway.js';
import { percentile, progress, type Row } from './harness.js';
import { type Endpoint, gatewayConfig, sleep, startGateway, waitForTools } from './processes.js';
import type { Sizes } from './run.js';

const TARGET_P50_MS = 250;
/** Long enough for a loaded machine; a gateway that does not watch never answers at all. */
const WAIT_MS = 10_000;

const p50Name = 'hot reload: pipeline file renamed → list_changed, p50';
const maxName = 'hot reload: pipeline file renamed → list_changed, max';

function pipelineText(name: string): string {
  return `name: ${name}\ndescription: reload bench\nsteps:\n  a:\n    server: tb\n    tool: echo\n`;
}

function notAvailable(why: string): Row[] {
  return [
    {
      id: 'reload.p50',
      name: p50Name,
      unit: 'ms',
      figure: null,
      target: { kind: 'max', bound: TARGET_P50_MS },
      note: why,
    },
    { id: 'reload.max', name: maxName, unit: 'ms', figure: null, note: why },
  ];
}

/** Resolves with the time of the next call to the returned `signal`, or null after `ms`. */
function nextSignal(): { wait(ms: number): Promise<number | null>; signal(): void } {
  let resolve: ((t: number | null) => void) | undefined;
  let pending: number | undefined;
  return {
    signal() {
      const t = performance.now();
      if (resolve) resolve(t);
      else pending ??= t;
    },
    wait(ms) {
      if (pending !== undefined) return Promise.resolve(pending);
      return new Promise((r) => {
        const timer = setTimeout(() => r(null), ms);
        resolve = (t) => {
          clearTimeout(timer);
          r(t);
        };
      });
    },
  };
}

export async function reloadRows(sizes: Sizes): Promise<Row[]> {
  const dir = tempDir('mcp-gateway-bench-reload-');
  const folder = path.join(dir, 'pipelines');
  const staging = path.join(dir, 'staging');
  mkdirSync(folder);
  mkdirSync(staging);
  writeFileSync(path.join(folder, 'seed.yaml'), pipelineText('seed'));

  let gateway: Endpoint | undefined;
  const watcher = watch(folder, { ignoreInitial: true });
  const watcherReady = new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  try {
    progress('reload: starting gateway');
    gateway = await startGateway('stdio', gatewayConfig(1, 'pipelines: ./pipelines\n', dir));
    await waitForTools(gateway.client, ['tb__echo']);
    const { tools } = await gateway.client.listTools();
    if (!tools.some((t) => t.name === 'pipeline__seed')) {
      return notAvailable('pipeline__<name> tools are not served by this build');
    }
    await watcherReady;

    let gatewaySeen = nextSignal();
    let watcherSeen = nextSignal();
    let lastNotification = performance.now();
    gateway.client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      lastNotification = performance.now();
      gatewaySeen.signal();
    });
    watcher.on('add', () => watcherSeen.signal());

    const gatewayMs: number[] = [];
    const watcherMs: number[] = [];
    for (let i = 0; i < sizes.reloadEdits; i++) {
      // Start each edit from quiet: no notification for 300 ms.
      while (performance.now() - lastNotification < 300) await sleep(50);
      const name = `bench_${i}`;
      const staged = path.join(staging, `${name}.yaml`);
      writeFileSync(staged, pipelineText(name));
      gatewaySeen = nextSignal();
      watcherSeen = nextSignal();
      const t0 = performance.now();
      renameSync(staged, path.join(folder, `${name}.yaml`));
      const [g, w] = await Promise.all([gatewaySeen.wait(WAIT_MS), watcherSeen.wait(WAIT_MS)]);
      if (g === null) {
        if (i === 0)
          return notAvailable(`not implemented: no tools/list_changed within ${WAIT_MS} ms of a rename`);
        throw new Error(`edit ${i + 1}: no tools/list_changed within ${WAIT_MS} ms`);
      }
      gatewayMs.push(g - t0);
      if (w !== null) watcherMs.push(w - t0);
      await waitForTools(gateway.client, [`pipeline__${name}`], 2000);
    }
    progress(`reload: ${gatewayMs.length} edits`);
    const sortedG = [...gatewayMs].sort((a, b) => a - b);
    const sortedW = [...watcherMs].sort((a, b) => a - b);
    const ref = (p: number) => (sortedW.length ? percentile(sortedW, p) : null);
    return [
      {
        id: 'reload.p50',
        name: p50Name,
        unit: 'ms',
        figure: percentile(sortedG, 50),
        reference: { label: 'bare chokidar', value: ref(50) },
        target: { kind: 'max', bound: TARGET_P50_MS },
        note: `${gatewayMs.length} edits`,
      },
      {
        id: 'reload.max',
        name: maxName,
        unit: 'ms',
        figure: sortedG.at(-1)!,
        reference: { label: 'bare chokidar', value: ref(100) },
      },
    ];
  } finally {
    await watcher.close();
    await gateway?.close();
  }
}
