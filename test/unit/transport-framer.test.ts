import { describe, expect, it } from 'vitest';
import { formatSize, parseSize } from '../../src/config/index.js';
import { LineFramer, MessageHeadScanner, type Overflow } from '../../src/transport/index.js';

function framer(limit: number) {
  const lines: string[] = [];
  const overflows: Overflow[] = [];
  const f = new LineFramer({
    limit: () => limit,
    onLine: (line) => lines.push(line),
    onOverflow: (o) => overflows.push(o),
  });
  return { f, lines, overflows };
}

/** Feeds `text` in chunks of `size` bytes, as a pipe delivers it. */
function feed(f: LineFramer, text: string | Buffer, size = 65_536): void {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text);
  for (let i = 0; i < bytes.length; i += size) f.push(bytes.subarray(i, i + size));
}

/** What the SDK client writes for a request: `id` comes last. */
function request(id: number | string, pad: string): string {
  return `${JSON.stringify({ method: 'tools/call', params: { name: 'x', arguments: { pad, id: 'nested' } }, jsonrpc: '2.0', id })}\n`;
}

describe('LineFramer', () => {
  it('splits lines across chunk borders, drops a \\r before the newline and skips empty lines', () => {
    const { f, lines } = framer(1000);
    feed(f, '{"a":1}\r\n\n{"b":"é"}\n{"c"', 3);
    feed(f, ':3}\n', 1);
    expect(lines).toEqual(['{"a":1}', '{"b":"é"}', '{"c":3}']);
  });

  it('takes a line of exactly the limit, refuses one byte more with its id and size, and goes on', () => {
    const { f, lines, overflows } = framer(50);
    feed(f, `${'x'.repeat(50)}\n${'y'.repeat(51)}\n{"ok":true}\n`, 7);
    expect(lines).toEqual(['x'.repeat(50), '{"ok":true}']);
    expect(overflows).toEqual([{ kind: 'unknown', bytes: 51, limit: 50 }]);
  });

  it('recovers the top-level id of an oversized request, even when it comes last, ignoring nested ones', () => {
    const { f, lines, overflows } = framer(1024);
    feed(f, request(42, 'x'.repeat(5000)) + request('abc', '"quoted\\" id":7, \\\\') + request(7, ''));
    expect(overflows).toEqual([
      { kind: 'request', id: 42, bytes: request(42, 'x'.repeat(5000)).length - 1, limit: 1024 },
    ]);
    expect(lines.map((l) => JSON.parse(l).id)).toEqual(['abc', 7]);
  });

  it('tells responses and notifications apart', () => {
    const { f, overflows } = framer(100);
    const pad = 'z'.repeat(200);
    feed(f, `${JSON.stringify({ jsonrpc: '2.0', id: 3, result: { pad } })}\n`);
    feed(f, `${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: { pad } })}\n`);
    expect(overflows.map((o) => [o.kind, o.id])).toEqual([
      ['response', 3],
      ['notification', undefined],
    ]);
  });

  it('reads the limit for every line, so a new limit applies from the next line', () => {
    let limit = 10;
    const lines: string[] = [];
    const f = new LineFramer({ limit: () => limit, onLine: (l) => lines.push(l), onOverflow: () => {} });
    feed(f, `${'a'.repeat(20)}\n`);
    limit = 100;
    feed(f, `${'b'.repeat(20)}\n`);
    expect(lines).toEqual(['b'.repeat(20)]);
  });

  it('does linear work: each byte is searched once and joined or scanned once, whatever the size', () => {
    for (const size of [1_000_000, 9_500_000]) {
      const { f, overflows } = framer(4 * 1024 * 1024);
      const big = Buffer.from(request(1, 'x'.repeat(size)));
      const small = Buffer.from(request(2, 'y'.repeat(size / 10)));
      feed(f, Buffer.concat([big, small]));
      const total = big.length + small.length;
      expect(f.work.searched).toBe(total);
      expect(f.work.joined + f.work.scanned).toBeLessThanOrEqual(total);
      if (size > 4 * 1024 * 1024) expect(overflows).toHaveLength(1);
    }
  });
});

describe('MessageHeadScanner', () => {
  it('keeps no more than a bounded id: an absurd id is not one', () => {
    const scanner = new MessageHeadScanner();
    scanner.feed(Buffer.from(`{"method":"x","id":"${'i'.repeat(1000)}"}`));
    expect(scanner.shape()).toEqual({ kind: 'notification' });
  });
});

describe('sizes', () => {
  it('parses bytes, KiB/MiB/GiB and KB/MB, and formats them back', () => {
    expect(parseSize(4194304)).toBe(4 * 1024 * 1024);
    expect(parseSize('4MiB')).toBe(4 * 1024 * 1024);
    expect(parseSize(' 512 KiB ')).toBe(512 * 1024);
    expect(parseSize('1.5mib')).toBe(1.5 * 1024 * 1024);
    expect(parseSize('2MB')).toBe(2_000_000);
    expect(() => parseSize('4 furlongs')).toThrow(
      'expected a size like "4MiB", "512KiB" or a number of bytes',
    );
    expect(() => parseSize('2GiB')).toThrow('sizes above 1GiB are not supported');
    expect(formatSize(4 * 1024 * 1024)).toBe('4MiB');
    expect(formatSize(65536)).toBe('64KiB');
    expect(formatSize(1500)).toBe('1500 bytes');
  });
});
