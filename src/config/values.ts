/**
 * Readers of one config value, shared by the sections' normalizers: each guards its value's type
 * (the data may have failed the schema, which already reported it) and pushes a problem for a value
 * of the right type that still does not do.
 */
import { parseDuration } from './duration.js';
import type { Problem, Segment } from './problems.js';
import { parseSize } from './size.js';

export type Data = Record<string, unknown>;

export function isData(value: unknown): value is Data {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function has(data: Data, key: string): boolean {
  return Object.hasOwn(data, key) && data[key] !== undefined;
}

/** A timeout: a duration above zero; `undefined` when absent or invalid (then `problems` says why). */
export function timeoutValue(value: unknown, path: Segment[], problems: Problem[]): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  try {
    const ms = parseDuration(value);
    if (ms > 0) return ms;
    problems.push({ path, text: 'a timeout must be more than 0' });
  } catch (err) {
    problems.push({ path, text: (err as Error).message });
  }
  return undefined;
}

/** A duration of zero or more; `undefined` when absent or invalid (then `problems` says why). */
export function durationValue(value: unknown, path: Segment[], problems: Problem[]): number | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  try {
    return parseDuration(value);
  } catch (err) {
    problems.push({ path, text: (err as Error).message });
    return undefined;
  }
}

/** Bytes for a size setting; a problem (and undefined) when it is not one, or is under 1 KiB. */
export function sizeValue(value: unknown, path: Segment[], problems: Problem[]): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  try {
    const bytes = parseSize(value);
    // Below this not even initialize fits: the gateway could serve nothing.
    if (bytes >= MIN_MESSAGE_BYTES) return bytes;
    problems.push({ path, text: 'a message size limit must be at least 1KiB' });
  } catch (err) {
    problems.push({ path, text: (err as Error).message });
  }
  return undefined;
}

const MIN_MESSAGE_BYTES = 1024;

/** The string entries of a mapping, each as an own property (a `__proto__` key stays a key, not a prototype). */
export function stringMap(value: unknown): Record<string, string> {
  if (!isData(value)) return {};
  return Object.fromEntries(
    Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
}
