import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_BACKOFF } from '../../src/backends/backoff.js';
import { describeError, describeExit, describeTarget } from '../../src/backends/describe.js';
import { StderrTail } from '../../src/backends/stderr-tail.js';
import type { ServerConfig } from '../../src/config/types.js';
import { waitFor } from '../helpers/wait.js';

describe('StderrTail', () => {
  it('splits chunks into lines across chunk boundaries', () => {
    const tail = new StderrTail();
    expect(tail.push('hel')).toEqual([]);
    expect(tail.push('lo\nwor')).toEqual(['hello']);
    expect(tail.push('ld\r\n\nlast')).toEqual(['world', '']);
    expect(tail.flush()).toBe('last');
    expect(tail.lines()).toEqual(['hello', 'world', '', 'last']);
  });

  it('keeps only the last maxLines lines and caps each line', () => {
    const tail = new StderrTail({ maxLines: 3, maxLineLength: 5 });
    tail.push('1\n2\n3\n4\n');
    tail.push('abcdefghij');
    tail.push('klm\n');
    expect(tail.lines()).toEqual(['3', '4', 'abcde…']);
  });

  it('since(mark) gives the lines written after the mark, latest first-limited', () => {
    const tail = new StderrTail();
    tail.push('old\n');
    const mark = tail.mark();
    tail.push('a\nb\n\nc\nd\npartial');
    expect(tail.since(mark, 3)).toEqual(['c', 'd', 'partial']);
    expect(tail.since(tail.mark() + 0, 3)).toEqual(['partial']);
  });

  it('reads a stream, reporting each line and the unterminated last one', async () => {
    const tail = new StderrTail();
    const seen: string[] = [];
    const stream = new PassThrough();
    tail.attach(stream, (line) => seen.push(line));
    stream.write('one\ntw');
    stream.end('o');
    await waitFor(() => seen.length === 2);
    expect(seen).toEqual(['one', 'two']);
  });
});

describe('backoffDelay', () => {
  it('doubles from 250 ms and caps at 30 s', () => {
    const delays = Array.from({ length: 10 }, (_, i) => backoffDelay(i));
    expect(delays).toEqual([250, 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    expect(backoffDelay(1_000)).toBe(DEFAULT_BACKOFF.maxMs);
    expect(backoffDelay(-1)).toBe(250);
  });
});

describe('describeTarget', () => {
  const common = { enabled: true, source: { kind: 'runtime' } } as const;

  it('shows command and args for stdio, never env values', () => {
    const config: ServerConfig = {
      ...common,
      name: 's',
      transport: 'stdio',
      command: 'node',
      args: ['server.js', '--port', '1'],
      env: { TOKEN: 'secret' },
    };
    expect(describeTarget(config)).toBe('node server.js --port 1');
  });

  it('strips credentials, query and fragment from a URL', () => {
    const config: ServerConfig = {
      ...common,
      name: 'h',
      transport: 'http',
      url: 'https://me:pw@example.com:8443/mcp?token=abc#x',
      headers: { Authorization: 'Bearer secret' },
    };
    expect(describeTarget(config)).toBe('https://example.com:8443/mcp');
  });
});

describe('describeExit and describeError', () => {
  it('says how a process ended', () => {
    expect(describeExit({ code: 3, signal: null })).toBe('exited with code 3');
    expect(describeExit({ code: null, signal: 'SIGKILL' })).toBe('exited on signal SIGKILL');
  });

  it('includes a cause or errno code', () => {
    const err = new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:1') });
    expect(describeError(err)).toBe('fetch failed (connect ECONNREFUSED 127.0.0.1:1)');
    const errno = Object.assign(new Error('spawn x'), { code: 'ENOENT' });
    expect(describeError(errno)).toBe('spawn x (ENOENT)');
    expect(describeError('plain')).toBe('plain');
  });
});

describe('src/backends layering', () => {
  it('imports only node builtins, the SDK, its own files, config/types, errors, log, the transports and the telemetry hooks', () => {
    const dir = path.resolve(import.meta.dirname, '../../src/backends');
    const allowed = new Set([
      '../config/types.js',
      '../errors.js',
      '../log.js',
      // Redaction: a value read for a backend (a header from a file) is never logged.
      '../secrets.js',
      '../transport/index.js',
      '../observability/index.js',
    ]);
    const offenders: string[] = [];
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      const source = readFileSync(path.join(dir, file), 'utf8');
      for (const match of source.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)) {
        const spec = match[1]!;
        const ok =
          spec.startsWith('node:') ||
          spec === '@modelcontextprotocol/client' ||
          spec === '@modelcontextprotocol/client/stdio' ||
          spec === '@modelcontextprotocol/core' ||
          (spec.startsWith('./') && !spec.includes('/', 2)) ||
          allowed.has(spec);
        if (!ok) offenders.push(`${file}: ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
