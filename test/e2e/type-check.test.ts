// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax
/**
 * The data-flow type check against real backends: the bundled sqlite server (on a real database
 * file) and the filesystem server. `validate` reports a value that cannot fit its parameter at its
 * line:column; the served gateway reports it in list_pipelines and keeps serving, and serves each
 * pipeline's derived output schema, which the SDK Client checks every result against.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ROOT,
  runCli,
  type StdioGateway,
  startStdioGateway,
  structured,
  tempDir,
  testbedServer,
  textOf,
  waitForTools,
  waitUntilWatching,
  writeConfig,
} from '../helpers/gateway.js';
import { waitFor } from '../helpers/wait.js';

const EXPORT_PRODUCTS = `name: export-products
description: Write the products to a file
steps:
  products:
    server: sqlite
    tool: read_query
    args:
      query: SELECT name, price FROM products ORDER BY id
  save:
    server: filesystem
    tool: write_file
    args:
      path: products.json
      content: \${{ $.steps.products.output.rows }}
`;

const PRODUCT_COUNT = `name: product-count
description: How many products, and their names
steps:
  products:
    server: sqlite
    tool: read_query
    args:
      query: SELECT name FROM products ORDER BY id LIMIT 3
output:
  count: \${{ $.steps.products.output.rowCount }}
  names: \${{ $.steps.products.output.rows[*].name }}
  columns: \${{ $.steps.products.output.columns }}
  summary: "\${{ $.steps.products.output.rowCount }} products"
  many: \${{ steps.products.output.rowCount > 2 }}
`;

/** A folder with gateway.yaml (sqlite on shop.db, filesystem on sandbox/) and the given pipelines. */
function workspace(pipelines: Record<string, string>): string {
  const dir = tempDir('mcp-gateway-types-');
  mkdirSync(path.join(dir, 'pipelines'));
  mkdirSync(path.join(dir, 'sandbox'));
  for (const [name, text] of Object.entries(pipelines))
    writeFileSync(path.join(dir, 'pipelines', name), text);
  const config = [
    'pipelines: ./pipelines',
    'servers:',
    '  sqlite:',
    `    command: ${JSON.stringify(process.execPath)}`,
    `    args: ${JSON.stringify([path.join(ROOT, 'dist/servers/sqlite.js'), '--db-path', path.join(dir, 'shop.db')])}`,
    '  filesystem:',
    `    command: ${JSON.stringify(process.execPath)}`,
    `    args: ${JSON.stringify([path.join(ROOT, 'node_modules/@modelcontextprotocol/server-filesystem/dist/index.js'), path.join(dir, 'sandbox')])}`,
    '',
  ].join('\n');
  writeFileSync(path.join(dir, 'gateway.yaml'), config);
  return dir;
}

describe('mcp-gateway validate (online): data flow', () => {
  it('reports query rows (an array) passed as write_file content (a string) at the line:column of the value, and exits 1', async () => {
    const dir = workspace({ 'export-products.yaml': EXPORT_PRODUCTS, 'product-count.yaml': PRODUCT_COUNT });
    const result = await runCli(['validate', '--config', 'gateway.yaml'], { cwd: dir, timeoutMs: 30_000 });
    expect(result.stdout.trimEnd().split('\n')).toEqual([
      "pipelines/export-products.yaml:14:16: filesystem.write_file's 'content' takes a string; ${{ $.steps.products.output.rows }} is an array of objects (per sqlite.read_query's outputSchema)",
      '2 pipeline files: 1 valid, 1 invalid (1 problem)',
    ]);
    expect(result.code).toBe(1);

    const json = await runCli(['validate', '--config', 'gateway.yaml', '--format', 'json'], {
      cwd: dir,
      timeoutMs: 30_000,
    });
    const report = JSON.parse(json.stdout) as {
      files: { name: string; issues: Record<string, unknown>[] }[];
    };
    const issue = report.files.find((f) => f.name === 'export-products')!.issues[0];
    expect(issue).toMatchObject({
      line: 14,
      column: 16,
      step: 'save',
      severity: 'error',
      code: 'TYPE_MISMATCH',
    });
  });

  it('offline, the tools are not known and nothing is said about types', async () => {
    const dir = workspace({ 'export-products.yaml': EXPORT_PRODUCTS });
    const result = await runCli(['validate', '--offline', '--config', 'gateway.yaml'], { cwd: dir });
    expect(result.stdout).toBe('1 pipeline file: 1 valid, 0 invalid\n');
    expect(result.code).toBe(0);
  });
});

