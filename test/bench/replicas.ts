/**
 * Load through nginx in front of one, then two, gateway replicas over a real Redis: calls/s and
 * p50/p99 of a modern (2026-07-28) tools/call of a testbed echo, CONCURRENCY at a time, for
 * DURATION_MS. `npm run bench:replicas`. Needs redis-server and nginx on PATH.
 */
import { rawModernCall, startNginx, startRedis, startReplica, waitReady } from '../helpers/cluster.js';
import { stopProcess, testbedServer, writeConfig } from '../helpers/gateway.js';

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 8_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);

async function load(url: string) {
  const latencies: number[] = [];
  let failed = 0;
  const end = Date.now() + DURATION_MS;
  const worker = async (w: number) => {
    while (Date.now() < end) {
      const t = performance.now();
      const r = await rawModernCall(url, 'tb__echo', { w }, `bench-${w}`).catch(() => ({ status: 0 }));
      if (r.status === 200) latencies.push(performance.now() - t);
      else failed++;
    }
  };
  const t0 = Date.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, w) => worker(w)));
  const seconds = (Date.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
  return {
    calls: latencies.length,
    failed,
    perSecond: latencies.length / seconds,
    p50: pct(50),
    p99: pct(99),
  };
}

const redis = await startRedis();
const rows: string[] = [];
try {
  for (const count of [1, 2]) {
    const yaml = `cluster:\n  redis: ${redis.url}\nservers:\n${testbedServer('tb')}`;
    const replicas = await Promise.all(
      Array.from({ length: count }, (_, i) => startReplica(writeConfig(yaml), `bench-${count}-${i}`)),
    );
    await Promise.all(replicas.map((r) => waitReady(r.url)));
    const nginx = await startNginx(replicas.map((r) => new URL(r.url).host));
    // Warm: backends listed, connections open.
    await load(nginx.url).catch(() => {});
    const result = await load(nginx.url);
    rows.push(
      `| ${count} | ${CONCURRENCY} | ${result.calls} | ${result.failed} | ${result.perSecond.toFixed(0)} | ${result.p50.toFixed(1)} | ${result.p99.toFixed(1)} |`,
    );
    await nginx.stop();
    await Promise.all(replicas.map((r) => stopProcess(r.child)));
  }
} finally {
  await redis.stop();
}
console.log(
  `\nnginx → gateway replicas (Redis cluster), modern tools/call tb__echo, ${DURATION_MS} ms each\n`,
);
console.log(
  '| replicas | concurrency | calls | failed | calls/s | p50 ms | p99 ms |\n|---|---|---|---|---|---|---|',
);
console.log(rows.join('\n'));
