import type { Client } from '@modelcontextprotocol/client';
import { ProtocolError, ProtocolErrorCode, type Tool } from '@modelcontextprotocol/client';
import { ListToolsResultSchema } from '@modelcontextprotocol/core';
import type { Logger } from '../log.js';
import type { Connection } from './connection.js';
import { describeError } from './describe.js';

/** What refreshing a connection's tools needs from its backend. */
export interface ToolListHost {
  /** The backend's timeout, read per listing. */
  timeoutMs(): number;
  readonly log: Logger;
  /** Whether `conn` is still the backend's live connection. */
  isCurrent(conn: Connection): boolean;
  /** Whether the backend is ready: a listing that lands otherwise is dropped. */
  isReady(): boolean;
  /** A fresh listing of the live, ready connection. */
  update(tools: Tool[]): void;
}

/**
 * The tools of a connection being established: listed again while a tools/list_changed arrived during
 * the listing, so the first list is not already stale.
 */
export async function listInitialTools(conn: Connection, timeoutMs: number): Promise<Tool[]> {
  let tools = await listAllTools(conn.client, timeoutMs);
  while (conn.toolsStale) {
    conn.toolsStale = false;
    tools = await listAllTools(conn.client, timeoutMs);
  }
  return tools;
}

/**
 * A tools/list_changed arrived on `conn`: lists the tools again in the background. Before the
 * connection is established, or while a listing runs, it only marks the list stale; the listing in
 * progress then runs once more.
 */
export function refreshTools(conn: Connection, host: ToolListHost): void {
  if (!conn.established) {
    conn.toolsStale = true;
    return;
  }
  if (conn.refreshing) {
    conn.toolsStale = true;
    return;
  }
  conn.refreshing = true;
  void (async () => {
    try {
      do {
        conn.toolsStale = false;
        const tools = await listAllTools(conn.client, host.timeoutMs());
        if (!host.isCurrent(conn) || !host.isReady()) return;
        host.update(tools);
      } while (conn.toolsStale);
    } catch (err) {
      if (host.isCurrent(conn) && !conn.ended)
        host.log.warn(`could not refresh tools: ${describeError(err)}`);
    } finally {
      conn.refreshing = false;
    }
  })();
}

/** Every page of tools/list, following nextCursor; a cursor seen twice is an error, not a loop. */
async function listAllTools(client: Client, timeoutMs: number): Promise<Tool[]> {
  const tools: Tool[] = [];
  const seen = new Set<string>();
  let cursor: string | undefined;
  do {
    let page: { tools: Tool[]; nextCursor?: string };
    try {
      page = await client.request(
        { method: 'tools/list', params: cursor === undefined ? {} : { cursor } },
        ListToolsResultSchema,
        { timeout: timeoutMs },
      );
    } catch (err) {
      // A server without tools may not implement tools/list at all.
      if (err instanceof ProtocolError && err.code === ProtocolErrorCode.MethodNotFound && tools.length === 0)
        return [];
      throw err;
    }
    tools.push(...page.tools);
    cursor = page.nextCursor;
    if (cursor !== undefined) {
      if (seen.has(cursor)) throw new Error(`tools/list returned the cursor '${cursor}' twice`);
      seen.add(cursor);
    }
  } while (cursor !== undefined);
  return tools;
}
