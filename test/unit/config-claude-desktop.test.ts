import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  formatIssue,
  loadClaudeDesktopFile,
  parseClaudeDesktopText,
  type ServersResult,
} from '../../src/config/index.js';

const fixtures = fileURLToPath(new URL('../fixtures/config/', import.meta.url));

function errors(result: ServersResult): string[] {
  if (result.ok) throw new Error('expected errors, the file is valid');
  return result.errors.map(formatIssue);
}

describe('Claude Desktop files (--auto-register)', () => {
  it('reads servers and ignores other clients keys with a warning', async () => {
    const file = join(fixtures, 'claude_desktop_config.json');
    const source = { kind: 'auto-register', file };
    expect(await loadClaudeDesktopFile(file, {})).toEqual({
      ok: true,
      servers: [
        {
          name: 'filesystem',
          transport: 'stdio',
          command: 'npx',
          args: ['-y', '@modelcontextprotocol/server-filesystem', '/tmp'],
          env: { DEBUG: '1' },
          cwd: fixtures.replace(/\/$/, ''),
          enabled: true,
          source,
        },
        {
          name: 'remote',
          transport: 'http',
          url: 'https://example.com/mcp',
          headers: { Authorization: 'Bearer anonymous' },
          enabled: true,
          source,
        },
      ],
      warnings: [
        {
          file,
          line: 8,
          column: 7,
          path: 'mcpServers.filesystem.autoApprove',
          message: 'mcpServers.filesystem: unknown key "autoApprove"; ignored',
        },
      ],
    });
  });

  it('needs mcpServers', () => {
    expect(errors(parseClaudeDesktopText('{ "servers": {} }', 'claude.json', {}))).toEqual([
      'claude.json:1:1: missing required key "mcpServers"',
    ]);
    expect(errors(parseClaudeDesktopText('[]', 'claude.json', {}))).toEqual([
      'claude.json:1:1: expected an object with "mcpServers" (the Claude Desktop shape)',
    ]);
  });

  it('reports bad entries with positions', () => {
    const text = [
      '{',
      '  "mcpServers": {',
      '    "a": { "command": "node", "args": "x \'y" },',
      '    "b": { "args": ["x"] },',
      '    "c__d": { "url": "https://h/mcp", "headers": { "X": 1 } },',
      '    "e": { "comand": "node" }',
      '  }',
      '}',
    ].join('\n');
    const result = parseClaudeDesktopText(text, 'claude.json', {});
    expect(errors(result)).toEqual([
      'claude.json:3:39: mcpServers.a.args: cannot split into arguments: unterminated single quote at character 3',
      'claude.json:4:10: mcpServers.b: needs "command" (a stdio server) or "url" (a Streamable HTTP server)',
      'claude.json:5:5: mcpServers: server name "c__d" must not contain "__"; it separates server from tool in "<server>__<tool>"',
      'claude.json:6:10: mcpServers.e: needs "command" (a stdio server) or "url" (a Streamable HTTP server)',
    ]);
    expect(result.warnings.map(formatIssue)).toEqual([
      'claude.json:6:12: mcpServers.e: unknown key "comand" (did you mean "command"?); ignored',
    ]);
  });
});