describe('the served gateway: type problems and derived output schemas', () => {
  const gateways: StdioGateway[] = [];
  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.close()));
  });

  it('serves pipeline__<name> with the output schema derived from read_query, and results that satisfy it', async () => {
    const dir = workspace({ 'export-products.yaml': EXPORT_PRODUCTS, 'product-count.yaml': PRODUCT_COUNT });
    const gw = await startStdioGateway(['serve', '--config', path.join(dir, 'gateway.yaml')], { cwd: dir });
    gateways.push(gw);
    await waitForTools(gw.client, [
      'sqlite__read_query',
      'filesystem__write_file',
      'pipeline__product-count',
    ]);
    // The schema comes once sqlite has connected: wait for the tools/list that carries it.
    let tool: { outputSchema?: { properties?: Record<string, unknown> } } | undefined;
    await waitFor(
      async () => {
        tool = (await gw.client.listTools()).tools.find((t) => t.name === 'pipeline__product-count');
        return JSON.stringify(tool?.outputSchema ?? {}).includes('"count"');
      },
      { message: 'pipeline__product-count has its derived output schema' },
    );
    expect(tool!.outputSchema!.properties!.output).toEqual({
      anyOf: [
        {
          type: 'object',
          properties: {
            count: { type: 'integer' },
            names: { type: 'array', items: {} },
            columns: { type: 'array', items: { type: 'string' } },
            summary: { type: 'string' },
            many: { type: 'boolean' },
          },
          additionalProperties: false,
        },
        { type: 'null' },
      ],
    });

    // callTool checks structuredContent against the outputSchema it listed (and throws when it does not fit).
    const result = (await gw.client.callTool({
      name: 'pipeline__product-count',
      arguments: {},
    })) as CallToolResult;
    expect(result.isError).toBeFalsy();
    expect(structured(result).output).toEqual({
      count: 3,
      names: expect.any(Array),
      columns: ['name'],
      summary: '3 products',
      many: true,
    });
    // A custom pipeline is checked when it is sent: the type error refuses it, nothing runs.
    const custom = (await gw.client.callTool({
      name: 'route_pipeline',
      arguments: { scenario: 'custom', pipeline: EXPORT_PRODUCTS },
    })) as CallToolResult;
    expect(custom.isError).toBe(true);
    expect(structured(custom)).toMatchObject({ code: 'PIPELINE_INVALID' });
    expect(textOf(custom)).toBe(
      "the custom pipeline is invalid (1 problem):\npipeline:14:16: filesystem.write_file's 'content' takes a string; ${{ $.steps.products.output.rows }} is an array of objects (per sqlite.read_query's outputSchema)",
    );
    // Bad inputs are an error result that fits the schema too.
    const bad = (await gw.client.callTool({
      name: 'pipeline__product-count',
      arguments: { x: 1 },
    })) as CallToolResult;
    expect(bad.isError).toBe(true);
  });

  it('reports the rows→content mismatch in list_pipelines and the log once sqlite connects, and keeps serving the pipeline', async () => {
    const dir = workspace({ 'export-products.yaml': EXPORT_PRODUCTS });
    const gw = await startStdioGateway(['serve', '--config', path.join(dir, 'gateway.yaml')], { cwd: dir });
    gateways.push(gw);
    await waitForTools(gw.client, [
      'sqlite__read_query',
      'filesystem__write_file',
      'pipeline__export-products',
    ]);
    let listed: { typeProblems?: Record<string, unknown>[]; tool?: string } | undefined;
    await waitFor(
      async () => {
        const result = await gw.client.callTool({ name: 'list_pipelines', arguments: {} });
        listed = structured<{ pipelines: (typeof listed)[] }>(result).pipelines[0];
        return (listed?.typeProblems?.length ?? 0) > 0;
      },
      { message: 'list_pipelines shows the type problem' },
    );
    expect(listed!.tool).toBe('pipeline__export-products');
    expect(listed!.typeProblems).toEqual([
      expect.objectContaining({
        file: path.join(dir, 'pipelines', 'export-products.yaml'),
        line: 14,
        column: 16,
        severity: 'error',
        code: 'TYPE_MISMATCH',
        message: expect.stringContaining("filesystem.write_file's 'content' takes a string"),
      }),
    ]);
    // The log line is written when the check runs; stderr reaches the test a moment later.
    const logged = `${path.join(dir, 'pipelines', 'export-products.yaml')}:14:16: error: filesystem.write_file's 'content' takes a string`;
    await waitFor(() => gw.stderr().includes(logged), { message: 'the type problem is logged' });
    expect(gw.stderr()).toContain(logged);

    // Fixed on disk: the hot reload checks it again, and the problem is gone.
    await waitUntilWatching(gw, path.join(dir, 'pipelines'));
    const fixed = EXPORT_PRODUCTS.replace(
      '${{ $.steps.products.output.rows }}',
      '"${{ $.steps.products.output.rows }}"',
    );
    writeFileSync(
      path.join(dir, 'pipelines', 'export-products.yaml'),
      fixed.replace('content: "', 'content: "rows: '),
    );
    await waitFor(
      async () => {
        const result = await gw.client.callTool({ name: 'list_pipelines', arguments: {} });
        return (
          structured<{ pipelines: { typeProblems?: unknown[] }[] }>(result).pipelines[0]?.typeProblems ===
          undefined
        );
      },
      { message: 'the type problem is gone after the fix' },
    );
    expect(gw.stderr()).toContain("pipeline 'export-products': no type problems now");
  }, 60_000);

  it("checks again when a backend's tool list changes (list_changed)", async () => {
    const dir = tempDir('mcp-gateway-types-');
    mkdirSync(path.join(dir, 'pipelines'));
    writeFileSync(
      path.join(dir, 'pipelines', 'sum-note.yaml'),
      [
        'name: sum-note',
        'steps:',
        '  sum: { server: alpha, tool: add, args: { a: 1, b: 2 } }',
        '  note:',
        '    server: alpha',
        '    tool: later',
        '    args:',
        '      text: ${{ $.steps.sum.output.sum }}',
        '',
      ].join('\n'),
    );
    const config = writeConfig(
      ['pipelines: ./pipelines', 'servers:', testbedServer('alpha')].join('\n'),
      dir,
    );
    const gw = await startStdioGateway(['serve', '--config', config]);
    gateways.push(gw);
    await waitForTools(gw.client, ['alpha__add', 'pipeline__sum-note']);
    const problems = async () => {
      const result = await gw.client.callTool({ name: 'list_pipelines', arguments: {} });
      return structured<{
        pipelines: { typeProblems?: { message: string; line: number; column: number }[] }[];
      }>(result).pipelines[0]?.typeProblems;
    };
    // `later` does not exist yet: nothing to check against.
    expect(await problems()).toBeUndefined();
    await gw.client.callTool({
      name: 'alpha__add_tool',
      arguments: { name: 'later', inputSchema: { type: 'object', properties: { text: { type: 'string' } } } },
    });
    await waitFor(async () => (await problems()) !== undefined, {
      message: 'the type problem appears once the tool is listed',
    });
    expect(await problems()).toEqual([
      expect.objectContaining({
        line: 8,
        column: 13,
        message:
          "alpha.later's 'text' takes a string; ${{ $.steps.sum.output.sum }} is a number (per alpha.add's outputSchema)",
      }),
    ]);
  }, 60_000);
});
