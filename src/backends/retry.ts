import type { Tool } from '@modelcontextprotocol/client';
import type { RetryOnCrash } from '../config/types.js';

/**
 * Whether a call that was in flight when its backend process died is sent again, once, to the
 * restarted process. The operator's `retry_on_crash` decides when it names the tool (or the whole
 * server); otherwise the tool's own annotations do: `readOnlyHint` or `idempotentHint` true. These are
 * hints from the backend, so the operator can override them either way. Never otherwise: a call that
 * may have had an effect is not repeated behind the caller's back.
 */
export function retriesOnCrash(
  tool: string,
  definition: Pick<Tool, 'annotations'> | undefined,
  setting: RetryOnCrash | undefined,
): boolean {
  const override = operatorSetting(tool, setting);
  if (override !== undefined) return override;
  const hints = definition?.annotations;
  return hints?.readOnlyHint === true || hints?.idempotentHint === true;
}

/** The operator's word for `tool`: an exact key first, then the first `*` pattern that matches. */
export function operatorSetting(tool: string, setting: RetryOnCrash | undefined): boolean | undefined {
  if (setting === undefined || typeof setting === 'boolean') return setting;
  if (Object.hasOwn(setting, tool)) return setting[tool];
  for (const [pattern, value] of Object.entries(setting)) {
    if (pattern.includes('*') && globMatches(pattern, tool)) return value;
  }
  return undefined;
}

/** `*` matches any run of characters (none included); everything else matches itself. */
function globMatches(pattern: string, name: string): boolean {
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`).test(name);
}
