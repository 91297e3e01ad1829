import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Dependencies point one way: cli → front → pipeline, backends → transport → config. Each folder is reached
 * through its public face (index.ts, or types.ts for types); the example servers stand alone.
 */
const SRC = path.resolve(import.meta.dirname, '../../src');

const ALLOWED: Record<string, string[]> = {
  cli: [
    'front',
    'bridge',
    'pipeline',
    'backends',
    'config',
    'watch',
    'transport',
    'observability',
    'surface',
    'cluster',
    'search',
  ],
  front: [
    'bridge',
    'pipeline',
    'backends',
    'config',
    'watch',
    'transport',
    'observability',
    'surface',
    'auth',
    'cluster',
    'search',
    'console',
  ],
  // The web console's server side: handed everything it shows by the front (console-host.ts).
  console: ['pipeline'],
  // The web console's page, bundled by esbuild for the browser: only the API's shapes.
  'console-ui': ['console'],
  // The tool surface: filters, overrides, name fitting, pins; pure but for the pins file.
  surface: ['config'],
  // Calls that cross the protocol eras (input_required ⇄ requests to the client).
  bridge: ['backends', 'config'],
  // Token checks, discovery and access rules; the front asks it, it knows only the config.
  auth: ['config'],
  // Shared state in Redis and call limits: knows the config, nothing of the front or the backends.
  cluster: ['config'],
  watch: ['config'],
  pipeline: ['backends', 'config'],
  backends: ['config', 'transport', 'observability'],
  // Hooks the front and the backends call; it sees the pipeline's observer types, nothing else above.
  observability: ['pipeline', 'config'],
  transport: ['config'],
  config: [],
  servers: [],
  // The tool search index: pure, MiniSearch only.
  search: [],
};
const ROOT_MODULES = new Set(['errors', 'log', 'secrets']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

function relativeImports(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  return [...source.matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'/g)].map((m) => m[1] as string);
}

describe('source layering', () => {
  const folders = readdirSync(SRC, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name);

  it('knows every folder under src/', () => {
    for (const folder of folders)
      expect(Object.keys(ALLOWED), `src/${folder} has no layering rule`).toContain(folder);
  });

  for (const folder of folders) {
    it(`src/${folder} imports only what its layer allows, through public faces`, () => {
      const problems: string[] = [];
      for (const file of sourceFiles(path.join(SRC, folder))) {
        for (const spec of relativeImports(file)) {
          const target = path.relative(SRC, path.resolve(path.dirname(file), spec));
          const [top, rest] = target.split(path.sep);
          if (top === undefined || top === folder) continue;
          const moduleName = top.replace(/\.js$/, '');
          if (rest === undefined && ROOT_MODULES.has(moduleName) && folder !== 'servers') continue;
          const allowed = ALLOWED[folder] ?? [];
          const where = `${path.relative(SRC, file)} imports ${spec}`;
          if (!allowed.includes(top)) problems.push(`${where}: src/${folder} may not depend on src/${top}`);
          else if (rest !== 'index.js' && rest !== 'types.js')
            problems.push(`${where}: use src/${top}/index.ts`);
        }
      }
      expect(problems).toEqual([]);
    });
  }
});
