import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NODE, ROOT } from '../helpers/gateway.js';

/**
 * "Off and free": with tracing and metrics off, the gateway's modules load neither prom-client nor the
 * OpenTelemetry SDK. Both are CommonJS packages, so once imported they sit in the CommonJS module cache,
 * which a script that loads the built gateway can read.
 */
function loadedPackages(setup: string): string[] {
  const script = `
    import { createRequire } from 'node:module';
    await import(${JSON.stringify(path.join(ROOT, 'dist/front/index.js'))});
    const obs = await import(${JSON.stringify(path.join(ROOT, 'dist/observability/index.js'))});
    ${setup}
    const cache = createRequire(import.meta.url).cache;
    const names = new Set();
    for (const file of Object.keys(cache)) {
      const m = /node_modules\\/(prom-client|@opentelemetry\\/[^/]+)\\//.exec(file);
      if (m) names.add(m[1]);
    }
    process.stdout.write(JSON.stringify([...names].sort()));
  `;
  const result = spawnSync(NODE, ['--input-type=module', '-e', script], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_TRACES_EXPORTER: '' },
  });
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as string[];
}

const start = (metrics: boolean, env: Record<string, string>) => `
  const o = await obs.startObservability({
    transport: 'stdio', metrics: ${metrics}, audit: {}, version: '0', env: ${JSON.stringify(env)},
    names: { describe: () => ({ kind: 'meta' }), served: () => true }, backends: () => [],
    logger: { debug() {}, info() {}, warn() {}, error() {}, child() { return this; } },
  });
  await o.close();
`;

describe('observability off', () => {
  it('loads neither prom-client nor the OpenTelemetry SDK, and loads each once switched on', () => {
    expect(loadedPackages(start(false, {}))).toEqual([]);
    // prom-client reads the OpenTelemetry API (for exemplars) itself; the SDK stays out.
    const metered = loadedPackages(start(true, {}));
    expect(metered).toContain('prom-client');
    expect(metered.filter((p) => p.startsWith('@opentelemetry/sdk'))).toEqual([]);
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' };
    const traced = loadedPackages(start(false, { ...endpoint, OTEL_METRICS_EXPORTER: 'none' }));
    expect(traced).toContain('@opentelemetry/sdk-trace-base');
    expect(traced).not.toContain('prom-client');
    // An OTLP endpoint exports the metrics too (OTEL_METRICS_EXPORTER defaults to otlp).
    const both = loadedPackages(start(false, endpoint));
    expect(both).toEqual(expect.arrayContaining(['prom-client', '@opentelemetry/sdk-metrics']));
  });
});
