import path from 'node:path';
import { Gateway } from '../front/index.js';
import { createLogger } from '../log.js';
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
} as const;

export async function serveCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseOptions(argv, options);
  if (positionals.length) throw new UsageError(`serve takes no arguments, got '${positionals.join(' ')}'`);
  const transport = values.transport;
  if (transport !== 'stdio' && transport !== 'streamable-http' && transport !== 'http') {
    throw new UsageError(`--transport must be stdio or streamable-http, got '${transport}'`);
  }
  const port = parsePort(values.port);

  const logger = createLogger('gateway');
  const config = await resolveConfig(values.config);
  const extraServers = await resolveAutoRegister(values['auto-register'], config);
  const pipelinesDir = values.pipelines === undefined ? undefined : path.resolve(values.pipelines);
  const gateway = new Gateway({ config, logger, version: VERSION, extraServers, pipelinesDir });

  const shutdown = once(async (reason: string) => {
    logger.info(`shutting down (${reason})`);
    await gateway.close();
    await writeExitReport(gateway);
    process.exit(0);
  });
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  // Hot reload (unless --no-watch): the pipelines folder is watched from before it is first read, so
  // no edit falls between the two; the config file's folder once serving.
  const watch = !values['no-watch'];
  gateway.startBackends();
  if (watch) await gateway.watchPipelines().ready.catch(() => {});
  await gateway.loadPipelines();
  if (transport === 'stdio') {
    await gateway.serveStdio();
    // The client owns our lifetime in stdio mode: when it closes stdin, we are done.
    process.stdin.on('end', () => void shutdown('stdin closed'));
    process.stdin.on('close', () => void shutdown('stdin closed'));
    logger.info(`serving on stdio (${config.servers.length + extraServers.length} backends configured)`);
  } else {
    await gateway.serveHttp({ host: values.host, port });
  }
  if (watch) gateway.watchConfig();
  return new Promise<number>(() => {
    // Serve until a signal or the end of stdin ends the process.
  });
}

function once<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  let started: Promise<void> | undefined;
  return (...args) => {
    started ??= fn(...args);
    return started;
  };
}
