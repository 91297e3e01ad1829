/**
 * `mcp-gateway test`: every pipeline test (`*.test.yaml`) in the given folders runs its pipeline on
 * its recording — no backend is started — and checks the run result. One line per test; exit 1 when
 * any fails.
 */
import { existsSync, statSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ms, redactRun } from '../front/index.js';
import {
  type Catalog,
  checkExpectation,
  type ExpectationResult,
  loadCatalog,
  type PipelineIssue,
  type PipelineTest,
  parsePipelineTest,
  prepareInputs,
  ReplayInvoker,
  runPipeline,
} from '../pipeline/index.js';
import { parseOptions, UsageError } from './args.js';
import { resolveConfig } from './config.js';
import { displayPath, issueLine } from './pipelines.js';
import { readRecording } from './recording-file.js';

const options = {
  config: { type: 'string', short: 'c' },
  json: { type: 'boolean', default: false },
} as const;

const TEST_FILE = /\.test\.ya?ml$/i;

export interface TestOutcome {
  file: string;
  pipeline?: string;
  description?: string;
  ok: boolean;
  /** Why the test could not run: its file, pipeline or recording is invalid or missing. */
  issues?: PipelineIssue[];
  status?: string;
  error?: string;
  durationMs?: number;
  expectations: ExpectationResult[];
}

export async function testCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseOptions(argv, options);
  const config = await resolveConfig(values.config);
  const targets = positionals.length > 0 ? positionals : [config.pipelinesDir];
  const files: string[] = [];
  for (const target of targets) {
    if (!existsSync(target)) throw new UsageError(`no such file or folder: ${target}`);
    if (statSync(target).isDirectory()) {
      const names = (await readdir(target)).filter((n) => TEST_FILE.test(n)).sort();
      files.push(...names.map((n) => path.join(target, n)));
    } else files.push(target);
  }
  const catalogs = new Map<string, Promise<Catalog>>();
  const outcomes: TestOutcome[] = [];
  for (const file of files) {
    outcomes.push(
      await runTest(
        file,
        config.defaultTimeoutMs,
        new Map(config.servers.map((s) => [s.name, s.timeoutMs])),
        catalogs,
      ),
    );
  }
  const passed = outcomes.filter((o) => o.ok).length;
  const summary = { tests: outcomes.length, passed, failed: outcomes.length - passed };
  if (values.json) {
    const report = { ok: summary.failed === 0 && summary.tests > 0, tests: outcomes, summary };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    for (const outcome of outcomes) process.stdout.write(`${outcomeLines(outcome).join('\n')}\n`);
    process.stdout.write(
      outcomes.length === 0
        ? `no pipeline tests (*.test.yaml) in ${targets.map((t) => displayPath(t)).join(', ')}\n`
        : `${summary.tests} pipeline test${summary.tests === 1 ? '' : 's'}: ${passed} passed, ${summary.failed} failed\n`,
    );
  }
  // No tests at all fails too: a CI job pointed at the wrong folder should not pass.
  return summary.failed === 0 && summary.tests > 0 ? 0 : 1;
}

async function runTest(
  file: string,
  defaultTimeoutMs: number,
  timeouts: Map<string, number | undefined>,
  catalogs: Map<string, Promise<Catalog>>,
): Promise<TestOutcome> {
  const shown = displayPath(file);
  const failed = (issues: PipelineIssue[], test?: PipelineTest): TestOutcome => ({
    file: shown,
    ...(test ? { pipeline: test.pipeline } : {}),
    ok: false,
    issues,
    expectations: [],
  });
  const parsed = parsePipelineTest(await readFile(file, 'utf8'), file);
  if (!parsed.ok) return failed(parsed.issues);
  const test = parsed.data;
  const dir = path.dirname(file);
  // The pipeline is looked up beside the test, without checking servers: the recording stands in for them.
  let catalog = catalogs.get(dir);
  if (!catalog) {
    catalog = loadCatalog(dir);
    catalogs.set(dir, catalog);
  }
  const entry = (await catalog).get(test.pipeline);
  if (!entry)
    return failed(
      [{ file, line: 1, column: 1, message: `no pipeline '${test.pipeline}' in ${displayPath(dir)}` }],
      test,
    );
  if (!entry.pipeline) return failed(entry.issues, test);
  const recordingFile = path.resolve(dir, test.recording);
  if (!existsSync(recordingFile)) {
    return failed(
      [{ file, line: 1, column: 1, message: `recording not found: ${displayPath(recordingFile)}` }],
      test,
    );
  }
  const recording = await readRecording(recordingFile);
  if (!recording.ok) return failed(recording.issues, test);
  const inputs = {
    ...(recording.data.pipeline === test.pipeline ? recording.data.inputs : {}),
    ...test.inputs,
  };
  const prepared = prepareInputs(entry.pipeline, inputs, {});
  if (!prepared.ok) {
    return failed([{ file, line: 1, column: 1, message: `inputs: ${prepared.errors.join('; ')}` }], test);
  }
  const run = redactRun(
    await runPipeline(entry.pipeline, inputs, {
      invoker: new ReplayInvoker(recording.data, displayPath(recordingFile)),
      defaultTimeoutMs,
      timeoutFor: (server) => timeouts.get(server),
    }),
  );
  // Unless the test says what the status should be, the run must succeed.
  const checks = test.expect.some((e) => /^\$\.status\b|^\$\['status'\]/.test(e.path))
    ? test.expect
    : [{ path: '$.status', equals: 'succeeded' }, ...test.expect];
  const expectations = checks.map((e) => checkExpectation(e, run));
  return {
    file: shown,
    pipeline: test.pipeline,
    ...(test.description !== undefined ? { description: test.description } : {}),
    ok: expectations.every((e) => e.ok),
    status: run.status,
    ...(run.error !== undefined ? { error: run.error } : {}),
    durationMs: run.durationMs,
    expectations,
  };
}

/** `✓ file  pipeline: n checks in 5 ms`, or `✗ …` with each failing check below it. */
function outcomeLines(outcome: TestOutcome): string[] {
  const head = `${outcome.file}${outcome.pipeline ? `  ${outcome.pipeline}` : ''}`;
  if (outcome.issues) return [`✗ ${head}`, ...outcome.issues.map((i) => `    ${issueLine(i)}`)];
  const n = outcome.expectations.length;
  if (outcome.ok)
    return [`✓ ${head}: ${n} check${n === 1 ? '' : 's'} passed in ${ms(outcome.durationMs ?? 0)}`];
  const lines = [`✗ ${head}`];
  for (const e of outcome.expectations) if (!e.ok) lines.push(`    ${e.path} ${e.matcher}: ${e.message}`);
  if (outcome.error) lines.push(`    the run ${outcome.status}: ${outcome.error}`);
  return lines;
}
