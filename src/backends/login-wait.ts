import { statSync } from 'node:fs';
import type { ServerConfig } from '../config/types.js';
import { TokenStore } from './token-store.js';

/** The token store file's change time for a backend with a login (0: none yet, or no login). */
export function loginStamp(config: ServerConfig): number {
  if (config.transport !== 'http' || config.oauth?.grant !== 'authorization_code') return 0;
  try {
    return statSync(config.oauth.store.path).mtimeMs;
  } catch {
    return 0;
  }
}

/**
 * A backend in status "needs login" waits here rather than retrying with backoff: retrying cannot
 * help until a person has logged in. When the token store file changes (`mcp-gateway login` wrote
 * it, in this process or another) `onChange` runs and the backend tries again. `since` is the
 * store's stamp when the failed attempt began: a login that wrote in between counts at once (a login
 * writes twice, client then tokens, and the attempt the first write started may miss the second).
 * Returns the stop.
 */
export function waitForLogin(config: ServerConfig, since: number, onChange: () => void): () => void {
  if (config.transport !== 'http' || config.oauth?.grant !== 'authorization_code') return () => {};
  const stop = new TokenStore(config.oauth.store).watch(onChange);
  if (loginStamp(config) !== since) queueMicrotask(onChange);
  return stop;
}
