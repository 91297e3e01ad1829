import { BackendRegistry } from '../backends/index.js';
import type { ToolInvoker } from '../backends/types.js';
import { compensationLine, formatValue, ms, redactEvent, redactRun } from '../front/index.js';
import { createLogger } from '../log.js';
import {
  allSteps,
  type CompiledPipeline,
  callClosure,
  type LoadOptions,
  loadCatalog,
  type PipelineResolver,
  prepareInputs,
  type Recording,
  RecordingInvoker,
  ReplayInvoker,
  runPipeline,
  type StepEvent,
  servedPipeline,
} from '../pipeline/index.js';
import { parseOptions, UsageError } from './args.js';
import { resolveConfig } from './config.js';
import { configServerChecks, displayPath, findPipeline, issueLine } from './pipelines.js';
import { readRecording, writeRecording } from './recording-file.js';

const options = {
  config: { type: 'string', short: 'c' },
  input: { type: 'string', short: 'i', multiple: true },
  'inputs-json': { type: 'string' },
  json: { type: 'boolean', default: false },
  record: { type: 'string' },
  replay: { type: 'string' },
} as const;

/**
 * Runs one pipeline against the config's backends: each step live on stderr, then the output on
 * stdout (or the whole RunResult with --json). Exit 1 when the run does not succeed.
 * `--record FILE` writes every backend call down; `--replay FILE` answers them from such a file and
 * starts no backend at all.
 */
export async function runCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseOptions(argv, options);
  if (positionals.length !== 1) throw new UsageError('run takes one pipeline: a name or a file');
  if (values.record !== undefined && values.replay !== undefined) {
    throw new UsageError('--record and --replay do not go together');
  }
  const config = await resolveConfig(values.config);
  const entry = await findPipeline(positionals[0]!, config, configServerChecks(config));
  if (!entry.pipeline) {
    process.stderr.write(`${entry.issues.map((i) => issueLine(i)).join('\n')}\n`);
    return 1;
  }
  const pipeline = entry.pipeline;
  let recording: Recording | undefined;
  if (values.replay !== undefined) {
    const read = await readRecording(values.replay);
    if (!read.ok) {
      process.stderr.write(`${read.issues.map((i) => issueLine(i)).join('\n')}\n`);
      return 1;
    }
    recording = read.data;
  }
  // A replay runs with the recorded inputs unless --input / --inputs-json say otherwise — when the
  // recording is of this pipeline; another's inputs would not fit.
  const sameName = recording?.pipeline === pipeline.name;
  if (recording && !sameName) {
    process.stderr.write(
      `note: ${displayPath(values.replay!)} is a recording of pipeline '${recording.pipeline}', not '${pipeline.name}'; its inputs are not used\n`,
    );
  }
  const inputs = {
    ...(sameName ? recording?.inputs : {}),
    ...readInputs(pipeline, values.input ?? [], values['inputs-json']),
  };
  // Bad inputs are a usage error, found before any backend starts.
  const prepared = prepareInputs(pipeline, inputs, { coerce: true });
  if (!prepared.ok) throw new UsageError(`pipeline '${pipeline.name}': ${prepared.errors.join('; ')}`);

  const pipelines = await childPipelines(pipeline, config.pipelinesDir, configServerChecks(config));
  // Only the backends this pipeline and the pipelines it calls use are started, and none for a replay.
  const used = new Set(callClosure(pipeline, pipelines).flatMap((p) => allSteps(p).map((s) => s.server)));
  const registry = new BackendRegistry({
    defaultTimeoutMs: config.defaultTimeoutMs,
    logger: createLogger('run', 'warn'),
  });
  if (!recording) {
    for (const server of config.servers) if (server.enabled && used.has(server.name)) registry.add(server);
  } else {
    const count = recording.calls.length;
    process.stderr.write(
      `replaying ${displayPath(values.replay!)} (${count} call${count === 1 ? '' : 's'}, recorded ${recording.recordedAt}); no backend started\n`,
    );
  }
  const recorder = values.record !== undefined ? new RecordingInvoker(registry) : undefined;
  const invoker: ToolInvoker = recording
    ? new ReplayInvoker(recording, displayPath(values.replay!))
    : (recorder ?? registry);
  const timeouts = new Map(config.servers.map((s) => [s.name, s.timeoutMs]));

  const controller = new AbortController();
  const onSignal = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const width = Math.max(...allSteps(pipeline).map((s) => s.id.length));
  const recordedAt = new Date();
  let code: number;
  try {
    const run = await runPipeline(pipeline, inputs, {
      invoker,
      pipelines,
      signal: controller.signal,
      defaultTimeoutMs: config.defaultTimeoutMs,
      timeoutFor: (server) => timeouts.get(server),
      coerceInputs: true,
      onEvent: (event) => process.stderr.write(`${eventLine(redactEvent(event), width)}\n`),
    });
    // Step errors quote what backends said, secrets included; outputs are data and stay as they are.
    const result = redactRun(run);
    const done = `pipeline '${pipeline.name}' ${result.status} in ${ms(result.durationMs)}`;
    process.stderr.write(result.status === 'succeeded' ? `${done}\n` : `${done}: ${result.error}\n`);
    if (result.compensation) process.stderr.write(`${compensationLine(result.compensation)}\n`);
    if (values.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else if (result.status === 'succeeded') process.stdout.write(`${formatValue(result.output)}\n`);
    code = result.status === 'succeeded' ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await registry.close();
  }
  if (recorder && values.record !== undefined) {
    // Written once the backends are closed, so every call has settled; a failed run is worth keeping too.
    const file = values.record;
    const written = recorder.recording(pipeline.name, prepared.inputs, recordedAt);
    try {
      await writeRecording(file, written);
    } catch (err) {
      process.stderr.write(`cannot write the recording ${displayPath(file)}: ${(err as Error).message}\n`);
      return 1;
    }
    const count = written.calls.length;
    process.stderr.write(`recorded ${count} call${count === 1 ? '' : 's'} to ${displayPath(file)}\n`);
  }
  return code;
}

