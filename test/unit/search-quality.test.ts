import { describe, expect, it } from 'vitest';
import { loadCatalogIndex, loadQueries, measureQuality } from '../bench/search.js';

// The bench's search figures, kept from sliding back: the catalog of published servers' tools and the
// queries written before tuning (test/bench/fixtures).
describe('tool search quality on the bench catalog', () => {
  it('finds the expected tool in the first five for at least 90% of the queries', () => {
    const index = loadCatalogIndex();
    expect(index.size).toBeGreaterThanOrEqual(500);
    const queries = loadQueries();
    expect(queries.length).toBeGreaterThanOrEqual(50);
    const quality = measureQuality(index, queries);
    expect(quality.recallAt5, JSON.stringify(quality.misses, null, 1)).toBeGreaterThanOrEqual(0.9);
    expect(measureQuality(index, loadQueries('heldout')).recallAt5).toBeGreaterThanOrEqual(0.85);
  });
});
