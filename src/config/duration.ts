/**
 * Durations as people write them in config and pipeline files: `"10s"`, `"500ms"`, `"2m"`, `"1.5s"`,
 * `"1h"`, or a number of milliseconds (`10000` or `"10000"`).
 */

/** The largest delay `setTimeout` honours; anything above it fires at once. */
export const MAX_DURATION_MS = 2_147_483_647;

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;
type Unit = keyof typeof UNIT_MS;

const DURATION_RE = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/;

/** The same language as {@link parseDuration}, for `schemas/*.schema.json` to stay in step with. */
export const DURATION_PATTERN = '^\\s*\\d+(\\.\\d+)?\\s*(ms|s|m|h)?\\s*$';

export const DURATION_HINT = 'expected a duration like "10s", "500ms" or a number of milliseconds';

/**
 * Milliseconds for a duration, rounded to a whole number. Throws a `RangeError` naming what is
 * accepted for anything else: negative, non-finite, unknown unit, empty, or above ~24.8 days.
 * The message never repeats the value, which may have come from an environment variable.
 */
export function parseDuration(value: string | number): number {
  let ms: number;
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new RangeError(DURATION_HINT);
    ms = value;
  } else if (typeof value === 'string') {
    const match = DURATION_RE.exec(value.trim());
    if (!match) throw new RangeError(DURATION_HINT);
    ms = Number(match[1]) * UNIT_MS[(match[2] as Unit | undefined) ?? 'ms'];
  } else {
    throw new RangeError(DURATION_HINT);
  }
  const rounded = Math.round(ms);
  if (rounded > MAX_DURATION_MS) throw new RangeError('durations above 24 days are not supported');
  return rounded;
}

/** `1500` → `"1.5s"`; for messages and listings. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${ms}ms`;
  if (ms < 60_000) return `${+(ms / 1_000).toFixed(3)}s`;
  if (ms < 3_600_000) return `${+(ms / 60_000).toFixed(3)}m`;
  return `${+(ms / 3_600_000).toFixed(3)}h`;
}
