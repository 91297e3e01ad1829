import { describe, expect, it } from 'vitest';
import { runCli, testbedServer, writeConfig } from '../helpers/gateway.js';

describe('mcp-gateway CLI', () => {
  it('prints help and version', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('mcp-gateway [serve]');
    const version = await runCli(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('exits 2 on an unknown command or option', async () => {
    const unknown = await runCli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    const badOption = await runCli(['serve', '--no-such-flag']);
    expect(badOption.code).toBe(2);
  });

  it('refuses an invalid gateway.yaml naming file, line and column, and writes nothing to stdout', async () => {
    const file = writeConfig(
      ['timeout: 10s', 'servers:', '  db:', '    comand: node', '    args: [x]', ''].join('\n'),
    );
    const result = await runCli(['serve', '--config', file]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`${file}:4:5`);
    expect(result.stderr).toMatch(/comand/);
  });

  it('names a missing environment variable and where it is used', async () => {
    const reference = ['$', '{MCP_GATEWAY_TEST_UNSET_VAR}'].join('');
    const file = writeConfig(
      ['servers:', '  db:', '    command: node', `    env: { TOKEN: "${reference}" }`, ''].join('\n'),
    );
    const result = await runCli(['serve', '--config', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('MCP_GATEWAY_TEST_UNSET_VAR');
    expect(result.stderr).toMatch(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4:\\d+`));
  });

  it('list connects to the backends and prints their tools', async () => {
    const file = writeConfig(['servers:', testbedServer('alpha'), ''].join('\n'));
    const result = await runCli(['list', '--config', file]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/alpha \(stdio, ready, MCP 2025-11-25 \(legacy\)\)/);
    expect(result.stdout).toMatch(/\n {2}echo/);
  });

  it('list exits 1 and shows the error when a backend cannot start', async () => {
    const file = writeConfig(['servers:', '  broken:', '    command: /nonexistent/program', ''].join('\n'));
    const result = await runCli(['list', '--config', file]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/broken \(stdio, failed\) — .*nonexistent/);
  });
  it('list never prints a value that came from an environment variable', async () => {
    const secretPath = '/nonexistent/s3cr3t-value-from-env';
    const reference = ['$', '{MCP_GATEWAY_TEST_SECRET_CMD}'].join('');
    const file = writeConfig(['servers:', '  leaky:', `    command: "${reference}"`, ''].join('\n'));
    const result = await runCli(['list', '--config', file, '--json'], {
      env: { MCP_GATEWAY_TEST_SECRET_CMD: secretPath },
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('leaky');
    expect(result.stdout + result.stderr).not.toContain('s3cr3t-value-from-env');
  });
});
