/**
 * Names that fit: model APIs reject tool names over 64 characters (some clients cut at ~60), and a
 * gateway makes long names — `<server>__<tool>` on top of a backend's already long tool names. A
 * name longer than the maximum is served as a readable head, `-`, and 8 hex characters of a SHA-256
 * of the whole name: the same name always gets the same short name (clients and saved prompts keep
 * working across restarts), and two long names that share a head differ by their hash.
 *
 * "Never colliding" is kept by construction, not by trusting the hash: names that already fit are
 * taken first, then the long ones in sorted order; a short name already taken (by a name that fits,
 * or another short name — a 1-in-4-billion event) is re-hashed with a counter until it is free.
 * Sorting makes the outcome depend on the set of names only, not on the order backends listed them.
 */
import { createHash } from 'node:crypto';

/** `-` and 8 hex characters. */
export const HASH_SUFFIX_LENGTH = 9;

/** The short form of `name` for `max` characters, attempt `n` (0 first); `name` itself if it fits. */
export function shortName(name: string, max: number, n = 0): string {
  if (name.length <= max && n === 0) return name;
  const hash = createHash('sha256')
    .update(n === 0 ? name : `${name}\0${n}`)
    .digest('hex')
    .slice(0, 8);
  // A head that ends in a separator reads as cut; drop trailing `_`, `-` and `.`.
  const head = name.slice(0, max - HASH_SUFFIX_LENGTH).replace(/[_.-]+$/, '');
  return `${head}-${hash}`;
}

/**
 * The served name of each name in `names` (duplicates are the caller's affair: they map to one
 * entry). Every value is at most `max` characters, and distinct names get distinct values.
 */
export function fitNames(names: Iterable<string>, max: number): Map<string, string> {
  const unique = [...new Set(names)];
  const out = new Map<string, string>();
  const taken = new Set<string>();
  for (const name of unique) {
    if (name.length <= max) {
      out.set(name, name);
      taken.add(name);
    }
  }
  const long = unique.filter((n) => n.length > max).sort();
  for (const name of long) {
    let n = 0;
    let short = shortName(name, max, n);
    while (taken.has(short)) short = shortName(name, max, ++n);
    out.set(name, short);
    taken.add(short);
  }
  return out;
}
