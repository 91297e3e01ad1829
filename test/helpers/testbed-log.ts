import { readFileSync } from 'node:fs';

/** One line of the testbed's TESTBED_LOG file (see test/fixtures/servers/testbed.mjs). */
export interface TestbedEvent {
  event: string;
  tool?: string;
  args?: Record<string, unknown>;
  requestId?: number;
  /** The `_meta.traceparent` a call carried. */
  traceparent?: string;
  reason?: string;
  pid?: number;
  time?: number;
}

/** The events a testbed has logged so far; none while the file does not exist yet. */
export function readTestbedLog<T = TestbedEvent>(file: string): T[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as T);
}
