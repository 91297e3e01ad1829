import { appendFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectHttp,
  type HttpGatewayProcess,
  NODE,
  type StdioGateway,
  startHttpGateway,
  startStdioGateway,
  structured,
  TESTBED,
  tempDir,
  waitForTools,
} from '../helpers/gateway.js';
import { parseMetrics, scrape, writeObservedSetup } from '../helpers/observability.js';
import { waitFor } from '../helpers/wait.js';

const TOKEN = 'metrics-token-0123456789';

describe('metrics and the audit log over HTTP (metrics: true, a token set)', () => {
  let gw: HttpGatewayProcess;
  let client: Client;
  let dir: string;
  let metricsUrl: string;

  beforeAll(async () => {
    dir = tempDir('mcp-gateway-obs-');
    const config = writeObservedSetup(dir, 'metrics: true\naudit: { file: logs/audit.jsonl }\n');
    // A server under a prefix of its own: the audit line must still name it, not guess from the name.
    appendFileSync(
      config,
      `  plain:\n    command: ${JSON.stringify(NODE)}\n    args: ${JSON.stringify([TESTBED, '--name', 'plain'])}\n    prefix: "p-"\n`,
    );
    gw = await startHttpGateway(['--config', config], { env: { MCP_GATEWAY_TOKEN: TOKEN } });
    metricsUrl = gw.url.replace(/\/mcp$/, '/metrics');
    client = await connectHttp(gw.url, { token: TOKEN, clientName: 'audit-client' });
    await waitForTools(client, ['tb__echo', 'pipeline__fanout', 'p-echo']);
    await client.callTool({ name: 'p-echo', arguments: { n: 3 } });
    await client.callTool({ name: 'tb__echo', arguments: { n: 1 } });
    await client.callTool({ name: 'tb__echo', arguments: { n: 2, api_key: 'sk-live-abcdef' } });
    await client.callTool({ name: 'tb__fail', arguments: { message: 'no' } });
    await client.callTool({ name: 'call_backend', arguments: { server: 'tb', tool: 'nope', params: {} } });
    await client.callTool({ name: 'no_such_tool', arguments: {} }).catch(() => {});
    const run = await client.callTool({ name: 'pipeline__fanout', arguments: {} });
    expect(structured(run).status).toBe('succeeded');
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    await gw?.close();
  });

  it('refuses /metrics without the token, as /mcp does', async () => {
    expect((await scrape(metricsUrl)).status).toBe(401);
    expect((await scrape(metricsUrl, 'wrong-token-000000')).status).toBe(401);
    const ok = await scrape(metricsUrl, TOKEN);
    expect(ok.status).toBe(200);
    expect(ok.type).toMatch(/^text\/plain/);
  });

  it('counts client calls by served tool and outcome, unknown names as other', async () => {
    const m = parseMetrics((await scrape(metricsUrl, TOKEN)).text);
    const req = (tool: string, outcome: string) =>
      m.value('mcpgw_requests_total', { transport: 'http', tool, outcome });
    expect(req('tb__echo', 'ok')).toBe(2);
    expect(req('tb__fail', 'tool_error')).toBe(1);
    expect(req('call_backend', 'tool_error')).toBe(1);
    expect(req('other', 'error')).toBe(1);
    expect(m.labelValues('mcpgw_requests_total', 'tool')).not.toContain('no_such_tool');
    expect(m.count('mcpgw_request_duration_seconds', { tool: 'tb__echo', outcome: 'ok' })).toBe(2);
    expect(m.value('mcpgw_requests_in_flight', { transport: 'http' })).toBe(0);
  });

  it('counts backend calls by server, tool and outcome (a tool the backend lacks as other)', async () => {
    const m = parseMetrics((await scrape(metricsUrl, TOKEN)).text);
    const calls = (tool: string, outcome: string) =>
      m.value('mcpgw_backend_calls_total', { server: 'tb', tool, outcome });
    // 2 direct calls, and the pipeline's list step and its 3 items.
    expect(calls('echo', 'ok')).toBe(6);
    // 1 direct call, and the pipeline's flaky step twice (its retry).
    expect(calls('fail', 'tool_error')).toBe(3);
    expect(calls('other', 'error')).toBe(1);
    expect(m.labelValues('mcpgw_backend_calls_total', 'tool')).not.toContain('nope');
    expect(m.value('mcpgw_backend_status', { server: 'tb', status: 'ready' })).toBe(1);
    expect(m.value('mcpgw_backend_status', { server: 'tb', status: 'failed' })).toBe(0);
    expect(m.value('mcpgw_backend_restarts', { server: 'tb' })).toBe(0);
    expect(m.value('mcpgw_backend_tools', { server: 'tb' })).toBeGreaterThan(5);
  });

  it('counts pipeline runs, step durations and retries by pipeline and step', async () => {
    const m = parseMetrics((await scrape(metricsUrl, TOKEN)).text);
    expect(m.value('mcpgw_pipeline_runs_total', { pipeline: 'fanout', status: 'succeeded' })).toBe(1);
    const step = (s: string, status: string) =>
      m.count('mcpgw_pipeline_step_duration_seconds', { pipeline: 'fanout', step: s, status });
    expect(step('list', 'succeeded')).toBe(1);
    expect(step('each', 'succeeded')).toBe(1);
    expect(step('flaky', 'failed')).toBe(1);
    expect(m.value('mcpgw_pipeline_step_retries_total', { pipeline: 'fanout', step: 'flaky' })).toBe(1);
    expect(m.value('mcpgw_sessions', { transport: 'http', era: 'legacy' })).toBe(1);
  });

  it('counts an inline pipeline as custom, and a config reload by outcome', async () => {
    const pipeline = 'name: mine\nsteps:\n  s1: { server: tb, tool: echo }\n';
    await client.callTool({ name: 'route_pipeline', arguments: { scenario: 'custom', pipeline } });
    const file = path.join(dir, 'gateway.yaml');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file, `${readFileSync(file, 'utf8')}timeout: [not a duration]\n`);
    await waitFor(
      async () =>
        parseMetrics((await scrape(metricsUrl, TOKEN)).text).value('mcpgw_reloads_total', {
          kind: 'config',
          outcome: 'invalid',
        }) === 1,
      { timeoutMs: 10_000, message: 'the invalid reload is counted' },
    );
    const m = parseMetrics((await scrape(metricsUrl, TOKEN)).text);
    expect(m.value('mcpgw_pipeline_runs_total', { pipeline: 'custom', status: 'succeeded' })).toBe(1);
    expect(m.labelValues('mcpgw_pipeline_runs_total', 'pipeline')).not.toContain('mine');
    expect(m.labelValues('mcpgw_pipeline_step_duration_seconds', 'step')).not.toContain('s1');
  });

  it('writes one audit line per call: who, what, redacted arguments, outcome; never the token', async () => {
    const file = path.join(dir, 'logs', 'audit.jsonl');
    const lines = await waitFor(() => {
      const text = readFileSync(file, 'utf8');
      return text.split('\n').filter(Boolean).length >= 7 ? text : undefined;
    });
    expect(lines).not.toContain(TOKEN);
    const records = lines
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const echo = records.filter((r) => r.tool === 'tb__echo');
    expect(echo).toHaveLength(2);
    expect(echo[0]).toMatchObject({
      audit: 'tools/call',
      identity: expect.stringMatching(/^token:[0-9a-f]{12}$/),
      transport: 'http',
      session: expect.any(String),
      client: { name: 'audit-client', version: '1.0.0' },
      kind: 'backend',
      server: 'tb',
      backend_tool: 'echo',
      arguments: { n: 1 },
      outcome: 'ok',
      duration_ms: expect.any(Number),
    });
    expect(Date.parse(echo[0]!.time as string)).not.toBeNaN();
    expect(echo[1]!.arguments).toEqual({ n: 2, api_key: '<redacted>' });
    expect(records.find((r) => r.tool === 'tb__fail')).toMatchObject({ outcome: 'tool_error' });
    expect(records.find((r) => r.tool === 'call_backend')).toMatchObject({
      kind: 'backend',
      server: 'tb',
      backend_tool: 'nope',
      outcome: 'tool_error',
      error_code: 'TOOL_UNKNOWN',
    });
    expect(records.find((r) => r.tool === 'p-echo')).toMatchObject({
      kind: 'backend',
      server: 'plain',
      backend_tool: 'echo',
      outcome: 'ok',
    });
    expect(records.find((r) => r.tool === 'no_such_tool')).toMatchObject({ kind: 'meta', outcome: 'error' });
    expect(records.find((r) => r.tool === 'pipeline__fanout')).toMatchObject({
      kind: 'pipeline',
      pipeline: 'fanout',
      outcome: 'ok',
    });
    // The audit log has a file of its own: none of it in the debug log.
    expect(gw.stderr()).not.toContain('"audit":"tools/call"');
  });
});

