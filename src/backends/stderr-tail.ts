import type { Readable } from 'node:stream';

export interface StderrTailOptions {
  /** Lines kept; older ones are dropped. */
  maxLines?: number;
  /** A longer line is cut here and marked with `…`, so a backend cannot grow our memory without bound. */
  maxLineLength?: number;
}

/**
 * The last lines a backend wrote to stderr: shown in list_servers and quoted in the error when it
 * exits. Splits a byte stream into lines across chunk boundaries.
 */
export class StderrTail {
  private readonly maxLines: number;
  private readonly maxLineLength: number;
  private readonly kept: string[] = [];
  private partial = '';
  private partialCut = false;
  /** Lines seen since creation, including dropped ones; lets a caller ask for "lines since mark". */
  private count = 0;

  constructor(options: StderrTailOptions = {}) {
    this.maxLines = options.maxLines ?? 50;
    this.maxLineLength = options.maxLineLength ?? 1000;
  }

  /** Reads `stream` until it ends; `onLine` sees every complete line (and the unterminated last one). */
  attach(stream: Readable, onLine?: (line: string) => void): void {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      for (const line of this.push(chunk)) onLine?.(line);
    });
    stream.on('end', () => {
      const last = this.flush();
      if (last !== undefined) onLine?.(last);
    });
    // A stderr pipe error must not become an unhandled 'error' event that takes the gateway down.
    stream.on('error', () => {});
  }

  /** Adds text; returns the lines it completed. */
  push(text: string): string[] {
    const done: string[] = [];
    let rest = text;
    for (let nl = rest.indexOf('\n'); nl !== -1; nl = rest.indexOf('\n')) {
      this.appendPartial(rest.slice(0, nl));
      done.push(this.takePartial());
      rest = rest.slice(nl + 1);
    }
    this.appendPartial(rest);
    return done;
  }

  /** Ends an unterminated last line, if any, and returns it. */
  flush(): string | undefined {
    if (this.partial === '' && !this.partialCut) return undefined;
    return this.takePartial();
  }

  lines(): string[] {
    return [...this.kept];
  }

  /** A position to pass to `since`. */
  mark(): number {
    return this.count;
  }

  /** Kept lines written after `mark` (at most `limit`, the latest ones), including an unfinished one. */
  since(mark: number, limit = 3): string[] {
    const fresh = Math.min(this.count - mark, this.kept.length);
    const lines = fresh > 0 ? this.kept.slice(-fresh) : [];
    if (this.partial.trim() !== '') lines.push(this.partial);
    return lines.filter((l) => l.trim() !== '').slice(-limit);
  }

  private appendPartial(text: string): void {
    if (this.partialCut) return;
    const room = this.maxLineLength - this.partial.length;
    if (text.length <= room) {
      this.partial += text;
    } else {
      this.partial += `${text.slice(0, Math.max(room, 0))}…`;
      this.partialCut = true;
    }
  }

  private takePartial(): string {
    const line = this.partial.endsWith('\r') ? this.partial.slice(0, -1) : this.partial;
    this.partial = '';
    this.partialCut = false;
    this.kept.push(line);
    this.count++;
    if (this.kept.length > this.maxLines) this.kept.splice(0, this.kept.length - this.maxLines);
    return line;
  }
}
