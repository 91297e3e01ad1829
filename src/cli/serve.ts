import path from 'node:path';
import { parseDuration } from '../config/index.js';
import { errorMessage } from '../errors.js';
import { Gateway, type MetricsListener, startMetricsListener } from '../front/index.js';
import { createLogger, LOG_FORMATS, type LogFormat, setLogFormat } from '../log.js';
import { startObservability } from '../observability/index.js';
import { parseOptions, parsePort, UsageError } from './args.js';
import { resolveAutoRegister, resolveConfig } from './config.js';
import { writeExitReport } from './exit-report.js';
import { VERSION } from './version.js';

const options = {
  config: { type: 'string', short: 'c' },
  'auto-register': { type: 'string' },
  transport: { type: 'string', default: 'stdio' },
  port: { type: 'string' },
  host: { type: 'string' },
  pipelines: { type: 'string' },
  'no-watch': { type: 'boolean', default: false },
  'shutdown-timeout': { type: 'string' },
  'log-format': { type: 'string' },
  'metrics-port': { type: 'string' },
  'metrics-host': { type: 'string' },
  profile: { type: 'string' },
} as const;

/** Exit codes of `serve` besides 0 (a clean stop) and 2 (bad usage). */
export const EXIT = {
  /** Start-up failed, or stopping hit the shutdown deadline and cut calls off. */
  failed: 1,
  /** A second stop signal during shutdown: 128 + the signal number, as shells report it. */
  SIGHUP: 129,
  SIGINT: 130,
  SIGTERM: 143,
} as const;

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
type StopSignal = (typeof STOP_SIGNALS)[number];

