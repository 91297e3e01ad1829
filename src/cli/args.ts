import { type ParseArgsConfig, parseArgs } from 'node:util';

/** Bad command-line usage: exits 2, the convention `validate` and CI scripts rely on. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Parses options strictly, turning the parser's complaints into usage errors. */
export function parseOptions<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

export function parsePort(value: string | undefined, flag = '--port'): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535 || value.trim() === '')
    throw new UsageError(`${flag} must be 0-65535, got '${value}'`);
  return port;
}
