/** Recordings on disk: read one for `--replay` and `test`, write one for `--record`. */
import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { type PipelineIssue, parseRecording, type Recording } from '../pipeline/index.js';
import { UsageError } from './args.js';

export type RecordingRead = { ok: true; data: Recording } | { ok: false; issues: PipelineIssue[] };

/** A missing file is bad usage; a file that is not a recording gives its problems at file:line:col. */
export async function readRecording(file: string): Promise<RecordingRead> {
  if (!existsSync(file)) throw new UsageError(`recording not found: ${file}`);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return {
      ok: false,
      issues: [{ file, line: 1, column: 1, message: `cannot read the file: ${(err as Error).message}` }],
    };
  }
  return parseRecording(text, file);
}

/** Written whole or not at all: a run cut short never leaves half a recording behind. */
export async function writeRecording(file: string, recording: Recording): Promise<void> {
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(recording, null, 2)}\n`);
  await rename(temp, file);
}
