import { describe, expect, it } from 'vitest';
import {
  DURATION_PATTERN,
  formatDuration,
  MAX_DURATION_MS,
  parseDuration,
} from '../../src/config/duration.js';
import { gatewaySchema } from '../../src/config/schema.js';

describe('parseDuration', () => {
  it.each([
    ['10s', 10_000],
    ['500ms', 500],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1.5s', 1_500],
    ['0.5m', 30_000],
    ['1500', 1_500],
    [' 10 s ', 10_000],
    ['0', 0],
    [250, 250],
    [0, 0],
    [1.4, 1],
  ] as const)('%j → %d ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each(['', 'soon', '-5s', '10 seconds', '10S', 's', '1e3', '.5s', '10s5', 'NaN'])(
    'rejects %j with a message saying what is accepted',
    (input) => {
      expect(() => parseDuration(input)).toThrow(
        'expected a duration like "10s", "500ms" or a number of milliseconds',
      );
    },
  );

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])('rejects the number %d', (input) => {
    expect(() => parseDuration(input)).toThrow(/expected a duration/);
  });

  it('rejects what setTimeout cannot wait for', () => {
    expect(parseDuration(MAX_DURATION_MS)).toBe(MAX_DURATION_MS);
    expect(() => parseDuration('25d')).toThrow(/expected a duration/);
    expect(() => parseDuration('600h')).toThrow('durations above 24 days are not supported');
  });

  it('never repeats the value in its message', () => {
    expect(() => parseDuration('hunter2')).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('hunter2') }),
    );
  });

  it('matches the pattern in the schema', () => {
    const duration = (gatewaySchema().definitions as Record<string, { pattern: string }>).duration!;
    expect(duration.pattern).toBe(DURATION_PATTERN);
    const re = new RegExp(DURATION_PATTERN);
    for (const ok of ['10s', '500ms', '2m', '1.5s', '1000', ' 1 h ']) {
      expect(re.test(ok)).toBe(true);
      expect(() => parseDuration(ok)).not.toThrow();
    }
    for (const bad of ['soon', '-1s', '1e3', '10S']) expect(re.test(bad)).toBe(false);
  });

  it('formats durations for people', () => {
    expect(formatDuration(500)).toBe('500ms');
    expect(formatDuration(1_500)).toBe('1.5s');
    expect(formatDuration(120_000)).toBe('2m');
    expect(formatDuration(5_400_000)).toBe('1.5h');
  });
});
