// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} is the config's expansion syntax
/**
 * Secrets from ${VAR} expansion, env values and HTTP header values never appear in the gateway's logs
 * (at debug level), its errors, or list_servers — even when a failing HTTP backend echoes the
 * Authorization header it got, and when the config itself is invalid.
 */
import { writeFileSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  NODE,
  runCli,
  type StdioGateway,
  startStdioGateway,
  TESTBED,
  textOf,
  writeConfig,
} from '../helpers/gateway.js';
import { waitFor } from '../helpers/wait.js';

const SECRETS = {
  SECRET_ENV: 'env-secret-4f1e9a0c77',
  SECRET_ARG: 'arg-secret-b83d21aa5e',
  SECRET_HEADER: 'header-secret-9a2c6e0d13',
  SECRET_PASSWORD: 'password-secret-71bb0c4e',
  SECRET_QUERY: 'query-secret-0d5e8f2a9c',
  SECRET_PATH: 'path-secret-5c3a1e7b2d',
};
const LITERAL_HEADER = 'literal-header-value-6e2f0b9d';
const RUNTIME_HEADER = 'runtime-header-value-3d8a5c1f';
const RUNTIME_ENV = 'runtime-env-value-8b4e2a6c';

function expectNoSecret(text: string, where: string): void {
  for (const value of [...Object.values(SECRETS), LITERAL_HEADER, RUNTIME_HEADER, RUNTIME_ENV]) {
    expect(text.includes(value), `${where} shows ${value}:\n${text.slice(0, 2_000)}`).toBe(false);
  }
}

