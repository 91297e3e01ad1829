import MiniSearch, { type Query, type SearchOptions } from 'minisearch';
import { synonymsOf } from './synonyms.js';
import { normalizeTerm, oneLine, parameterText, splitWords } from './text.js';

/** What the index needs of a tool: the MCP `Tool` shape, as served (so `name` is the served name). */
export interface SearchableTool {
  name: string;
  title?: string;
  description?: string;
  inputSchema?: Record<string, unknown>;
}

/** One result of {@link ToolIndex.search}, best first. */
export interface ToolHit {
  name: string;
  /** The description's first sentence, for a short list a model reads before choosing. */
  summary: string;
  inputSchema: Record<string, unknown>;
  score: number;
}

interface IndexedDoc {
  id: string;
  name: string;
  title: string;
  description: string;
  params: string;
}

/**
 * Field weights. The served name and title say what a tool is for most directly; the description
 * carries most of the words; parameter names and descriptions mostly repeat common nouns (owner, id,
 * path), so they count for less and break ties.
 */
const BOOST = { name: 3, title: 2, description: 1, params: 0.5 } as const;
const SYNONYM_WEIGHT = 0.5;
const BOOST_SYNONYM = Object.fromEntries(
  Object.entries(BOOST).map(([field, weight]) => [field, weight * SYNONYM_WEIGHT]),
) as Record<keyof typeof BOOST, number>;

const SEARCH: SearchOptions = {
  boost: BOOST,
  combineWith: 'OR',
  // A query word that is the start of an indexed word matches it ("repo" → "repository"); short
  // words would match too much.
  prefix: (term) => term.length >= 3,
  // One typo in five letters; none in short words, where an edit makes another real word.
  fuzzy: (term) => (term.length >= 5 ? 0.2 : false),
  weights: { prefix: 0.4, fuzzy: 0.3 },
};

/**
 * A full-text index over tools, kept in groups (one per backend, one for the gateway's own tools) so
 * that a backend's new list replaces just its entries. Ranking is MiniSearch's BM25+; this file only
 * decides what is indexed and how words are split.
 */
export class ToolIndex {
  private readonly search_ = new MiniSearch<IndexedDoc>({
    fields: ['name', 'title', 'description', 'params'],
    tokenize: splitWords,
    processTerm: normalizeTerm,
    searchOptions: SEARCH,
    // Replacing a group discards its documents; vacuuming reclaims them in the background.
    autoVacuum: { minDirtCount: 50, minDirtFactor: 0.1, batchSize: 1000, batchWait: 10 },
  });
  private readonly tools = new Map<string, SearchableTool>();
  private readonly groups = new Map<string, Set<string>>();

  /** Replaces every tool of `group` with `tools` (an empty list removes the group). */
  replace(group: string, tools: readonly SearchableTool[]): void {
    this.remove(group);
    if (tools.length === 0) return;
    const names = new Set<string>();
    for (const tool of tools) {
      // A name already indexed under another group keeps its first owner, as the tool table does.
      if (this.tools.has(tool.name) || names.has(tool.name)) continue;
      names.add(tool.name);
      this.tools.set(tool.name, tool);
      this.search_.add(toDoc(tool));
    }
    this.groups.set(group, names);
  }

  remove(group: string): void {
    const names = this.groups.get(group);
    if (!names) return;
    for (const name of names) {
      this.tools.delete(name);
      this.search_.discard(name);
    }
    this.groups.delete(group);
  }

  get size(): number {
    return this.tools.size;
  }

  get(name: string): SearchableTool | undefined {
    return this.tools.get(name);
  }

  /**
   * The tools best matching `query`, at most `limit`, optionally only those `visible` allows. An empty
   * query matches nothing: a client that wants everything should use the full list instead.
   */
  search(query: string, limit = 10, visible?: (name: string) => boolean): ToolHit[] {
    if (query.trim() === '' || limit <= 0) return [];
    const terms = splitWords(query)
      .map(normalizeTerm)
      .filter((t): t is string => t !== null);
    const alternatives = [...new Set(terms.flatMap(synonymsOf))].filter((t) => !terms.includes(t));
    // The words as typed, and (weighed down) the words they stand for: MiniSearch adds the scores.
    const queries: Query[] = [{ queries: terms }];
    if (alternatives.length > 0) queries.push({ queries: alternatives, boost: { ...BOOST_SYNONYM } });
    const results = this.search_.search(
      { combineWith: 'OR', queries },
      visible ? { filter: (r) => visible(r.id) } : undefined,
    );
    const hits: ToolHit[] = [];
    for (const result of results) {
      const tool = this.tools.get(result.id as string);
      if (!tool) continue;
      hits.push({
        name: tool.name,
        summary: oneLine(tool.description ?? tool.title ?? ''),
        inputSchema: tool.inputSchema ?? { type: 'object' },
        score: result.score,
      });
      if (hits.length >= limit) break;
    }
    return hits;
  }
}

function toDoc(tool: SearchableTool): IndexedDoc {
  return {
    id: tool.name,
    name: tool.name,
    title: tool.title ?? '',
    description: tool.description ?? '',
    params: parameterText(tool.inputSchema),
  };
}
