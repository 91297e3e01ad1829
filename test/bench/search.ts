/**
 * Search quality and speed of the tool index (src/search) on a catalog of published MCP servers'
 * tools (fixtures/tool-catalog.json, how it was made: fixtures/collect-catalog.ts) and queries written
 * before the ranking was tuned (fixtures/tool-queries.json). A query is found at k when one of its
 * expected tools is among the first k results. Latency is one `ToolIndex.search` in-process, which
 * is what find_tools does before it formats the hits.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type SearchableTool, ToolIndex } from '../../src/search/index.js';
import { percentile, progress, type Row } from './harness.js';

const FIXTURES = path.join(import.meta.dirname, 'fixtures');

interface Catalog {
  servers: { server: string; source: string; tools: SearchableTool[] }[];
}
export interface Query {
  query: string;
  expect: string[];
}

export function loadCatalogIndex(): ToolIndex {
  const catalog = JSON.parse(readFileSync(path.join(FIXTURES, 'tool-catalog.json'), 'utf8')) as Catalog;
  const index = new ToolIndex();
  for (const { server, tools } of catalog.servers)
    index.replace(
      server,
      tools.map((t) => ({ ...t, name: `${server}__${t.name}` })),
    );
  return index;
}

/** `tool-queries.json` (written before tuning), or `heldout`: written after, never tuned on. */
export function loadQueries(set: 'tuned' | 'heldout' = 'tuned'): Query[] {
  const file = set === 'tuned' ? 'tool-queries.json' : 'tool-queries-heldout.json';
  return (JSON.parse(readFileSync(path.join(FIXTURES, file), 'utf8')) as { queries: Query[] }).queries;
}

export interface SearchQuality {
  tools: number;
  queries: number;
  recallAt1: number;
  recallAt5: number;
  /** The queries whose expected tool is not in the first 5, with what came first instead. */
  misses: { query: string; expect: string[]; got: string[] }[];
}

export function measureQuality(index: ToolIndex, queries: readonly Query[]): SearchQuality {
  let at1 = 0;
  let at5 = 0;
  const misses: SearchQuality['misses'] = [];
  for (const q of queries) {
    const got = index.search(q.query, 5).map((h) => h.name);
    const rank = got.findIndex((name) => q.expect.includes(name));
    if (rank === 0) at1++;
    if (rank >= 0) at5++;
    else misses.push({ query: q.query, expect: q.expect, got });
  }
  return {
    tools: index.size,
    queries: queries.length,
    recallAt1: at1 / queries.length,
    recallAt5: at5 / queries.length,
    misses,
  };
}

export async function searchRows(rounds: number): Promise<Row[]> {
  const index = loadCatalogIndex();
  const queries = loadQueries();
  const quality = measureQuality(index, queries);
  const heldout = measureQuality(index, loadQueries('heldout'));
  for (const miss of [...quality.misses, ...heldout.misses])
    progress(`search miss: "${miss.query}" expected ${miss.expect.join('|')}, got ${miss.got.join(', ')}`);
  for (let i = 0; i < 3; i++) for (const q of queries) index.search(q.query, 10); // warm-up
  const times: number[] = [];
  for (let round = 0; round < rounds; round++)
    for (const q of queries) {
      const t0 = performance.now();
      index.search(q.query, 10);
      times.push(performance.now() - t0);
    }
  times.sort((a, b) => a - b);
  const about = `${quality.queries} queries over ${quality.tools} tools`;
  return [
    {
      id: 'search.recall_at_1',
      name: `find_tools recall@1 (${about})`,
      unit: 'recall',
      figure: quality.recallAt1,
    },
    {
      id: 'search.recall_at_5',
      name: `find_tools recall@5 (${about})`,
      unit: 'recall',
      figure: quality.recallAt5,
      target: { kind: 'min', bound: 0.9 },
    },
    {
      id: 'search.heldout_recall_at_5',
      name: `find_tools recall@5, held-out queries (${heldout.queries} never tuned on)`,
      unit: 'recall',
      figure: heldout.recallAt5,
      note: `held-out recall@1 ${heldout.recallAt1.toFixed(2)}`,
    },
    {
      id: 'search.p50',
      name: `find_tools search p50 (${about}, in-process, limit 10)`,
      unit: 'ms',
      figure: percentile(times, 50),
      target: { kind: 'max', bound: 5 },
      note: `p99 ${percentile(times, 99).toFixed(2)} ms`,
    },
  ];
}
