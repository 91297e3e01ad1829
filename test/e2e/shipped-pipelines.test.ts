import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ROOT,
  type StdioGateway,
  startStdioGateway,
  structured,
  tempDir,
  textOf,
  waitForTools,
} from '../helpers/gateway.js';
import { type NwsFixture, startNwsFixture } from '../helpers/nws-fixture-server.js';

interface Run {
  status: string;
  error?: string;
  output: Record<string, unknown>;
  steps: Record<
    string,
    { status: string; startedAt?: number; endedAt?: number; items?: number; reason?: string }
  >;
}

/**
 * The pipelines in pipelines/, run end to end through the shipped gateway.yaml: weather against
 * recorded NWS data served locally, sqlite on a fresh sample database, the filesystem server in a
 * temporary sandbox.
 */
describe('the shipped pipelines, through the default gateway.yaml', () => {
  const data = tempDir('mcp-gateway-data-');
  const sandbox = path.join(data, 'sandbox');
  let nws: NwsFixture;
  let gw: StdioGateway;

  const route = async (scenario: string, inputs: Record<string, unknown> = {}) => {
    const result = await gw.client.callTool({ name: 'route_pipeline', arguments: { scenario, inputs } });
    const run = structured<Run>(result);
    expect(run.status, textOf(result)).toBe('succeeded');
    expect(result.isError).toBeFalsy();
    return run;
  };

  beforeAll(async () => {
    nws = await startNwsFixture();
    mkdirSync(sandbox, { recursive: true });
    gw = await startStdioGateway(['serve', '--config', path.join(ROOT, 'gateway.yaml')], {
      env: { NWS_API_BASE: nws.url, MCP_GATEWAY_DATA: data },
    });
    const expected = ['weather__get_alerts', 'sqlite__read_query', 'filesystem__write_file'];
    await waitForTools(gw.client, expected);
  });
  afterAll(async () => {
    await gw?.close();
    await nws?.close();
  });

  it('all three are valid and served as tools', async () => {
    const names = (await gw.client.listTools()).tools.map((t) => t.name);
    for (const name of ['weather-analysis', 'database-report', 'automated-report']) {
      expect(names).toContain(`pipeline__${name}`);
    }
    const listed = await gw.client.callTool({ name: 'list_pipelines', arguments: {} });
    const { pipelines } = structured<{ pipelines: { name: string; valid: boolean }[] }>(listed);
    expect(pipelines.map((p) => [p.name, p.valid])).toEqual([
      ['automated-report', true],
      ['database-report', true],
      ['weather-analysis', true],
    ]);
  });

  it('weather-analysis: alerts for several states (fan-out) and the forecast, in parallel', async () => {
    const run = await route('weather-analysis', {
      states: ['CA', 'TX'],
      latitude: 37.7749,
      longitude: -122.4194,
    });
    expect(run.output.alert_counts).toEqual([2, 0]);
    const alerts = run.output.alerts as { state: string; count: number; alerts: { event: string }[] }[];
    expect(alerts.map((a) => a.state)).toEqual(['CA', 'TX']);
    expect(alerts[0]?.alerts).toHaveLength(2);
    expect(run.output.location).toBe('San Francisco, CA');
    expect(run.output.next_period).toMatchObject({ name: 'Today', temperature: 61 });
    expect(run.output.forecast).toHaveLength(4);
    const { alerts: a, forecast: f } = run.steps;
    expect(a?.items).toBe(2);
    // Neither waits for the other.
    expect(a!.startedAt!).toBeLessThan(f!.endedAt!);
    expect(f!.startedAt!).toBeLessThan(a!.endedAt!);
    expect(nws.requests).toEqual(
      expect.arrayContaining([
        '/alerts/active?area=CA',
        '/alerts/active?area=TX',
        '/points/37.7749,-122.4194',
      ]),
    );
  });

  it('database-report: the tables, every table described, and the top customers', async () => {
    const run = await route('database-report', { limit: 3 });
    expect(run.output.tables).toEqual(['customers', 'orders', 'products']);
    const schemas = run.output.schemas as { table: string; columns: { name: string }[] }[];
    expect(schemas.map((s) => s.table)).toEqual(['customers', 'orders', 'products']);
    expect(schemas[0]?.columns.map((c) => c.name)).toEqual(['id', 'name', 'email', 'city', 'total']);
    const top = run.output.top_customers as { name: string; total: number }[];
    expect(top).toHaveLength(3);
    expect(top.map((c) => c.total)).toEqual([...top.map((c) => c.total)].sort((x, y) => y - x));
    const best = await gw.client.callTool({
      name: 'sqlite__read_query',
      arguments: { query: 'SELECT name FROM customers ORDER BY total DESC, name LIMIT 1' },
    });
    expect(top[0]?.name).toBe(structured<{ rows: { name: string }[] }>(best).rows[0]?.name);
    expect(run.steps.schemas?.items).toBe(3);
  });

  it('automated-report: weather and sales written as a Markdown file in the sandbox', async () => {
    const run = await route('automated-report', { state: 'CA', limit: 3 });
    const file = path.join(sandbox, 'weather-and-sales-report.md');
    expect(run.output).toMatchObject({
      path: 'weather-and-sales-report.md',
      alerts: 2,
      location: 'San Francisco, CA',
    });
    expect(run.output.written).toMatch(/^Successfully wrote to weather-and-sales-report\.md/);
    const report = readFileSync(file, 'utf8');
    expect(report).toMatch(/^# Weather and sales report\n/);
    expect(report).toContain('## Forecast for San Francisco, CA (37.7749, -122.4194)');
    expect(report).toContain('- **Today**: 61°F, Sunny and Breezy');
    expect(report).toContain('## Weather alerts in CA: 2');
    expect(report).toContain('Active alerts for CA (2):');
    expect(report).toMatch(/\n\d+ orders from \d+ customers, \d+\.\d\d in all\./);
    const rows = report.split('\n').filter((line) => /^\| (?!customer|---)/.test(line));
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatch(/^\| [^|]+ \| [^|]+ \| \d+\.\d\d \|$/);
    // The rows are formatted by an expression from the query's rows, best first.
    const best = await gw.client.callTool({
      name: 'sqlite__read_query',
      arguments: { query: 'SELECT name, city, total FROM customers ORDER BY total DESC, name LIMIT 3' },
    });
    const top = structured<{ rows: { name: string; city: string; total: number }[] }>(best).rows;
    expect(rows).toEqual(top.map((r) => `| ${r.name} | ${r.city} | ${r.total.toFixed(2)} |`));
    // CA has alerts: the conditional step wrote the notice, its lines formatted by an expression.
    expect(run.output.alert_notice).toBe(true);
    expect(run.steps.alert_notice?.status).toBe('succeeded');
    const notice = readFileSync(path.join(sandbox, 'alerts-ca.md'), 'utf8');
    expect(notice).toMatch(/^# 2 alerts in CA\n\n- \*\*[^*]+\*\* \([A-Za-z]+\): .+\n- \*\*/);
    const writes = run.steps.write!;
    for (const step of ['alerts', 'forecast', 'sales', 'top_customers']) {
      expect(writes.startedAt!).toBeGreaterThanOrEqual(run.steps[step]!.endedAt!);
    }

    // An absolute path inside the sandbox works as well.
    const absolute = path.join(sandbox, 'texas.md');
    const texas = await route('automated-report', { state: 'TX', path: absolute });
    expect(readFileSync(absolute, 'utf8')).toContain('## Weather alerts in TX: 0');
    // No alerts in TX: `when: ${{ steps.alerts.output.count > 0 }}` skipped the notice.
    expect(texas.output.alert_notice).toBe(false);
    expect(texas.steps.alert_notice).toMatchObject({ status: 'skipped' });
    expect(existsSync(path.join(sandbox, 'alerts-tx.md'))).toBe(false);
  });
});
