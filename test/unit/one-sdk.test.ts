import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/** Every .ts file under `dir`, recursively. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

describe('one MCP SDK in the process', () => {
  it('src/ imports the SDK 2.x packages only, never @modelcontextprotocol/sdk 1.x', () => {
    const root = path.resolve(import.meta.dirname, '../../src');
    const offenders: string[] = [];
    for (const file of sources(root)) {
      const source = readFileSync(file, 'utf8');
      for (const match of source.matchAll(/(?:from|import)\s*\(?\s*'(@modelcontextprotocol\/[^']+)'/g)) {
        const spec = match[1]!;
        if (spec.startsWith('@modelcontextprotocol/sdk'))
          offenders.push(`${path.relative(root, file)}: ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('the SDK packages the gateway runs on are 2.x and pinned exactly', () => {
    const pkg = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    for (const name of [
      '@modelcontextprotocol/server',
      '@modelcontextprotocol/client',
      '@modelcontextprotocol/core',
    ]) {
      expect(pkg.dependencies[name], name).toMatch(/^2\.\d+\.\d+$/);
    }
    expect(pkg.dependencies['@modelcontextprotocol/sdk']).toBeUndefined();
  });
});
