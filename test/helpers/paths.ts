import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const fixturesDir = join(repoRoot, 'test', 'fixtures');

/**
 * A compiled file under dist/. E2E tests run the built code, as users do; fail with the fix in the
 * message rather than with a spawn error when the build is missing.
 */
export function distFile(...parts: string[]): string {
  const file = join(repoRoot, 'dist', ...parts);
  if (!existsSync(file)) throw new Error(`${file} is missing; run \`npm run build\` first`);
  return file;
}
