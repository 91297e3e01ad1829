/**
 * The per-call instruments — a counter and a latency histogram over the same labels, and an in-flight
 * gauge — kept as plain numbers and handed to prom-client's registry as metrics of its own shape
 * (`name`, `help`, `type`, `get()`), so the text exposition and the OTLP export read them like any other.
 *
 * prom-client validates and hashes the label object on every inc/observe/dec, labelled children
 * included; at a few hundred thousand calls a minute that was most of what metrics cost a call. Here a
 * call costs a Map lookup on a joined key, a bucket scan and two additions; cumulative buckets and label
 * objects are made when scraped.
 */
type MetricType = 'counter' | 'gauge' | 'histogram';

/** One line of a scrape: what prom-client's own metrics return from `get()`. */
interface ScrapedValue {
  metricName?: string;
  labels: Record<string, string | number>;
  value: number;
}

/** A metric prom-client's Registry accepts (registerMetric) and reads when scraped. */
export interface RegistryMetric {
  name: string;
  help: string;
  type: MetricType;
  aggregator: 'sum';
  get(): Promise<{ name: string; help: string; type: MetricType; aggregator: 'sum'; values: ScrapedValue[] }>;
}

/** One label combination's numbers. */
export interface CallSeries {
  readonly labels: Readonly<Record<string, string>>;
  count: number;
  sum: number;
  /** Observations per bucket, not cumulative; the last slot is +Inf. */
  readonly buckets: number[];
}

export interface CallInstrumentsSpec {
  counter: { name: string; help: string };
  histogram: { name: string; help: string; buckets: readonly number[] };
  labelNames: readonly string[];
}

export class CallInstruments {
  private readonly series = new Map<string, CallSeries>();
  private readonly bounds: readonly number[];

  constructor(private readonly spec: CallInstrumentsSpec) {
    this.bounds = [...spec.histogram.buckets].sort((a, b) => a - b);
  }

  /** Counts one call with these label values (in `labelNames` order) that took `seconds`. */
  record(values: readonly string[], seconds: number): void {
    const key = values.join('\0');
    let series = this.series.get(key);
    if (!series) {
      const labels: Record<string, string> = {};
      this.spec.labelNames.forEach((name, i) => {
        labels[name] = values[i] ?? '';
      });
      series = { labels, count: 0, sum: 0, buckets: new Array(this.bounds.length + 1).fill(0) };
      this.series.set(key, series);
    }
    series.count++;
    series.sum += seconds;
    let slot = 0;
    while (slot < this.bounds.length && seconds > (this.bounds[slot] as number)) slot++;
    (series.buckets[slot] as number)++;
  }

  /** The counter and the histogram, for the registry. */
  metrics(): [RegistryMetric, RegistryMetric] {
    const { counter, histogram } = this.spec;
    const counterMetric: RegistryMetric = {
      name: counter.name,
      help: counter.help,
      type: 'counter',
      aggregator: 'sum',
      get: async () => ({
        name: counter.name,
        help: counter.help,
        type: 'counter',
        aggregator: 'sum',
        values: [...this.series.values()].map((s) => ({ labels: { ...s.labels }, value: s.count })),
      }),
    };
    const histogramMetric: RegistryMetric = {
      name: histogram.name,
      help: histogram.help,
      type: 'histogram',
      aggregator: 'sum',
      get: async () => ({
        name: histogram.name,
        help: histogram.help,
        type: 'histogram',
        aggregator: 'sum',
        values: [...this.series.values()].flatMap((s) => this.histogramValues(s)),
      }),
    };
    return [counterMetric, histogramMetric];
  }

  private histogramValues(s: CallSeries): ScrapedValue[] {
    const name = this.spec.histogram.name;
    let cumulative = 0;
    const values: ScrapedValue[] = this.bounds.map((bound, i) => {
      cumulative += s.buckets[i] as number;
      return { metricName: `${name}_bucket`, labels: { ...s.labels, le: bound }, value: cumulative };
    });
    values.push(
      { metricName: `${name}_bucket`, labels: { ...s.labels, le: '+Inf' }, value: s.count },
      { metricName: `${name}_sum`, labels: { ...s.labels }, value: s.sum },
      { metricName: `${name}_count`, labels: { ...s.labels }, value: s.count },
    );
    return values;
  }
}

/** A gauge of things in flight by one label: `add(value, ±1)` is a Map update. */
export class InFlightGauge {
  private readonly counts = new Map<string, number>();

  constructor(
    private readonly name: string,
    private readonly help: string,
    private readonly labelName: string,
  ) {}

  add(value: string, delta: 1 | -1): void {
    this.counts.set(value, (this.counts.get(value) ?? 0) + delta);
  }

  metric(): RegistryMetric {
    const { name, help, labelName } = this;
    return {
      name,
      help,
      type: 'gauge',
      aggregator: 'sum',
      get: async () => ({
        name,
        help,
        type: 'gauge',
        aggregator: 'sum',
        values: [...this.counts].map(([value, count]) => ({ labels: { [labelName]: value }, value: count })),
      }),
    };
  }
}
