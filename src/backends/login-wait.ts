import type { ServerConfig } from '../config/types.js';
import { TokenStore } from './token-store.js';

/**
 * A backend in status "needs login" waits here rather than retrying with backoff: retrying cannot
 * help until a person has logged in. When the token store file changes (`mcp-gateway login` wrote
 * it, in this process or another) `onChange` runs and the backend tries again. Returns the stop.
 */
export function waitForLogin(config: ServerConfig, onChange: () => void): () => void {
  if (config.transport !== 'http' || config.oauth?.grant !== 'authorization_code') return () => {};
  return new TokenStore(config.oauth.store).watch(onChange);
}
