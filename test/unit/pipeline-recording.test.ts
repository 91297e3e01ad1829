import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isGatewayError } from '../../src/errors.js';
import {
  canonicalJson,
  isPipelineFile,
  isRetryable,
  loadCatalog,
  parseRecording,
  type Recording,
  ReplayInvoker,
} from '../../src/pipeline/index.js';

function recording(calls: Partial<Recording['calls'][number]>[]): Recording {
  return {
    version: 1,
    pipeline: 'p',
    inputs: {},
    recordedAt: '2025-01-01T00:00:00.000Z',
    calls: calls.map((c) => ({ server: 's', tool: 't', arguments: {}, startedAt: 0, durationMs: 1, ...c })),
  };
}

const text = (t: string) => ({ content: [{ type: 'text' as const, text: t }] });

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('canonicalJson', () => {
  it('sorts object keys at every depth, keeps array order, drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: undefined } })).toBe(
      '{"a":{"d":[2,{"y":2,"z":1}]},"b":1}',
    );
  });
});

describe('ReplayInvoker', () => {
  it('matches on server, tool and arguments in any key order', async () => {
    const replay = new ReplayInvoker(
      recording([
        { arguments: { a: 1, b: [1, 2] }, result: text('one') },
        { tool: 'u', arguments: { a: 1, b: [1, 2] }, result: text('other tool') },
      ]),
    );
    expect(await replay.callTool('s', 't', { b: [1, 2], a: 1 })).toEqual(text('one'));
    expect(await replay.callTool('s', 'u', { a: 1, b: [1, 2] })).toEqual(text('other tool'));
  });

  it('gives the same call its recorded answers in order, then fails', async () => {
    const replay = new ReplayInvoker(
      recording([{ error: { code: 'BACKEND_TIMEOUT', message: 'timed out' } }, { result: text('second') }]),
      'r.json',
    );
    const first = await rejection(replay.callTool('s', 't', {}));
    expect(isGatewayError(first, 'BACKEND_TIMEOUT')).toBe(true);
    expect(first.message).toBe('timed out');
    expect(isRetryable(first)).toBe(true);
    expect(await replay.callTool('s', 't', {})).toEqual(text('second'));
    const third = await rejection(replay.callTool('s', 't', {}));
    expect(isGatewayError(third, 'REPLAY_MISSING')).toBe(true);
    expect(third.message).toBe(
      'REPLAY_MISSING: s.t {} is recorded 2 times in r.json and was asked for once more',
    );
    expect(isRetryable(third)).toBe(false);
  });

  it('names the closest recorded call of the tool and the keys that differ', async () => {
    const replay = new ReplayInvoker(
      recording([
        { arguments: { q: 'x', limit: 1, page: 1 }, result: text('a') },
        { arguments: { q: 'y', limit: 3, page: 1 }, result: text('b') },
      ]),
      'r.json',
    );
    const err = await rejection(replay.callTool('s', 't', { q: 'y', limit: 4, page: 1 }));
    expect(err.message).toBe(
      'REPLAY_MISSING: s.t {"limit":4,"page":1,"q":"y"} is not in r.json; closest recorded s.t call: {"limit":3,"page":1,"q":"y"} (differs in limit)',
    );
    const other = await rejection(replay.callTool('x', 'y', {}));
    expect(other.message).toBe(
      'REPLAY_MISSING: x.y {} is not in r.json; it holds no x.y call (recorded: s.t)',
    );
  });

  it('replays JSON-RPC errors with their code, and isError results as answers', async () => {
    const replay = new ReplayInvoker(
      recording([
        { tool: 'rpc', error: { code: -32602, message: 'MCP error -32602: bad params' } },
        { tool: 'tool', result: { ...text('nope'), isError: true } },
      ]),
    );
    const err = await rejection(replay.callTool('s', 'rpc', {}));
    expect((err as Error & { code: number }).code).toBe(-32602);
    expect(err.message).toBe('MCP error -32602: bad params');
    expect(isRetryable(err)).toBe(false);
    expect(await replay.callTool('s', 'tool', {})).toEqual({ ...text('nope'), isError: true });
  });

  it('hands out copies, so a caller cannot change the recording', async () => {
    const replay = new ReplayInvoker(recording([{ result: text('a') }, { result: text('a') }]));
    const first = await replay.callTool('s', 't', {});
    (first.content[0] as { text: string }).text = 'changed';
    expect(await replay.callTool('s', 't', {})).toEqual(text('a'));
  });
});

describe('parseRecording', () => {
  it('reports schema problems at file:line:col', () => {
    const result = parseRecording(
      '{\n  "version": 2,\n  "pipeline": "p",\n  "calls": [\n    { "server": "s", "tool": "t", "arguments": {} }\n  ]\n}\n',
      'r.json',
    );
    expect(result.ok ? [] : result.issues).toEqual([
      { file: 'r.json', line: 2, column: 14, message: 'version: must be one of 1' },
    ]);
    const noAnswer = parseRecording(
      '{\n  "version": 1,\n  "pipeline": "p",\n  "calls": [\n    { "server": "s", "tool": "t", "arguments": {} }\n  ]\n}\n',
      'r.json',
    );
    expect(noAnswer.ok ? [] : noAnswer.issues).toEqual([
      { file: 'r.json', line: 5, column: 5, message: 'calls[0]: must have either "result" or "error"' },
    ]);
  });
});

describe('pipeline tests and recordings are not pipelines', () => {
  const temps: string[] = [];
  afterEach(async () => {
    await Promise.all(temps.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });

  it('isPipelineFile leaves *.test.yaml and *.recording.json out', () => {
    expect(['a.yaml', 'a.yml', 'a.json', 'a.test.txt'].map(isPipelineFile)).toEqual([
      true,
      true,
      true,
      false,
    ]);
    expect(
      ['a.test.yaml', 'a.test.yml', 'a.TEST.json', 'a.recording.json', 'a.recording.yaml'].map(
        isPipelineFile,
      ),
    ).toEqual([false, false, false, false, false]);
  });

  it('the catalog does not load them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pipelines-'));
    temps.push(dir);
    await writeFile(join(dir, 'p.yaml'), 'name: p\nsteps:\n  a: { server: s, tool: t }\n');
    await writeFile(join(dir, 'p.test.yaml'), 'pipeline: p\nrecording: p.recording.json\nexpect: []\n');
    await writeFile(join(dir, 'p.recording.json'), '{"version": 1, "pipeline": "p", "calls": []}\n');
    const catalog = await loadCatalog(dir);
    expect(catalog.list().map((e) => [e.name, e.valid])).toEqual([['p', true]]);
  });
});
