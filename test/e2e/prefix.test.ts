import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectHttp,
  type HttpGatewayProcess,
  NODE,
  ROOT,
  type StdioGateway,
  startHttpGateway,
  startStdioGateway,
  structured,
  TESTBED,
  testbedServer,
  textOf,
  waitForTools,
  waitUntilWatching,
  writeConfig,
} from '../helpers/gateway.js';
import { waitFor } from '../helpers/wait.js';

/**
 * `prefix:` per server, with real backends: `prefix: ""` serves a backend's tool and prompt names and
 * resource URIs as the backend has them (every path: tools, prompts, resources, templates,
 * completions, subscriptions, list_changed), and names that meet are served by one documented rule,
 * reported in list_servers and the log.
 */
const EVERYTHING = path.join(ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');

interface ServerRow {
  name: string;
  prefix: string;
  nameClashes?: { kind: string; name: string; server: string; servedBy: string }[];
}

async function servers(client: Client): Promise<ServerRow[]> {
  const result = await client.callTool({ name: 'list_servers', arguments: {} });
  return structured<{ servers: ServerRow[] }>(result).servers;
}

describe('prefix: "" — a backend served unchanged, over Streamable HTTP', () => {
  let gw: HttpGatewayProcess;
  let client: Client;
  const updated: string[] = [];
  let toolsChanged = 0;

  beforeAll(async () => {
    const config = writeConfig(
      [
        'servers:',
        '  everything:',
        `    command: ${JSON.stringify(NODE)}`,
        `    args: ${JSON.stringify([EVERYTHING, 'stdio'])}`,
        '    timeout: 20s',
        '    prefix: ""',
        testbedServer('testbed'),
      ].join('\n'),
    );
    gw = await startHttpGateway(['--config', config, '--no-watch']);
    client = await connectHttp(gw.url);
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, ({ params }) => {
      updated.push(params.uri);
    });
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      toolsChanged++;
    });
    await waitForTools(client, ['echo', 'get-sum', 'testbed__echo']);
  }, 30_000);
  afterAll(async () => {
    await client?.close();
    await gw?.close();
  });

  it('lists and calls its tools by their own names, as the backend describes them', async () => {
    const { tools } = await client.listTools();
    const echo = tools.find((t) => t.name === 'echo');
    expect(echo?.description).toBe('Echoes back the input string');
    // Other backends keep their namespace; the gateway's own tools are there as always.
    expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['testbed__echo', 'list_servers']));
    expect(tools.some((t) => t.name.startsWith('everything__'))).toBe(false);
    const result = await client.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } });
    expect(textOf(result)).toContain('5');
    expect((await servers(client)).map((s) => [s.name, s.prefix])).toEqual([
      ['everything', ''],
      ['testbed', 'testbed__'],
    ]);
  });

  it('lists, reads and completes resources and templates under their own URIs', async () => {
    const { resources } = await client.listResources();
    const doc = resources.find((r) => r.uri.startsWith('demo://resource/static/document/'));
    expect(doc).toBeDefined();
    if (!doc) return;
    const read = await client.readResource({ uri: doc.uri });
    expect(read.contents[0]?.uri).toBe(doc.uri);
    const { resourceTemplates } = await client.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.uriTemplate)).toContain(
      'demo://resource/dynamic/text/{resourceId}',
    );
    // A URI made from a template is listed nowhere; it goes to the one transparent backend.
    const expanded = await client.readResource({ uri: 'demo://resource/dynamic/text/7' });
    expect(expanded.contents[0]?.uri).toBe('demo://resource/dynamic/text/7');
    expect((expanded.contents[0] as { text?: string }).text).toContain('Resource 7');
    const completion = await client.complete({
      ref: { type: 'ref/resource', uri: 'demo://resource/dynamic/text/{resourceId}' },
      argument: { name: 'resourceId', value: '42' },
    });
    expect(completion.completion.values).toEqual(['42']);
  });

  it('lists, gets and completes prompts by their own names', async () => {
    const { prompts } = await client.listPrompts();
    expect(prompts.map((p) => p.name)).toEqual(expect.arrayContaining(['args-prompt', 'completable-prompt']));
    const got = await client.getPrompt({ name: 'args-prompt', arguments: { city: 'Paris', state: 'Texas' } });
    expect(got.messages[0]?.content).toEqual({ type: 'text', text: "What's weather in Paris, Texas?" });
    const completion = await client.complete({
      ref: { type: 'ref/prompt', name: 'completable-prompt' },
      argument: { name: 'name', value: '' },
      context: { arguments: { department: 'Sales' } },
    });
    expect(completion.completion.values).toEqual(['David', 'Eve', 'Frank']);
  });

  it('forwards resources/updated for a subscribed URI under the backend’s own URI', async () => {
    const uri = 'demo://resource/dynamic/text/3';
    await client.subscribeResource({ uri });
    const toggled = await client.callTool({ name: 'toggle-subscriber-updates', arguments: {} });
    expect(toggled.isError).toBeFalsy();
    await waitFor(() => updated.includes(uri), { timeoutMs: 10_000 });
    await client.unsubscribeResource({ uri });
    await client.callTool({ name: 'toggle-subscriber-updates', arguments: {} });
  });

  it('serves a tool the backend adds at run time under its own name, with list_changed', async () => {
    const before = toolsChanged;
    const added = await client.callTool({ name: 'testbed__add_tool', arguments: { name: 'late_tool' } });
    expect(added.isError).toBeFalsy();
    await waitFor(() => toolsChanged > before, { timeoutMs: 10_000 });
    await waitForTools(client, ['testbed__late_tool']);
  });
});

