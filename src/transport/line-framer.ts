import { MessageHeadScanner, type MessageShape } from './message-head.js';

const NEWLINE = 0x0a;
const CR = 0x0d;

/** A line that was longer than the limit, skipped whole. */
export interface Overflow extends MessageShape {
  /** Its length in bytes, without the newline. */
  bytes: number;
  /** The limit it broke. */
  limit: number;
}

export interface LineFramerOptions {
  /** Largest line accepted, in bytes; read for every line, so a new value applies from the next one. */
  limit: () => number;
  /** One line, without its newline (and without a `\r` before it); empty lines are skipped. */
  onLine: (line: string) => void;
  /** A line over the limit ended; its bytes were dropped as they came. */
  onOverflow: (overflow: Overflow) => void;
}

/**
 * Splits a byte stream into newline-delimited messages in linear time: chunks are kept in a list and
 * joined once per line, and each byte is searched for '\n' once. (The SDK's ReadBuffer joins the whole
 * buffer on every chunk and searches it again from the start: quadratic in the message size.)
 *
 * A line that grows past the limit is not kept: its bytes are dropped as they arrive, up to the next
 * newline, and only a scanner that recovers its `id` and kind sees them. Memory stays within the limit
 * plus one chunk, and the next line is read as usual.
 */
export class LineFramer {
  /** Bytes searched for a newline, joined into lines, and scanned in oversized lines: tests check each stays linear. */
  readonly work = { searched: 0, joined: 0, scanned: 0 };
  private chunks: Buffer[] = [];
  private pending = 0;
  private overflow: { bytes: number; limit: number; scanner: MessageHeadScanner } | undefined;

  constructor(private readonly options: LineFramerOptions) {}

  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, start);
      const end = newline === -1 ? chunk.length : newline;
      this.work.searched += (newline === -1 ? chunk.length : newline + 1) - start;
      if (end > start) this.take(chunk.subarray(start, end));
      if (newline === -1) return;
      this.endLine();
      start = newline + 1;
    }
  }

  /** Drops what is buffered (the stream closed). */
  clear(): void {
    this.chunks = [];
    this.pending = 0;
    this.overflow = undefined;
  }

  private take(piece: Buffer): void {
    if (this.overflow) {
      this.overflow.bytes += piece.length;
      this.scan(piece);
      return;
    }
    this.chunks.push(piece);
    this.pending += piece.length;
    const limit = this.options.limit();
    if (this.pending <= limit) return;
    // Over the limit: from here on the line is only scanned, never kept.
    this.overflow = { bytes: this.pending, limit, scanner: new MessageHeadScanner() };
    for (const kept of this.chunks) this.scan(kept);
    this.chunks = [];
    this.pending = 0;
  }

  private scan(piece: Buffer): void {
    const overflow = this.overflow as NonNullable<typeof this.overflow>;
    overflow.scanner.feed(piece);
    this.work.scanned += piece.length;
  }

  private endLine(): void {
    const overflow = this.overflow;
    if (overflow) {
      this.overflow = undefined;
      this.options.onOverflow({ ...overflow.scanner.shape(), bytes: overflow.bytes, limit: overflow.limit });
      return;
    }
    if (this.pending === 0) return;
    const line =
      this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.pending);
    this.work.joined += this.pending;
    this.chunks = [];
    this.pending = 0;
    const end = line[line.length - 1] === CR ? line.length - 1 : line.length;
    if (end > 0) this.options.onLine(line.toString('utf8', 0, end));
  }
}
