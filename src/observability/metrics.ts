/**
 * The gateway's Prometheus instruments (prom-client), in a registry of their own. Loaded only when
 * metrics are on (see setup.ts): with them off, prom-client is never imported.
 *
 * Counters and histograms move as calls end; what describes the backends now (status, restarts, last
 * error, tools) is read from the registry when scraped, so it costs nothing between scrapes.
 */
import type * as Prom from 'prom-client';
import { CallInstruments, InFlightGauge, type RegistryMetric } from './call-series.js';
import { lastErrorKind, type Outcome } from './labels.js';

/** What the backend gauges are read from at scrape time. */
export interface BackendSnapshot {
  name: string;
  status: string;
  restarts: number;
  toolCount: number;
  lastError?: string;
}

export const BACKEND_STATUSES = ['connecting', 'ready', 'failed', 'needs login', 'closed'] as const;

/** Latency buckets, in seconds: a gateway hop is sub-millisecond, a pipeline can take minutes. */
const CALL_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const RUN_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export class GatewayMetrics {
  readonly registry: Prom.Registry;
  readonly contentType: string;
  /** Per-call instruments: plain numbers, read when scraped (see call-series.ts). */
  private readonly requests: CallInstruments;
  private readonly requestsInFlight: InFlightGauge;
  private readonly backendCalls: CallInstruments;
  private readonly backendInFlight: InFlightGauge;
  private readonly backendRetries: Prom.Counter<'server' | 'tool'>;
  private readonly runs: Prom.Counter<'pipeline' | 'status'>;
  private readonly runSeconds: Prom.Histogram<'pipeline' | 'status'>;
  private readonly stepSeconds: Prom.Histogram<'pipeline' | 'step' | 'status'>;
  private readonly stepRetries: Prom.Counter<'pipeline' | 'step'>;
  private readonly sessions: Prom.Gauge<'transport' | 'era'>;
  private readonly sessionsOpened: Prom.Counter<'transport' | 'era'>;
  private readonly reloads: Prom.Counter<'kind' | 'outcome'>;

  constructor(prom: typeof Prom, backends: () => BackendSnapshot[]) {
    const registry = new prom.Registry();
    this.registry = registry;
    this.contentType = registry.contentType;
    prom.collectDefaultMetrics({ register: registry });
    const registers = [registry];
    this.requests = new CallInstruments({
      counter: {
        name: 'mcpgw_requests_total',
        help: 'tools/call requests from clients, by served tool (other: not served) and outcome',
      },
      histogram: {
        name: 'mcpgw_request_duration_seconds',
        help: 'Time to answer a client tools/call, in seconds',
        buckets: CALL_BUCKETS,
      },
      labelNames: ['transport', 'tool', 'outcome'],
    });
    this.requestsInFlight = new InFlightGauge(
      'mcpgw_requests_in_flight',
      'Client tools/call requests being answered',
      'transport',
    );
    this.backendCalls = new CallInstruments({
      counter: {
        name: 'mcpgw_backend_calls_total',
        help: 'tools/call requests sent to backends, by server, tool and outcome',
      },
      histogram: {
        name: 'mcpgw_backend_call_duration_seconds',
        help: 'Time a backend took to answer tools/call (waiting for it to connect included), in seconds',
        buckets: CALL_BUCKETS,
      },
      labelNames: ['server', 'tool', 'outcome'],
    });
    this.backendInFlight = new InFlightGauge(
      'mcpgw_backend_calls_in_flight',
      'tools/call requests in flight on each backend',
      'server',
    );
    const perCall: RegistryMetric[] = [
      ...this.requests.metrics(),
      this.requestsInFlight.metric(),
      ...this.backendCalls.metrics(),
      this.backendInFlight.metric(),
    ];
    for (const metric of perCall) registry.registerMetric(metric as unknown as Prom.Metric);
    this.backendRetries = new prom.Counter({
      name: 'mcpgw_backend_call_retries_total',
      help: 'Calls sent again to a restarted backend after its process died mid-call',
      labelNames: ['server', 'tool'],
      registers,
    });
    this.runs = new prom.Counter({
      name: 'mcpgw_pipeline_runs_total',
      help: 'Pipeline runs (child runs included), by pipeline (custom: sent inline) and status',
      labelNames: ['pipeline', 'status'],
      registers,
    });
    this.runSeconds = new prom.Histogram({
      name: 'mcpgw_pipeline_run_duration_seconds',
      help: 'Pipeline run duration, in seconds',
      labelNames: ['pipeline', 'status'],
      buckets: RUN_BUCKETS,
      registers,
    });
    this.stepSeconds = new prom.Histogram({
      name: 'mcpgw_pipeline_step_duration_seconds',
      help: 'Pipeline step duration (every item and retry included), in seconds, by pipeline, step and status',
      labelNames: ['pipeline', 'step', 'status'],
      buckets: RUN_BUCKETS,
      registers,
    });
    this.stepRetries = new prom.Counter({
      name: 'mcpgw_pipeline_step_retries_total',
      help: 'Pipeline step calls retried after a failure (step retry)',
      labelNames: ['pipeline', 'step'],
      registers,
    });
    this.sessions = new prom.Gauge({
      name: 'mcpgw_sessions',
      help: 'Client sessions open, by transport and protocol era',
      labelNames: ['transport', 'era'],
      registers,
    });
    this.sessionsOpened = new prom.Counter({
      name: 'mcpgw_sessions_opened_total',
      help: 'Client sessions opened, by transport and protocol era',
      labelNames: ['transport', 'era'],
      registers,
    });
    this.reloads = new prom.Counter({
      name: 'mcpgw_reloads_total',
      help: 'Hot reloads of the config file and the pipelines folder, by outcome (ok, invalid)',
      labelNames: ['kind', 'outcome'],
      registers,
    });
    backendGauges(prom, registers, backends);
  }

  requestStarted(transport: string): void {
    this.requestsInFlight.add(transport, 1);
  }

  requestEnded(transport: string, tool: string, outcome: Outcome, seconds: number): void {
    this.requestsInFlight.add(transport, -1);
    this.requests.record([transport, tool, outcome], seconds);
  }

  backendStarted(server: string): void {
    this.backendInFlight.add(server, 1);
  }

  backendEnded(server: string, tool: string, outcome: Outcome, seconds: number): void {
    this.backendInFlight.add(server, -1);
    this.backendCalls.record([server, tool, outcome], seconds);
  }

  backendRetried(server: string, tool: string): void {
    this.backendRetries.inc({ server, tool });
  }

  runEnded(pipeline: string, status: string, seconds: number): void {
    this.runs.inc({ pipeline, status });
    this.runSeconds.observe({ pipeline, status }, seconds);
  }

  stepEnded(pipeline: string, step: string, status: string, seconds: number): void {
    this.stepSeconds.observe({ pipeline, step, status }, seconds);
  }

  stepRetried(pipeline: string, step: string): void {
    this.stepRetries.inc({ pipeline, step });
  }

  sessionOpened(transport: string, era: string): void {
    this.sessions.inc({ transport, era });
    this.sessionsOpened.inc({ transport, era });
  }

  sessionClosed(transport: string, era: string): void {
    this.sessions.dec({ transport, era });
  }

  reloaded(kind: string, outcome: string): void {
    this.reloads.inc({ kind, outcome });
  }

  /** The text exposition format, for a scrape. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}

/** Gauges read from the backend registry on each scrape. */
function backendGauges(
  prom: typeof Prom,
  registers: Prom.Registry[],
  backends: () => BackendSnapshot[],
): void {
  new prom.Gauge({
    name: 'mcpgw_backend_status',
    help: 'Each backend status: 1 for the one it is in, 0 for the others',
    labelNames: ['server', 'status'],
    registers,
    collect() {
      this.reset();
      for (const b of backends())
        for (const s of BACKEND_STATUSES) this.set({ server: b.name, status: s }, b.status === s ? 1 : 0);
    },
  });
  new prom.Gauge({
    name: 'mcpgw_backend_restarts',
    help: 'Restarts of each backend since it was added (or last replaced by a reload)',
    labelNames: ['server'],
    registers,
    collect() {
      this.reset();
      for (const b of backends()) this.set({ server: b.name }, b.restarts);
    },
  });
  new prom.Gauge({
    name: 'mcpgw_backend_tools',
    help: 'Tools each backend lists',
    labelNames: ['server'],
    registers,
    collect() {
      this.reset();
      for (const b of backends()) this.set({ server: b.name }, b.toolCount);
    },
  });
  new prom.Gauge({
    name: 'mcpgw_backend_last_error',
    help: '1 when a backend has a last error, labelled with its kind (timeout, not_found, unreachable, exited, other); list_servers has the text',
    labelNames: ['server', 'kind'],
    registers,
    collect() {
      this.reset();
      for (const b of backends()) {
        const kind = lastErrorKind(b.lastError);
        if (kind !== undefined) this.set({ server: b.name, kind }, 1);
      }
    },
  });
}
