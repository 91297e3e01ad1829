import * as prom from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CallInstruments, InFlightGauge } from '../../src/observability/call-series.js';
import { parseMetrics } from '../helpers/observability.js';

/** The instruments in a real prom-client registry, scraped as Prometheus would. */
function setup() {
  const registry = new prom.Registry();
  const calls = new CallInstruments({
    counter: { name: 't_calls_total', help: 'calls' },
    histogram: { name: 't_call_seconds', help: 'call time', buckets: [0.01, 0.001, 0.1] },
    labelNames: ['server', 'outcome'],
  });
  const inFlight = new InFlightGauge('t_in_flight', 'in flight', 'server');
  for (const metric of [...calls.metrics(), inFlight.metric()])
    registry.registerMetric(metric as unknown as prom.Metric);
  return { registry, calls, inFlight };
}

describe('per-call instruments read at scrape time', () => {
  it('counts calls per label combination and fills cumulative buckets, +Inf, _sum and _count', async () => {
    const { registry, calls } = setup();
    calls.record(['a', 'ok'], 0.0005);
    calls.record(['a', 'ok'], 0.001); // on a bound: counts in that bucket (le = less or equal)
    calls.record(['a', 'ok'], 0.05);
    calls.record(['a', 'ok'], 7);
    calls.record(['b', 'error'], 0.02);
    const text = await registry.metrics();
    const m = parseMetrics(text);
    expect(m.value('t_calls_total', { server: 'a', outcome: 'ok' })).toBe(4);
    expect(m.value('t_calls_total', { server: 'b', outcome: 'error' })).toBe(1);
    expect(text).toContain('# TYPE t_call_seconds histogram');
    expect(text).toContain('t_call_seconds_bucket{server="a",outcome="ok",le="0.001"} 2');
    expect(text).toContain('t_call_seconds_bucket{server="a",outcome="ok",le="0.01"} 2');
    expect(text).toContain('t_call_seconds_bucket{server="a",outcome="ok",le="0.1"} 3');
    expect(text).toContain('t_call_seconds_bucket{server="a",outcome="ok",le="+Inf"} 4');
    expect(text).toContain('t_call_seconds_bucket{server="b",outcome="error",le="0.01"} 0');
    expect(m.count('t_call_seconds', { server: 'a', outcome: 'ok' })).toBe(4);
    expect(text).toMatch(/t_call_seconds_sum\{server="a",outcome="ok"\} 7\.0515/);
  });

  it('reads the in-flight gauge as calls start and end, down to 0', async () => {
    const { registry, inFlight } = setup();
    inFlight.add('a', 1);
    inFlight.add('a', 1);
    inFlight.add('b', 1);
    inFlight.add('a', -1);
    let m = parseMetrics(await registry.metrics());
    expect(m.value('t_in_flight', { server: 'a' })).toBe(1);
    expect(m.value('t_in_flight', { server: 'b' })).toBe(1);
    inFlight.add('a', -1);
    inFlight.add('b', -1);
    m = parseMetrics(await registry.metrics());
    expect(m.labelValues('t_in_flight', 'server').sort()).toEqual(['a', 'b']);
    expect(m.value('t_in_flight', { server: 'a' }) + m.value('t_in_flight', { server: 'b' })).toBe(0);
  });

  it('hands the same series to the JSON reader the OTLP export uses', async () => {
    const { registry, calls } = setup();
    calls.record(['a', 'ok'], 0.002);
    const json = await registry.getMetricsAsJSON();
    const histogram = json.find((j) => j.name === 't_call_seconds');
    expect(histogram?.type).toBe('histogram');
    expect(histogram?.values).toContainEqual({
      metricName: 't_call_seconds_count',
      labels: { server: 'a', outcome: 'ok' },
      value: 1,
    });
  });
});
