import { GatewayError } from '../errors.js';

/**
 * Readers for meta-tool arguments. A client may send anything; each reader names the argument and
 * the tool so the error is actionable, and they never throw anything but PARAMS_INVALID.
 */
export type Args = Record<string, unknown>;

function invalid(tool: string, message: string): GatewayError {
  return new GatewayError('PARAMS_INVALID', `${tool}: ${message}`, { tool });
}

export function requireString(args: Args, key: string, tool: string): string {
  const value = args[key];
  if (typeof value !== 'string' || value.length === 0) {
    throw invalid(tool, `'${key}' is required and must be a non-empty string`);
  }
  return value;
}

export function optionalString(args: Args, key: string, tool: string): string | undefined {
  const value = args[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalid(tool, `'${key}' must be a string`);
  return value;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * `params` may be an object or, as the original gateway took it, a JSON string of one.
 */
export function readParams(value: unknown, tool: string): Record<string, unknown> {
  if (value === undefined || value === null || value === '') return {};
  if (isPlainObject(value)) return value;
  if (typeof value === 'string') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw invalid(tool, `'params' is not valid JSON: ${reason}`);
    }
    if (!isPlainObject(parsed)) {
      throw invalid(tool, `'params' must be a JSON object, got ${describeType(parsed)}`);
    }
    return parsed;
  }
  throw invalid(tool, `'params' must be an object or a JSON string of one, got ${describeType(value)}`);
}

export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