/** An HTTP "MCP server" that refuses everyone and, carelessly, says what it was sent. */
async function startEchoingRefuser(): Promise<{ url: string; close(): Promise<void> }> {
  const server: HttpServer = createServer((req, res) => {
    res.writeHead(401, { 'Content-Type': 'text/plain' });
    res.end(
      `unauthorized: got Authorization=${req.headers.authorization ?? ''} url=${req.url} headers=${JSON.stringify(req.headers)}`,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('secrets never appear in logs, errors or list_servers', () => {
  let gw: StdioGateway;
  let refuser: Awaited<ReturnType<typeof startEchoingRefuser>>;

  beforeAll(async () => {
    refuser = await startEchoingRefuser();
    const config = writeConfig(
      [
        'servers:',
        '  failing:',
        `    command: ${JSON.stringify(NODE)}`,
        `    args: [${JSON.stringify(TESTBED)}, --name, failing, --exit-on-start, "3", --stderr-banner, "starting with --token \${SECRET_ARG}"]`,
        '    env: { API_KEY: "${SECRET_ENV}", PLAIN: "not-a-secret-value" }',
        '  tokenarg:',
        `    command: ${JSON.stringify(NODE)}`,
        `    args: [${JSON.stringify(TESTBED)}, --name, tokenarg, --stderr-banner, "token=\${SECRET_ARG}"]`,
        '  remote:',
        `    url: "http://user:\${SECRET_PASSWORD}@${refuser.url}/\${SECRET_PATH}/mcp?key=\${SECRET_QUERY}"`,
        '    headers: { Authorization: "Bearer ${SECRET_HEADER}", X-Api-Key: ' +
          JSON.stringify(LITERAL_HEADER) +
          ' }',
        '    timeout: 3s',
      ].join('\n'),
    );
    gw = await startStdioGateway(['--config', config], {
      env: { ...SECRETS, MCP_GATEWAY_LOG_LEVEL: 'debug' },
    });
    await waitFor(
      async () => {
        const result = await gw.client.callTool({ name: 'list_servers', arguments: {} });
        const servers = (result.structuredContent as { servers: { name: string; status: string }[] }).servers;
        return (
          servers.find((s) => s.name === 'failing')?.status === 'failed' &&
          servers.find((s) => s.name === 'remote')?.status === 'failed' &&
          servers.find((s) => s.name === 'tokenarg')?.status === 'ready'
        );
      },
      { timeoutMs: 15_000 },
    );
  });
  afterAll(async () => {
    await gw?.close();
    await refuser?.close();
  });

  it('list_servers shows what failed and why, without the secrets', async () => {
    const result = await gw.client.callTool({ name: 'list_servers', arguments: {} });
    const text = `${textOf(result)}\n${JSON.stringify(result.structuredContent)}`;
    expectNoSecret(text, 'list_servers');
    expect(text).toMatch(/exited with code 3/);
    expect(text).toMatch(
      /could not connect to http:\/\/127\.0\.0\.1:\d+\/\$\{SECRET_PATH\}\/mcp: .*requires authorization \(HTTP 401\)/,
    );
    // The place of a secret is still shown, by the name of its variable.
    expect(text).toContain('${SECRET_ARG}');
  });

  it('calls to the failed backends fail with errors that name no secret', async () => {
    for (const [server, tool] of [
      ['failing', 'echo'],
      ['remote', 'anything'],
    ] as const) {
      const result = await gw.client.callTool({ name: 'call_backend', arguments: { server, tool } });
      expect(result.isError).toBe(true);
      expectNoSecret(`${textOf(result)}\n${JSON.stringify(result.structuredContent)}`, `${server} error`);
    }
  });

  it('register_server with a failing url and secret headers answers without them', async () => {
    const result = await gw.client.callTool({
      name: 'register_server',
      arguments: {
        name: 'runtime',
        url: `http://${refuser.url}/mcp`,
        headers: { Authorization: `Bearer ${RUNTIME_HEADER}` },
        timeout: '2s',
      },
    });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/failed to start/);
    expectNoSecret(`${textOf(result)}\n${JSON.stringify(result.structuredContent)}`, 'register_server');
    const stdio = await gw.client.callTool({
      name: 'register_server',
      arguments: {
        name: 'runtime2',
        command: NODE,
        args: [TESTBED, '--exit-on-start', '4'],
        env: { RUNTIME_SECRET: RUNTIME_ENV },
      },
    });
    expect(stdio.isError).toBe(true);
    expectNoSecret(`${textOf(stdio)}\n${JSON.stringify(stdio.structuredContent)}`, 'register_server stdio');
  });

  it("a backend's results and a successful pipeline's output are data, passed on unchanged", async () => {
    const value = SECRETS.SECRET_ARG;
    const direct = await gw.client.callTool({ name: 'tokenarg__echo', arguments: { value } });
    expect(JSON.stringify(direct.structuredContent)).toContain(value);
    const routed = await gw.client.callTool({
      name: 'call_backend',
      arguments: { server: 'tokenarg', tool: 'echo', params: { value } },
    });
    expect(JSON.stringify(routed.structuredContent)).toContain(value);
    const pipeline = [
      'name: custom',
      'inputs: { value: { type: string } }',
      'steps:',
      '  a: { server: tokenarg, tool: echo, args: { value: "${{ $.inputs.value }}" } }',
    ].join('\n');
    const run = await gw.client.callTool({
      name: 'route_pipeline',
      arguments: { scenario: 'custom', pipeline, inputs: { value } },
    });
    expect(run.isError, textOf(run)).toBeFalsy();
    expect(JSON.stringify(run.structuredContent)).toContain(value);
  });

  it("a failed step's error is redacted in the run, its text and its progress, even when the run succeeds", async () => {
    const value = SECRETS.SECRET_ARG;
    const pipeline = (onError: 'continue' | 'fail') =>
      [
        'name: custom',
        'inputs: { value: { type: string } }',
        'steps:',
        // The backend's error quotes the secret, as a careless server echoing its credentials does.
        '  leaky:',
        '    server: tokenarg',
        '    tool: fail',
        '    args: { message: "denied with token ${{ $.inputs.value }}" }',
        `    on_error: ${onError}`,
        // A step that takes a while after the failure, so its progress line is out well before the result.
        '  after: { server: tokenarg, tool: sleep, needs: [leaky], args: { ms: 300 } }',
        'output: "${{ $.steps.after.status }}"',
      ].join('\n');
    for (const onError of ['continue', 'fail'] as const) {
      const progress: string[] = [];
      const run = await gw.client.callTool(
        {
          name: 'route_pipeline',
          arguments: { scenario: 'custom', pipeline: pipeline(onError), inputs: { value } },
        },
        undefined,
        { onprogress: (p) => progress.push(p.message ?? '') },
      );
      const data = run.structuredContent as {
        status: string;
        error?: string;
        steps: Record<string, { status: string; error?: string }>;
      };
      expect(data.status, textOf(run)).toBe(onError === 'continue' ? 'succeeded' : 'failed');
      expect(run.isError ?? false).toBe(onError === 'fail');
      expect(data.steps.leaky).toMatchObject({ status: 'failed', error: 'denied with token ${SECRET_ARG}' });
      expect(textOf(run)).toContain('denied with token ${SECRET_ARG}');
      // Progress is sent on its way, not awaited, and a line that trails the result is dropped by the
      // client: a run that stops at the failure may lose it. Under continue, a slow step follows.
      if (onError === 'continue') expect(progress.join('\n')).toContain("step 'leaky' failed");
      expectNoSecret(
        `${textOf(run)}\n${JSON.stringify(run.structuredContent)}`,
        `route_pipeline (${onError})`,
      );
      expectNoSecret(progress.join('\n'), `progress (${onError})`);
    }
  });

  it('the gateway log, at debug level, holds no secret', async () => {
    // Let the retries of the failed backends log a few more times.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const stderr = gw.stderr();
    expect(stderr).toMatch(/debug/);
    expect(stderr).toMatch(/failing/);
    expectNoSecret(stderr, 'stderr');
  });
});

describe('mcp-gateway run', () => {
  it("shows a failed step's error redacted, on stderr and in --json, when the run goes on", async () => {
    const config = writeConfig(
      [
        'servers:',
        '  tokenarg:',
        `    command: ${JSON.stringify(NODE)}`,
        `    args: [${JSON.stringify(TESTBED)}, --name, tokenarg, --stderr-banner, "token=\${SECRET_ARG}"]`,
      ].join('\n'),
    );
    const pipeline = join(dirname(config), 'leaky.yaml');
    writeFileSync(
      pipeline,
      [
        'name: leaky',
        'inputs: { value: { type: string } }',
        'steps:',
        '  leaky:',
        '    server: tokenarg',
        '    tool: fail',
        '    args: { message: "denied with token ${{ $.inputs.value }}" }',
        '    on_error: continue',
        '  after: { server: tokenarg, tool: echo, needs: [leaky], args: { value: ok } }',
        'output: "${{ $.steps.after.output }}"',
      ].join('\n'),
    );
    for (const json of [false, true]) {
      const result = await runCli(
        [
          'run',
          pipeline,
          '--config',
          config,
          '--input',
          `value=${SECRETS.SECRET_ARG}`,
          ...(json ? ['--json'] : []),
        ],
        { env: SECRETS },
      );
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toMatch(/failed after .*: denied with token \$\{SECRET_ARG\} \(continuing\)/);
      expectNoSecret(result.stderr, 'run stderr');
      expectNoSecret(result.stdout, 'run stdout');
      if (json) {
        const run = JSON.parse(result.stdout) as { steps: Record<string, { error?: string }> };
        expect(run.steps.leaky?.error).toBe('denied with token ${SECRET_ARG}');
      }
    }
  });
});

describe('an invalid config with secrets in it', () => {
  it('is reported without the expanded values', async () => {
    const config = writeConfig(
      [
        'timeout: "${SECRET_ENV}"',
        'http: { port: "${SECRET_ARG}", token: "${SECRET_HEADER}" }',
        'servers:',
        '  a: { command: node, args: "${SECRET_QUERY} \'unterminated", env: { K: ["${SECRET_PASSWORD}"] } }',
        '  b: { url: "${SECRET_PATH}", headers: { H: "${SECRET_HEADER}" } }',
        '  c: { command: node, timeout: "${SECRET_ENV}", unknown: "${SECRET_ARG}" }',
      ].join('\n'),
    );
    for (const command of [
      ['serve', '--config', config],
      ['list', '--config', config],
    ]) {
      const result = await runCli(command, { env: { ...SECRETS, MCP_GATEWAY_LOG_LEVEL: 'debug' } });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/gateway\.yaml:\d+:\d+: /);
      expectNoSecret(result.stderr + result.stdout, command[0]!);
    }
  });
});
