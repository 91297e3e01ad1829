import { describe, expect, it } from 'vitest';
import { oneLine, ToolIndex } from '../../src/search/index.js';

const schema = (props: Record<string, string>) => ({
  type: 'object',
  properties: Object.fromEntries(
    Object.entries(props).map(([k, d]) => [k, { type: 'string', description: d }]),
  ),
});

function sample(): ToolIndex {
  const index = new ToolIndex();
  index.replace('github', [
    {
      name: 'github__create_issue',
      description: 'Create a new issue in a GitHub repository. Needs push rights.',
      inputSchema: schema({ owner: 'Repository owner', repo: 'Repository name', title: 'Issue title' }),
    },
    { name: 'github__list_pull_requests', description: 'List pull requests in a repository' },
  ]);
  index.replace('weather', [
    {
      name: 'weather__get_forecast',
      title: 'Forecast',
      description: 'Weather forecast for a place',
      inputSchema: schema({ latitude: 'Latitude of the location', longitude: 'Longitude of the location' }),
    },
  ]);
  return index;
}

describe('ToolIndex', () => {
  it('ranks by name, description and parameters, and returns one-line summaries with schemas', () => {
    const index = sample();
    const [first] = index.search('open a bug report issue on a repository');
    expect(first?.name).toBe('github__create_issue');
    expect(first?.summary).toBe('Create a new issue in a GitHub repository.');
    expect(first?.inputSchema).toMatchObject({ properties: { owner: { type: 'string' } } });
    // Only a parameter's description says "latitude": parameters are indexed.
    expect(index.search('latitude')[0]?.name).toBe('weather__get_forecast');
  });

  it('splits snake_case and camelCase names into words, matches prefixes and a typo', () => {
    const index = new ToolIndex();
    index.replace('fs', [
      { name: 'readFileContents' },
      { name: 'write_file' },
      { name: 'directory_tree', description: 'A tree of folders' },
    ]);
    expect(index.search('contents')[0]?.name).toBe('readFileContents');
    expect(index.search('direc')[0]?.name).toBe('directory_tree');
    expect(index.search('directroy')[0]?.name).toBe('directory_tree');
  });

  it('follows changes: replacing a group drops its old tools, removing it drops all of them', () => {
    const index = sample();
    expect(index.size).toBe(3);
    index.replace('github', [{ name: 'github__fork_repository', description: 'Fork a repository' }]);
    expect(index.size).toBe(2);
    expect(index.get('github__create_issue')).toBeUndefined();
    expect(index.search('issue').map((h) => h.name)).not.toContain('github__create_issue');
    expect(index.search('fork')[0]?.name).toBe('github__fork_repository');
    index.remove('github');
    expect(index.search('fork')).toEqual([]);
    expect(index.size).toBe(1);
    index.replace('weather', []);
    expect(index.size).toBe(0);
  });

  it('keeps a name indexed under its first group only', () => {
    const index = new ToolIndex();
    index.replace('a', [{ name: 'same', description: 'first' }]);
    index.replace('b', [{ name: 'same', description: 'second' }]);
    expect(index.get('same')?.description).toBe('first');
    index.remove('b');
    expect(index.get('same')?.description).toBe('first');
  });

  it('honours limit and a visibility filter; an empty query finds nothing', () => {
    const index = sample();
    expect(index.search('repository', 1)).toHaveLength(1);
    expect(index.search('repository', 10, (n) => n !== 'github__create_issue').map((h) => h.name)).toEqual([
      'github__list_pull_requests',
    ]);
    expect(index.search('  ')).toEqual([]);
  });
});

describe('oneLine', () => {
  it('keeps the first sentence of the first line, capped', () => {
    expect(oneLine('Reads a file. Then more.')).toBe('Reads a file.');
    expect(oneLine('First line\nsecond')).toBe('First line');
    expect(oneLine('v1.2 is a version')).toBe('v1.2 is a version');
    expect(oneLine('x'.repeat(300))).toHaveLength(200);
  });
});

describe('query words', () => {
  it('folds plurals and drops stop words, so "the entities" finds an entity tool', () => {
    const index = new ToolIndex();
    index.replace('m', [{ name: 'create_entity' }, { name: 'theme_get' }]);
    expect(index.search('the entities').map((h) => h.name)).toEqual(['create_entity']);
  });

  it('a general synonym reaches a tool that uses the other word, below an exact match', () => {
    const index = new ToolIndex();
    index.replace('a', [
      { name: 'create_record', description: 'Create a record in a table' },
      { name: 'add_table', description: 'Add a table' },
    ]);
    // Only synonyms match create_record ("add" → create, "row" → record).
    expect(index.search('add a row').map((h) => h.name)).toContain('create_record');
    // "add" itself ranks the tool that says "add" first.
    expect(index.search('add')[0]?.name).toBe('add_table');
    expect(index.search('new row')[0]?.name).toBe('create_record');
  });
});
