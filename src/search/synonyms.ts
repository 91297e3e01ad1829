import { normalizeTerm } from './text.js';

/**
 * Words that mean the same in tool vocabularies: APIs name one action several ways (a request says
 * "add", one server says "create", another "post"). Each group is general API language, not tied to any
 * server; a query word in a group also searches the group's other words, at a lower weight (see
 * tool-index.ts), so an exact word still ranks first.
 */
const GROUPS: readonly string[][] = [
  ['create', 'add', 'new', 'make', 'insert', 'post'],
  ['delete', 'remove', 'drop', 'erase'],
  ['get', 'retrieve', 'read', 'fetch', 'view'],
  ['update', 'edit', 'modify', 'change', 'patch'],
  ['search', 'find', 'query', 'lookup'],
  ['run', 'execute', 'start', 'trigger', 'launch'],
  ['stop', 'kill', 'terminate', 'cancel'],
  ['undo', 'revert', 'reset', 'rollback'],
  ['image', 'picture', 'photo'],
  ['record', 'row', 'entry'],
  ['field', 'column', 'attribute'],
  ['folder', 'directory'],
  ['repo', 'repository'],
  ['ticket', 'issue', 'bug'],
  ['message', 'post'],
];

const BY_TERM = new Map<string, string[]>();
for (const group of GROUPS) {
  const terms = group.map((w) => normalizeTerm(w) ?? w);
  for (const term of terms) {
    const others = terms.filter((t) => t !== term);
    BY_TERM.set(term, [...(BY_TERM.get(term) ?? []), ...others]);
  }
}

/** The other words a normalized query term stands for; empty for most words. */
export function synonymsOf(term: string): readonly string[] {
  return BY_TERM.get(term) ?? [];
}