export async function serveCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseOptions(argv, options);
  if (positionals.length) throw new UsageError(`serve takes no arguments, got '${positionals.join(' ')}'`);
  const transport = values.transport;
  if (values.profile !== undefined && transport !== 'stdio')
    throw new UsageError('--profile is for stdio; over HTTP each profile is served at /mcp/<profile>');
  if (transport !== 'stdio' && transport !== 'streamable-http' && transport !== 'http') {
    throw new UsageError(`--transport must be stdio or streamable-http, got '${transport}'`);
  }
  const port = parsePort(values.port);
  const shutdownOverride = parseShutdownTimeout(values['shutdown-timeout']);
  const listen = { host: values.host, port };
  const logFormat = values['log-format'] ?? 'text';
  if (!(LOG_FORMATS as readonly string[]).includes(logFormat))
    throw new UsageError(`--log-format must be text or json, got '${logFormat}'`);
  setLogFormat(logFormat as LogFormat);
  const metricsPort = parsePort(values['metrics-port'], '--metrics-port');
  if (values['metrics-host'] !== undefined && metricsPort === undefined)
    throw new UsageError('--metrics-host needs --metrics-port');

  const logger = createLogger('gateway');
  const config = await resolveConfig(values.config);
  const extraServers = await resolveAutoRegister(values['auto-register'], config);
  const pipelinesDir = values.pipelines === undefined ? undefined : path.resolve(values.pipelines);
  const gateway = new Gateway({ config, logger, version: VERSION, extraServers, pipelinesDir });
  // Settings that cannot serve are refused before any backend starts.
  if (transport !== 'stdio') gateway.checkHttp(listen);
  // Read when stopping begins, so a config reload's new value applies.
  const deadline = () => shutdownOverride ?? gateway.config.shutdownTimeoutMs;
  const observability = await startObservability({
    transport: transport === 'stdio' ? 'stdio' : 'http',
    metrics: config.metrics || metricsPort !== undefined,
    audit: config.audit,
    ...(config.http.token ? { token: config.http.token } : {}),
    version: VERSION,
    env: process.env,
    names: gateway.frontNames(),
    backends: () => gateway.registry.list(),
    logger: logger.child('observability'),
  });
  let metricsListener: MetricsListener | undefined;

  /**
   * Stops within the deadline and exits: 0 when clean, 1 when calls were cut off or `failure` is set.
   * When the stdio client closed stdin nobody is left to answer: no drain, and 0 even if calls ran.
   */
  let stopping = false;
  const stop = async (
    reason: string,
    how: { failure?: string; clientGone?: boolean } = {},
  ): Promise<never> => {
    stopping = true;
    const ms = deadline();
    logger.info(`shutting down (${reason}); deadline ${ms} ms`);
    const result = await gateway.shutdown(ms, { drain: !how.clientGone });
    await Promise.allSettled([metricsListener?.close(), observability.close()]);
    await writeExitReport(gateway);
    if (how.clientGone) process.exit(how.failure === undefined ? 0 : EXIT.failed);
    if (!result.clean) {
      const what = [
        result.cutOff ? `${result.cutOff} request(s) still running were cut off` : '',
        result.closed ? '' : 'backends had not stopped',
      ].filter(Boolean);
      logger.warn(
        `the shutdown deadline (${ms} ms) passed: ${what.join('; ') || 'answers were still going out'}`,
      );
    }
    process.exit(how.failure !== undefined || !result.clean ? EXIT.failed : 0);
  };
  const onSignal = (signal: StopSignal) => {
    if (!stopping) {
      void stop(signal);
      return;
    }
    // The operator insists: go now. Exiting runs the backends' own last-resort kill ('exit' hooks).
    logger.warn(`${signal} again during shutdown: exiting at once`);
    process.exit(EXIT[signal]);
  };
  // SIGHUP too (a closed terminal, a supervisor's reload-by-HUP): unhandled, it would end the process
  // without the exit hooks, and the backends' process groups would outlive the gateway.
  for (const signal of STOP_SIGNALS) process.on(signal, () => onSignal(signal));

  try {
    // Hot reload (unless --no-watch): the pipelines folder is watched from before it is first read, so
    // no edit falls between the two; the config file's folder once serving.
    const watch = !values['no-watch'];
    gateway.startBackends();
    await gateway.startCluster();
    if (watch) await gateway.watchPipelines().ready.catch(() => {});
    await gateway.loadPipelines();
    if (transport === 'stdio') {
      await gateway.serveStdio(values.profile);
      // The client owns our lifetime in stdio mode: when it closes stdin, we are done.
      const onEnd = () => {
        if (!stopping) void stop('stdin closed', { clientGone: true });
      };
      process.stdin.on('end', onEnd);
      process.stdin.on('close', onEnd);
      logger.info(`serving on stdio (${config.servers.length + extraServers.length} backends configured)`);
    } else {
      // `metrics: true` serves /metrics on the front; --metrics-port serves it on a listener of its own.
      const onFront = config.metrics && metricsPort === undefined ? observability.metrics : undefined;
      await gateway.serveHttp(listen, onFront);
    }
    if (metricsPort !== undefined && observability.metrics) {
      metricsListener = await startMetricsListener({
        host: values['metrics-host'] ?? '127.0.0.1',
        port: metricsPort,
        ...(config.http.token ? { token: config.http.token } : {}),
        allowedHosts: config.http.allowedHosts,
        source: observability.metrics,
        logger: logger.child('metrics'),
      });
    } else if (config.metrics && transport === 'stdio') {
      logger.warn('metrics: true serves /metrics on the HTTP front; over stdio, use --metrics-port N');
    }
    if (watch) gateway.watchConfig();
  } catch (err) {
    // Backends have started: a bare throw would leave them, and this process, running for ever.
    const reason = errorMessage(err);
    logger.error(`could not start: ${reason}`);
    if (!stopping) await stop('start-up failed', { failure: reason });
  }
  return new Promise<number>(() => {
    // Serve until a signal or the end of stdin ends the process.
  });
}

function parseShutdownTimeout(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  try {
    const ms = parseDuration(value);
    if (ms > 0) return ms;
  } catch {
    // reported below
  }
  throw new UsageError(`--shutdown-timeout must be a duration above 0 like "10s" or "500ms", got '${value}'`);
}
