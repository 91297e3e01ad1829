import picomatch from 'picomatch';
import type { AuthRule } from '../config/index.js';
import type { Caller } from './caller.js';

/**
 * Who may use what (`http.auth.rules`). A caller may use what every rule it matches allows; rules
 * only add. No rules: every authenticated caller may use everything, as with the static token (which
 * the rules never restrict: it is one shared secret, not an identity).
 */

/** What a call or a listed tool reaches. */
export type AccessTarget =
  | { kind: 'backend'; server: string; tool: string; served?: string }
  | { kind: 'pipeline'; pipeline: string }
  | { kind: 'meta'; name: string }
  /** A resource or resource template: its served URI and the backend's own. */
  | { kind: 'resource'; server: string; uri: string; own: string }
  /** A prompt: its served name and the backend's own. */
  | { kind: 'prompt'; server: string; name: string; own: string };

export interface Access {
  /** True when nothing is restricted for this caller. */
  readonly unrestricted: boolean;
  allows(target: AccessTarget): boolean;
  /**
   * Whether the gateway's listings (list_servers) name `server` at all. Unset: every server is named
   * (rules narrow tools, not the status page); a profile's view sets it to its `servers`.
   */
  showsServer?(server: string): boolean;
}

const UNRESTRICTED: Access = { unrestricted: true, allows: () => true };

export function accessFor(caller: Caller | undefined, rules: readonly AuthRule[] | undefined): Access {
  if (!caller || caller.kind === 'static' || rules === undefined) return UNRESTRICTED;
  const mine = rules.filter((rule) => matches(rule, caller));
  return { unrestricted: false, allows: (target) => mine.some((rule) => ruleAllows(rule, target)) };
}

/**
 * The scopes that would let this caller reach `target` (step-up, RFC 6750 `insufficient_scope`):
 * those of the rules that allow it and whose only unmet condition is a scope. Empty when no scope
 * would help.
 */
export function scopesToReach(
  caller: Caller | undefined,
  rules: readonly AuthRule[] | undefined,
  target: AccessTarget,
): string[] {
  if (!caller || caller.kind === 'static' || !rules) return [];
  const scopes = new Set<string>();
  for (const rule of rules) {
    const wanted = rule.when.scopes;
    if (!wanted || wanted.length === 0 || !ruleAllows(rule, target)) continue;
    if (!matches({ ...rule, when: { ...rule.when, scopes: undefined } }, caller)) continue;
    // The first scope named is the one to ask for; the others are alternatives.
    if (wanted[0] !== undefined) scopes.add(wanted[0]);
  }
  return [...scopes];
}

/**
 * The profiles this caller may use, of `profiles` (the names configured). The one place the profile
 * endpoints ask; no rules (or the static token): all of them.
 */
export function allowedProfiles(
  caller: Caller | undefined,
  rules: readonly AuthRule[] | undefined,
  profiles: readonly string[],
): string[] {
  if (!caller || caller.kind === 'static' || rules === undefined) return [...profiles];
  const mine = rules.filter((rule) => matches(rule, caller));
  return profiles.filter((p) => mine.some((rule) => globs(rule.profiles)(p)));
}

function matches(rule: Pick<AuthRule, 'when'>, caller: Caller): boolean {
  const { scopes, groups, subjects, clients } = rule.when;
  const anyOf = (wanted: string[] | undefined, have: readonly string[]) =>
    wanted === undefined || wanted.some((w) => have.includes(w));
  return (
    anyOf(scopes, caller.scopes) &&
    anyOf(groups, caller.groups) &&
    anyOf(subjects, [caller.subject]) &&
    anyOf(clients, caller.clientId ? [caller.clientId] : [])
  );
}

function ruleAllows(rule: AuthRule, target: AccessTarget): boolean {
  switch (target.kind) {
    case 'backend': {
      if (globs(rule.servers)(target.server)) return true;
      const tools = globs(rule.tools);
      return (
        tools(`${target.server}__${target.tool}`) || (target.served !== undefined && tools(target.served))
      );
    }
    case 'pipeline':
      return globs(rule.pipelines)(target.pipeline);
    case 'meta':
      return globs(rule.meta)(target.name);
    // A rule giving a whole backend (`servers`) gives its resources and prompts as well: they are
    // that backend's, as its tools are. `tools` globs give none: a tool is not a document.
    case 'resource': {
      if (globs(rule.servers)(target.server)) return true;
      const uris = globs(rule.resources);
      return uris(target.uri) || uris(target.own);
    }
    case 'prompt': {
      if (globs(rule.servers)(target.server)) return true;
      const names = globs(rule.prompts);
      return names(target.name) || names(target.own);
    }
  }
}

const compiled = new WeakMap<readonly string[], (name: string) => boolean>();

/** One matcher per glob list, made once: rules are checked on every list and call. */
function globs(patterns: readonly string[]): (name: string) => boolean {
  let matcher = compiled.get(patterns);
  if (!matcher) {
    matcher = patterns.length === 0 ? () => false : picomatch([...patterns], { dot: true, nonegate: true });
    compiled.set(patterns, matcher);
  }
  return matcher;
}
