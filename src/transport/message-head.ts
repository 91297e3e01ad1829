import type { RequestId } from '@modelcontextprotocol/client';

/** What an oversized message was, as far as its top-level keys tell. */
export type MessageKind = 'request' | 'notification' | 'response' | 'unknown';

export interface MessageShape {
  kind: MessageKind;
  /** The JSON-RPC id, when the message had one (a string or a number). */
  id?: RequestId;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const COLON = 0x3a;
const COMMA = 0x2c;
/** Longest key of interest (`jsonrpc`) and longest id value we keep; anything longer is not ours. */
const MAX_KEY_BYTES = 16;
const MAX_ID_BYTES = 256;

/**
 * Finds the top-level `id`, `method`, `result` and `error` of one JSON-RPC message fed in pieces, in
 * constant memory and one pass: for a message too large to keep, so it can still be answered. Keys
 * inside `params` (a nested `"id"`, or `"id"` inside a string) do not count. The SDK writes `id`
 * last (`{method, params, jsonrpc, id}`), so the whole message is scanned, not just its head.
 */
export class MessageHeadScanner {
  /** Bytes looked at, for tests that check the work is linear. */
  scanned = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** At depth 1, the next string is a key. */
  private expectKey = false;
  private key: number[] | undefined;
  private lastKey = '';
  private idBytes: number[] | undefined;
  private id: RequestId | undefined;
  private readonly seen = new Set<string>();

  feed(bytes: Uint8Array): void {
    this.scanned += bytes.length;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i] as number;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (b === BACKSLASH) this.escaped = true;
        else if (b === QUOTE) {
          this.inString = false;
          if (this.key) {
            this.lastKey = Buffer.from(this.key).toString('utf8');
            this.key = undefined;
          }
        } else if (this.key && this.key.length <= MAX_KEY_BYTES) this.key.push(b);
        if (this.idBytes && this.idBytes.length <= MAX_ID_BYTES) this.idBytes.push(b);
        continue;
      }
      if (b === QUOTE) {
        this.inString = true;
        if (this.depth === 1 && this.expectKey) {
          this.key = [];
          this.expectKey = false;
        }
      } else if (b === LBRACE || b === LBRACKET) {
        this.depth++;
        if (this.depth === 1) this.expectKey = b === LBRACE;
      } else if (b === RBRACE || b === RBRACKET) {
        if (this.depth === 1) this.endValue();
        if (this.depth > 0) this.depth--;
      } else if (this.depth === 1 && b === COLON) {
        this.seen.add(this.lastKey);
        if (this.lastKey === 'id') this.idBytes = [];
        continue;
      } else if (this.depth === 1 && b === COMMA) {
        this.endValue();
        this.expectKey = true;
        continue;
      }
      if (this.idBytes && this.idBytes.length <= MAX_ID_BYTES) this.idBytes.push(b);
    }
  }

  /** What the message was, from what has been fed. */
  shape(): MessageShape {
    this.endValue();
    const id = this.id;
    const hasId = id !== undefined;
    let kind: MessageKind = 'unknown';
    if (this.seen.has('method')) kind = hasId ? 'request' : 'notification';
    else if (hasId && (this.seen.has('result') || this.seen.has('error'))) kind = 'response';
    return hasId ? { kind, id } : { kind };
  }

  private endValue(): void {
    const bytes = this.idBytes;
    if (!bytes) return;
    this.idBytes = undefined;
    if (bytes.length > MAX_ID_BYTES) return;
    try {
      const value: unknown = JSON.parse(Buffer.from(bytes).toString('utf8'));
      if (typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value)))
        this.id = value;
    } catch {
      // not a JSON-RPC id
    }
  }
}
