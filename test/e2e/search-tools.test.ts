import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Access } from '../../src/auth/index.js';
import { BackendRegistry } from '../../src/backends/index.js';
import type { StdioServerConfig } from '../../src/config/types.js';
import { isGatewayError } from '../../src/errors.js';
import { ProfileView } from '../../src/front/profile-view.js';
import { SearchTools } from '../../src/front/search-tools.js';
import type { CallContext, ServedTool } from '../../src/front/served-tool.js';
import { ToolTable } from '../../src/front/tool-table.js';
import { silentLogger } from '../../src/log.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Search mode's three tools over real backends (the published memory server and the testbed): ranked
 * finds, a full description, calls that reach the backend, a view that hides a tool from all three,
 * and an index that follows a backend's tools/list_changed.
 */
const TESTBED = path.resolve(import.meta.dirname, '../fixtures/servers/testbed.mjs');
const MEMORY = path.resolve(
  import.meta.dirname,
  '../../node_modules/@modelcontextprotocol/server-memory/dist/index.js',
);

function stdio(name: string, args: string[], env: Record<string, string> = {}): StdioServerConfig {
  return {
    name,
    transport: 'stdio',
    command: process.execPath,
    args,
    env,
    enabled: true,
    source: { kind: 'config', file: '/virtual/gateway.yaml' },
  };
}

const ctx = (): CallContext => ({ signal: new AbortController().signal, transport: 'stdio', era: 'legacy' });

describe('search mode tools', () => {
  let dir: string;
  let registry: BackendRegistry;
  let table: ToolTable;
  let search: SearchTools;
  const tool = (name: string) => search.tools.find((t) => t.definition.name === name) as ServedTool;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'search-tools-'));
    registry = new BackendRegistry({ defaultTimeoutMs: 10_000, logger: silentLogger });
    const memory = registry.add(
      stdio('memory', [MEMORY], { MEMORY_FILE_PATH: path.join(dir, 'memory.jsonl') }),
    );
    const testbed = registry.add(stdio('testbed', [TESTBED, '--name', 'testbed']));
    await Promise.all([memory.whenSettled(), testbed.whenSettled()]);
    table = new ToolTable({
      registry,
      groups: () => ({ meta: false, backends: true, pipelines: false }),
      metaTools: [],
      logger: silentLogger,
    });
    const view = new ProfileView({
      name: 'search',
      exclude: ['testbed__fail', 'testbed__crash'],
      mode: 'search',
    });
    search = new SearchTools({
      table,
      visible: (t) => (t.backend ? view.allowsBackendTool(t.backend, t.definition.name) : true),
    });
  }, 30_000);

  afterAll(async () => {
    search?.close();
    table?.close();
    await registry?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('find_tools ranks a request in plain words, with one-line descriptions and schemas', async () => {
    const result = await tool('find_tools').call(
      { query: 'add facts to the knowledge graph', limit: 5 },
      ctx(),
    );
    const found = (result.structuredContent as { tools: { name: string; inputSchema: unknown }[] }).tools;
    expect(found.length).toBeLessThanOrEqual(5);
    expect(found.map((t) => t.name)).toEqual(expect.arrayContaining(['memory__add_observations']));
    expect(found[0]?.inputSchema).toMatchObject({ type: 'object' });
    expect(result.content[0]).toMatchObject({ type: 'text', text: expect.stringMatching(/^1\. memory__/) });
  });

  it('describe_tool gives the whole definition; call_tool reaches the backend', async () => {
    const described = await tool('describe_tool').call({ name: 'memory__create_entities' }, ctx());
    expect(described.structuredContent).toMatchObject({
      name: 'memory__create_entities',
      inputSchema: { properties: { entities: { type: 'array' } } },
    });
    const created = await tool('call_tool').call(
      {
        name: 'memory__create_entities',
        arguments: { entities: [{ name: 'Ada', entityType: 'person', observations: ['writes programs'] }] },
      },
      ctx(),
    );
    expect(created.isError).toBeFalsy();
    const graph = await tool('call_tool').call({ name: 'memory__read_graph', arguments: {} }, ctx());
    expect(JSON.stringify(graph.content)).toContain('writes programs');
  });

  it('a tool outside the view is unknown to find, describe and call alike', async () => {
    const found = search.find('fail with a message', 50).map((h) => h.name);
    expect(found).not.toContain('testbed__fail');
    for (const name of ['describe_tool', 'call_tool'] as const) {
      const error = await tool(name)
        .call({ name: 'testbed__fail', arguments: { message: 'x' } }, ctx())
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(isGatewayError(error, 'TOOL_UNKNOWN'), String(error)).toBe(true);
    }
  });

  it("a caller's access (http.auth.rules) narrows find and describe to what it may list", async () => {
    // As server.ts hands it on for a restricted caller: the testbed's tools only.
    const access: Access = {
      unrestricted: false,
      allows: (t) => t.kind === 'backend' && t.server === 'testbed',
    };
    const as = { ...ctx(), access };
    const found = await tool('find_tools').call({ query: 'add facts to the knowledge graph', limit: 50 }, as);
    const names = (found.structuredContent as { tools: { name: string }[] }).tools.map((t) => t.name);
    expect(names.filter((n) => n.startsWith('memory__'))).toEqual([]);
    const error = (name: string) =>
      tool('describe_tool')
        .call({ name }, as)
        .then(
          () => undefined,
          (e: unknown) => e as Error,
        );
    const forbidden = await error('memory__create_entities');
    const missing = await error('memory__create_entitiez');
    expect(isGatewayError(forbidden, 'TOOL_UNKNOWN'), String(forbidden)).toBe(true);
    expect(forbidden?.message.replace('entities', 'X')).toBe(missing?.message.replace('entitiez', 'X'));
    // Without access in the context (no rules): everything, as before.
    const all = await tool('describe_tool').call({ name: 'memory__create_entities' }, ctx());
    expect(all.isError).toBeFalsy();
  });

  it("follows a backend's tools/list_changed", async () => {
    expect(search.find('klingon').map((h) => h.name)).not.toContain('testbed__klingon_translate');
    await tool('call_tool').call(
      { name: 'testbed__add_tool', arguments: { name: 'klingon_translate' } },
      ctx(),
    );
    await waitFor(() => search.find('klingon').some((h) => h.name === 'testbed__klingon_translate'));
  });
});
