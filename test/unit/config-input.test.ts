// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} in plain strings is the config syntax under test
import { describe, expect, it } from 'vitest';
import { type ServerInput, serverConfigFromInput } from '../../src/config/index.js';
import { GatewayError } from '../../src/errors.js';

const runtime = { kind: 'runtime' } as const;

function failure(input: unknown): GatewayError {
  try {
    serverConfigFromInput(input as ServerInput, runtime, '/base');
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  throw new Error('expected serverConfigFromInput to throw');
}

describe('serverConfigFromInput (register_server)', () => {
  it('normalizes a stdio server like a config entry', () => {
    expect(
      serverConfigFromInput(
        {
          name: 'echo',
          command: 'node',
          args: 'echo.js --name "a b"',
          env: { A: '1' },
          cwd: 'sub',
          timeout: '5s',
        },
        runtime,
        '/base',
      ),
    ).toEqual({
      name: 'echo',
      transport: 'stdio',
      command: 'node',
      args: ['echo.js', '--name', 'a b'],
      env: { A: '1' },
      cwd: '/base/sub',
      timeoutMs: 5_000,
      enabled: true,
      source: runtime,
    });
  });

  it('normalizes an HTTP server, and skips fields given as undefined', () => {
    expect(
      serverConfigFromInput(
        { name: 'r', url: 'http://127.0.0.1:9/mcp', command: undefined, description: 'remote', timeout: 250 },
        runtime,
        '/base',
      ),
    ).toEqual({
      name: 'r',
      transport: 'http',
      url: 'http://127.0.0.1:9/mcp',
      headers: {},
      description: 'remote',
      timeoutMs: 250,
      enabled: true,
      source: runtime,
    });
  });

  it('does not expand ${VAR} in runtime input', () => {
    const server = serverConfigFromInput({ name: 'x', command: 'echo', args: ['${HOME}'] }, runtime, '/');
    expect(server).toMatchObject({ args: ['${HOME}'] });
  });

  it.each([
    [
      { name: 'a__b', command: 'x' },
      'name: server name "a__b" must not contain "__"; it separates server from tool in "<server>__<tool>"',
    ],
    [{ command: 'x' }, 'name: a server name must be a non-empty string'],
    [
      { name: 'x' },
      'invalid server "x": needs "command" (a stdio server) or "url" (a Streamable HTTP server)',
    ],
    [
      { name: 'x', command: 'node', url: 'http://h/mcp' },
      'invalid server "x": has both "command" and "url"; a server is either stdio (command) or Streamable HTTP (url)',
    ],
    [
      { name: 'x', command: 'node', timeout: 'soon' },
      'invalid server "x": timeout: expected a duration like "10s", "500ms" or a number of milliseconds',
    ],
    [
      { name: 'x', command: 'node', args: { a: 1 } },
      'invalid server "x": args: expected a list of strings, or one string split like a shell would',
    ],
    [{ name: 'x', command: 'node', args: [{}] }, 'invalid server "x": args[0]: expected a string'],
    [
      { name: 'x', command: 'node', args: 'a "b' },
      'invalid server "x": args: cannot split into arguments: unterminated double quote at character 3',
    ],
    [{ name: 'x', command: '' }, 'invalid server "x": command: must not be empty'],
    [
      { name: 'x', url: 'file:///etc/passwd' },
      'invalid server "x": url: expected an http:// or https:// URL',
    ],
    [{ name: 'x', command: 'node', restart: true }, 'invalid server "x": unknown key "restart"'],
    [
      { name: 'x', url: 'http://h/mcp', env: {} },
      'invalid server "x": "env" applies only to stdio servers (with "command")',
    ],
  ])('refuses %j', (input, message) => {
    const err = failure(input);
    expect(err.code).toBe('PARAMS_INVALID');
    expect(err.message).toBe(message);
  });

  it('never echoes a value', () => {
    const err = failure({
      name: 'x',
      url: 'ftp://user:s3cret@h/',
      headers: { A: 's3cret' },
      timeout: 's3cret',
    });
    expect(err.message).not.toContain('s3cret');
    expect(JSON.stringify(err.data)).not.toContain('s3cret');
  });
});
