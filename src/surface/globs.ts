/**
 * Glob patterns for names and URIs, with picomatch. A name matches a filter when it matches one of
 * `include` (or there is no `include`) and none of `exclude`: exclude wins, so "everything but" is
 * `exclude` alone, and "only these, minus one" is both.
 *
 * `*` and `?` do not cross `/` (a URI's path segments), `**` does; tool and prompt names hold no `/`,
 * so there `*` matches anything. A leading `!` is not negation (picomatch's meaning would make
 * `include: ["!x"]` include everything else, which reads wrong): validation refuses it
 * (config/surface.ts `globProblem`), and `exclude` says it instead. Pure: a profile reuses it.
 */
import picomatch from 'picomatch';
import { GLOB_OPTIONS, type GlobLists } from '../config/index.js';

export type NameMatcher = (name: string) => boolean;

/** One matcher for a list of patterns; false for every name when the list is empty. */
export function anyOf(patterns: readonly string[]): NameMatcher {
  if (patterns.length === 0) return () => false;
  const matchers = patterns.map((p) => picomatch(p, GLOB_OPTIONS));
  return (name) => matchers.some((m) => m(name));
}

/** Whether a name passes `include` / `exclude`. No lists: everything passes. */
export function globFilter(lists: GlobLists | undefined): NameMatcher {
  const include = lists?.include ?? [];
  const exclude = lists?.exclude ?? [];
  if (include.length === 0 && exclude.length === 0) return () => true;
  const included = include.length > 0 ? anyOf(include) : () => true;
  const excluded = anyOf(exclude);
  return (name) => included(name) && !excluded(name);
}
