/**
 * Sizes as people write them in config files: `"4MiB"`, `"512KiB"`, `"1.5MiB"`, `"4MB"`, or a whole
 * number of bytes (`4194304` or `"4194304"`). KiB/MiB/GiB are powers of 1024; KB/MB/GB powers of 1000.
 */

const UNIT_BYTES = {
  b: 1,
  kb: 1_000,
  mb: 1_000_000,
  gb: 1_000_000_000,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
} as const;
type Unit = keyof typeof UNIT_BYTES;

const SIZE_RE = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|kib|mib|gib)?$/i;

/** The same language as {@link parseSize}, for `schemas/gateway.schema.json` to stay in step with. */
export const SIZE_PATTERN = '^\\s*\\d+(\\.\\d+)?\\s*([bB]|[kKmMgG][iI]?[bB])?\\s*$';

export const SIZE_HINT = 'expected a size like "4MiB", "512KiB" or a number of bytes';

/** Largest size accepted: 1 GiB. A message limit beyond it only lets a peer exhaust memory. */
export const MAX_SIZE_BYTES = 1024 ** 3;

/**
 * Bytes for a size, rounded down to a whole number. Throws a `RangeError` naming what is accepted for
 * anything else. The message never repeats the value, which may have come from an environment variable.
 */
export function parseSize(value: string | number): number {
  let bytes: number;
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new RangeError(SIZE_HINT);
    bytes = value;
  } else if (typeof value === 'string') {
    const match = SIZE_RE.exec(value.trim());
    if (!match) throw new RangeError(SIZE_HINT);
    const unit = (match[2] ?? 'b').toLowerCase() as Unit satisfies Unit;
    bytes = Number(match[1]) * UNIT_BYTES[unit];
  } else {
    throw new RangeError(SIZE_HINT);
  }
  const whole = Math.floor(bytes);
  if (whole > MAX_SIZE_BYTES) throw new RangeError('sizes above 1GiB are not supported');
  return whole;
}

/** `4194304` → `"4MiB"`, `1500` → `"1500 bytes"`; for messages. */
export function formatSize(bytes: number): string {
  for (const [unit, size] of [
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const) {
    if (bytes >= size && bytes % (size / 16) === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes} bytes`;
}
