import { describe, expect, it } from 'vitest';
import { splitShellArgs } from '../../src/config/shell-split.js';

describe('splitShellArgs', () => {
  it.each([
    ['', []],
    ['   ', []],
    ['a b  c', ['a', 'b', 'c']],
    ['\ta\n b\r\n', ['a', 'b']],
    [`'a b' c`, ['a b', 'c']],
    [`"a b" c`, ['a b', 'c']],
    [`'it''s'`, ['its']],
    [`"it's"`, [`it's`]],
    [`'say "hi"'`, ['say "hi"']],
    [`"say \\"hi\\""`, ['say "hi"']],
    [`"back\\\\slash"`, ['back\\slash']],
    [`"\\$HOME and \\\`x\\\`"`, ['$HOME and `x`']],
    [`"C:\\tools\\node"`, ['C:\\tools\\node']],
    [`'\\n stays'`, ['\\n stays']],
    ['a\\ b', ['a b']],
    ['\\"quoted\\"', ['"quoted"']],
    ['a\\\nb', ['ab']],
    [`"multi\\\nline"`, ['multiline']],
    [`'' ""`, ['', '']],
    [`--flag=''`, ['--flag=']],
    [`pre"mid dle"'post fix'`, ['premid dlepost fix']],
    ['$HOME | grep x; rm *', ['$HOME', '|', 'grep', 'x;', 'rm', '*']],
    ['-y @modelcontextprotocol/server-memory', ['-y', '@modelcontextprotocol/server-memory']],
  ])('%j', (input, expected) => {
    expect(splitShellArgs(input)).toEqual(expected);
  });

  it.each([
    [`a 'b`, 'unterminated single quote at character 3'],
    [`a "b`, 'unterminated double quote at character 3'],
    [`"a \\"`, 'unterminated double quote at character 1'],
    ['a\\', 'trailing backslash at character 2'],
  ])('rejects %j', (input, message) => {
    expect(() => splitShellArgs(input)).toThrow(new SyntaxError(message));
  });

  it('never repeats the text in an error, which may hold a secret', () => {
    expect(() => splitShellArgs(`--token "s3cret`)).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('s3cret') }),
    );
  });
});
