/**
 * `servers.<name>.headers_from_files`: request headers whose values are the contents of files (a
 * mounted secret), read when the backend connects — never kept in gateway.yaml or the environment.
 * Its own module so the rest of the config stays as it was; `normalize.ts` calls {@link headerFiles}.
 */
import { isAbsolute, resolve } from 'node:path';

/** Header name → absolute path of the file holding its value (relative paths: from gateway.yaml's folder). */
export function headerFiles(raw: unknown, baseDir: string): Record<string, string> | undefined {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const out: Record<string, string> = {};
  for (const [name, path] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof path === 'string' && path !== '') out[name] = isAbsolute(path) ? path : resolve(baseDir, path);
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
