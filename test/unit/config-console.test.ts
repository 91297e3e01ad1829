import { describe, expect, it } from 'vitest';
import { formatIssue, parseConfigText } from '../../src/config/index.js';

/** `http.console`: off unless set to true; anything but a boolean is a problem at its line and column. */
describe('http.console', () => {
  const parse = (text: string) => parseConfigText(text, 'gateway.yaml', {});

  it('is off by default and on with true', () => {
    const off = parse('http:\n  port: 8003\n');
    expect(off.ok && off.config.http.console).toBeFalsy();
    const on = parse('http:\n  console: true\n');
    expect(on.ok && on.config.http.console).toBe(true);
  });

  it('refuses a value that is not a boolean, at its line and column', () => {
    const result = parse('http:\n  port: 8003\n  console: "yes"\n');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map(formatIssue)).toEqual([
      expect.stringMatching(/^gateway\.yaml:3:\d+: .*expected true or false/),
    ]);
  });
});