/** The pipelines `pipeline` may call: those of the config's folder, read once, before the run. */
async function childPipelines(
  pipeline: CompiledPipeline,
  dir: string,
  options: LoadOptions | undefined,
): Promise<PipelineResolver> {
  if (![...pipeline.steps.values()].some((s) => s.pipeline)) return () => undefined;
  const catalog = await loadCatalog(dir, options);
  return (name) => {
    const entry = catalog.get(name);
    return entry ? servedPipeline(entry) : undefined;
  };
}

function eventLine(event: StepEvent, width: number): string {
  const id = event.step.padEnd(width);
  switch (event.type) {
    case 'started':
      return `→ ${id}  started ${event.pipeline !== undefined ? `pipeline ${event.pipeline}` : `${event.server}.${event.tool}`}${event.items !== undefined ? ` × ${event.items} items` : ''}`;
    case 'succeeded':
      return `✓ ${id}  done in ${ms(event.durationMs)}`;
    case 'failed':
      return `✗ ${id}  failed after ${ms(event.durationMs)}: ${event.error}${event.continued ? ' (continuing)' : ''}`;
    case 'retrying':
      return `↻ ${id}  retrying in ${ms(event.delayMs)} (attempt ${event.attempt}): ${event.error}`;
    case 'skipped':
      return `- ${id}  skipped: ${event.reason}`;
    case 'cancelled':
      return `✗ ${id}  ${event.reason}`;
  }
}

/**
 * --inputs-json gives an object; each --input key=value sets one input on top of it. A value is read
 * as JSON when it parses (10, true, ["CA"]), else as text; an input declared as a list also takes
 * `a,b,c` or the key given several times. Types are then coerced to the declared ones ("10" → 10).
 */
function readInputs(
  pipeline: CompiledPipeline,
  pairs: string[],
  json: string | undefined,
): Record<string, unknown> {
  let inputs: Record<string, unknown> = {};
  if (json !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch (err) {
      throw new UsageError(`--inputs-json is not valid JSON: ${(err as Error).message}`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new UsageError('--inputs-json must be a JSON object');
    }
    inputs = parsed as Record<string, unknown>;
  }
  const seen = new Set<string>();
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`--input expects key=value, got '${pair}'`);
    const key = pair.slice(0, at);
    const raw = pair.slice(at + 1);
    const type = pipeline.inputs[key]?.type;
    if (type === 'array') {
      const value = parseList(raw);
      const previous = seen.has(key) && Array.isArray(inputs[key]) ? (inputs[key] as unknown[]) : [];
      set(inputs, key, [...previous, ...value]);
    } else {
      set(inputs, key, type === 'string' ? raw : parseScalar(raw));
    }
    seen.add(key);
  }
  return inputs;
}

/** An own property even for a key like `__proto__`, so the inputs check reports it as unknown. */
function set(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function parseScalar(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function parseList(raw: string): unknown[] {
  const parsed = parseScalar(raw);
  if (Array.isArray(parsed)) return parsed;
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