describe('names that meet: one rule decides, and it is reported', () => {
  let gw: StdioGateway;
  const config = (order: 'alpha-first' | 'beta-first') => {
    // alpha serves its names unchanged, beta as beta_<tool>: alpha's beta_echo and beta's echo meet.
    const alpha = testbedServer(
      'alpha',
      ['--extra-tool', 'beta_echo', '--extra-tool', 'list_servers'],
      '    prefix: ""\n    tools:\n      exclude: [add]\n',
    );
    const beta = testbedServer('beta', [], '    prefix: beta_\n');
    return writeConfig(['servers:', ...(order === 'alpha-first' ? [alpha, beta] : [beta, alpha])].join('\n'));
  };

  beforeAll(async () => {
    gw = await startStdioGateway(['--config', config('alpha-first'), '--no-watch']);
    await waitForTools(gw.client, ['echo', 'beta_add']);
  }, 30_000);
  afterAll(async () => {
    await gw?.close();
  });

  it('serves a shared name from the server listed first in gateway.yaml, and says which lost', async () => {
    const result = await gw.client.callTool({ name: 'beta_echo', arguments: { x: 1 } });
    expect(structured(result)).toMatchObject({ server: 'alpha', tool: 'beta_echo' });
    const rows = await servers(gw.client);
    expect(rows.find((s) => s.name === 'beta')?.nameClashes).toEqual([
      { kind: 'tool', name: 'beta_echo', server: 'beta', servedBy: 'alpha' },
    ]);
    await waitFor(
      () => gw.stderr().includes(`tool "beta_echo" of server 'beta' is not served: server 'alpha'`),
      {
        timeoutMs: 5_000,
      },
    );
  });

  it('sends a name nobody lists to the backend served unchanged, which answers for it', async () => {
    // A server may have tools it does not list; served transparently, the backend decides.
    const hidden = await gw.client.callTool({ name: 'hidden', arguments: { x: 1 } });
    expect(structured(hidden)).toMatchObject({ server: 'alpha', tool: 'hidden', args: { x: 1 } });
    const unknown = await gw.client.callTool({ name: 'nowhere', arguments: {} }).catch((e: Error) => e);
    expect(String((unknown as Error).message)).toContain('Unknown tool: nowhere');
    // A tool the config filters out is not reached that way either.
    const filtered = await gw.client
      .callTool({ name: 'add', arguments: { a: 1, b: 2 } })
      .catch((e: Error) => e);
    expect(String((filtered as Error).message)).toContain('tools/list shows the tools served');
    // A prefixed backend's names stay the gateway's to know: beta is not asked.
    const prefixed = await gw.client.callTool({ name: 'beta_hidden', arguments: {} }).catch((e: Error) => e);
    expect(String((prefixed as Error).message)).toContain('tools/list shows the tools served');
  });

  it('never gives a backend one of the gateway’s own names', async () => {
    const result = await gw.client.callTool({ name: 'list_servers', arguments: {} });
    expect(structured<{ servers: unknown[] }>(result).servers).toHaveLength(2);
    const rows = await servers(gw.client);
    expect(rows.find((s) => s.name === 'alpha')?.nameClashes).toEqual([
      { kind: 'tool', name: 'list_servers', server: 'alpha', servedBy: 'gateway' },
    ]);
    expect(textOf(result)).toContain("is reserved for the gateway's own tools");
  });

  it('follows the file order, also when a reload reorders gateway.yaml', async () => {
    const file = config('beta-first');
    const other = await startStdioGateway(['--config', file]);
    try {
      await waitUntilWatching(other, file);
      await waitForTools(other.client, ['echo', 'beta_add']);
      const first = await other.client.callTool({ name: 'beta_echo', arguments: {} });
      expect(structured(first)).toMatchObject({ server: 'beta' });
      const rows = await servers(other.client);
      expect(rows.find((s) => s.name === 'alpha')?.nameClashes).toContainEqual({
        kind: 'tool',
        name: 'beta_echo',
        server: 'alpha',
        servedBy: 'beta',
      });
      // The same servers, alpha now listed first: nothing restarts, and alpha serves the name.
      writeFileSync(file, readFileSync(config('alpha-first'), 'utf8'));
      await waitFor(
        async () => {
          const result = await other.client.callTool({ name: 'beta_echo', arguments: {} });
          return (structured(result) as { server?: string }).server === 'alpha';
        },
        { timeoutMs: 15_000, message: 'alpha serves beta_echo after the reorder' },
      );
      expect((await servers(other.client)).find((s) => s.name === 'beta')?.nameClashes).toEqual([
        { kind: 'tool', name: 'beta_echo', server: 'beta', servedBy: 'alpha' },
      ]);
    } finally {
      await other.close();
    }
  });

  it('register_server: refuses a prefix in use, and a runtime backend comes after the file’s', async () => {
    const taken = await gw.client.callTool({
      name: 'register_server',
      arguments: { name: 'gamma', command: NODE, args: [TESTBED, '--name', 'gamma'], prefix: '' },
    });
    expect(taken.isError).toBe(true);
    expect(textOf(taken)).toContain(`prefix "" is already the prefix of server 'alpha'`);
    // gamma's "_echo" is served as beta_echo too: alpha (from the file) keeps it.
    const added = await gw.client.callTool({
      name: 'register_server',
      arguments: {
        name: 'gamma',
        command: NODE,
        args: [TESTBED, '--name', 'gamma', '--extra-tool', '_echo'],
        prefix: 'beta',
      },
    });
    expect(added.isError).toBeFalsy();
    await waitForTools(gw.client, ['betaadd']);
    const result = await gw.client.callTool({ name: 'beta_echo', arguments: {} });
    expect(structured(result)).toMatchObject({ server: 'alpha' });
    const rows = await servers(gw.client);
    expect(rows.find((s) => s.name === 'gamma')?.nameClashes).toEqual([
      { kind: 'tool', name: 'beta_echo', server: 'gamma', servedBy: 'alpha' },
    ]);
    await gw.client.callTool({ name: 'remove_server', arguments: { name: 'gamma' } });
  });
});