describe('metrics on their own port, over stdio, with JSON logs', () => {
  let gw: StdioGateway;
  let url: string;

  beforeAll(async () => {
    const dir = tempDir('mcp-gateway-obs-stdio-');
    const config = writeObservedSetup(dir);
    gw = await startStdioGateway([
      'serve',
      '--config',
      config,
      '--metrics-port',
      '0',
      '--log-format',
      'json',
    ]);
    url = await waitFor(() => /metrics on (http:\/\/[^\s"]+)/.exec(gw.stderr())?.[1], { timeoutMs: 15_000 });
    await waitForTools(gw.client, ['tb__echo']);
    await gw.client.callTool({ name: 'tb__echo', arguments: { hello: 'world' } });
  }, 60_000);

  afterAll(async () => {
    await gw?.close();
  });

  it('serves /metrics on the loopback listener (no token set) and nothing else there', async () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const m = parseMetrics((await scrape(url)).text);
    expect(m.value('mcpgw_requests_total', { transport: 'stdio', tool: 'tb__echo', outcome: 'ok' })).toBe(1);
    expect(m.value('mcpgw_sessions', { transport: 'stdio', era: 'legacy' })).toBe(1);
    expect((await scrape(url.replace(/\/metrics$/, '/mcp'))).status).toBe(404);
  });

  it('writes every log line as one JSON object on stderr, and no audit line over stdio', async () => {
    const lines = gw.stderr().split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(3);
    const gatewayLines = lines.filter((l) => l.startsWith('{"time"'));
    for (const line of gatewayLines) {
      const record = JSON.parse(line) as Record<string, unknown>;
      expect(record).toMatchObject({
        time: expect.any(String),
        level: expect.stringMatching(/^(debug|info|warn|error)$/),
        component: expect.stringMatching(/^gateway/),
        msg: expect.any(String),
      });
    }
    expect(gatewayLines.some((l) => l.includes('"component":"gateway/observability"'))).toBe(false);
    expect(lines.some((l) => l.includes('"audit"'))).toBe(false);
    // No line of the gateway's own is text.
    expect(lines.filter((l) => l.startsWith('[mcp-gateway]'))).toEqual([]);
  });
});
