import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';

/** Items per page of the gateway's own resources/list, resources/templates/list and prompts/list. */
export const PAGE_SIZE = 100;

/**
 * One page of `items`. The cursor is opaque to clients; it holds the offset of the next page, so a
 * list that changed between pages (clients are sent list_changed then) still pages to its end.
 */
export function paginate<T>(
  items: readonly T[],
  cursor: string | undefined,
  pageSize = PAGE_SIZE,
): { items: T[]; nextCursor?: string } {
  const offset = cursor === undefined ? 0 : decodeCursor(cursor);
  const end = offset + pageSize;
  return {
    items: items.slice(offset, end),
    ...(end < items.length ? { nextCursor: encodeCursor(end) } : {}),
  };
}

function encodeCursor(offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset })).toString('base64url');
}

function decodeCursor(cursor: string): number {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { o?: unknown };
    if (typeof value.o === 'number' && Number.isSafeInteger(value.o) && value.o >= 0) return value.o;
  } catch {
    // reported below
  }
  throw new ProtocolError(
    ProtocolErrorCode.InvalidParams,
    `Invalid cursor: ${JSON.stringify(cursor.slice(0, 80))}`,
  );
}

/**
 * Every page of a backend's list, following nextCursor to the end; a cursor seen twice is an error,
 * not a loop.
 */
export async function collectPages<T>(
  fetchPage: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor?: string | undefined }>,
  what: string,
): Promise<T[]> {
  const all: T[] = [];
  const seen = new Set<string>();
  let cursor: string | undefined;
  do {
    const page = await fetchPage(cursor);
    all.push(...page.items);
    cursor = page.nextCursor;
    if (cursor !== undefined) {
      if (seen.has(cursor)) throw new Error(`${what} returned the cursor '${cursor}' twice`);
      seen.add(cursor);
    }
  } while (cursor !== undefined);
  return all;
}
