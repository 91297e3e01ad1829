import type { Client } from '@modelcontextprotocol/client';
import {
  ListPromptsResultSchema,
  ListResourcesResultSchema,
  ListResourceTemplatesResultSchema,
} from '@modelcontextprotocol/core';
import {
  type Prompt,
  ProtocolError,
  ProtocolErrorCode,
  type Resource,
  type ResourceTemplateType as ResourceTemplate,
} from '@modelcontextprotocol/server';
import type { BackendRegistry } from '../backends/index.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { backendToolName } from './naming.js';
import { collectPages, paginate } from './paging.js';
import { gatewayUri, parseGatewayUri } from './resource-uri.js';

export type ListKind = 'resources' | 'templates' | 'prompts';

/**
 * The resources, resource templates and prompts of every ready backend, as one list each with gateway
 * names and URIs (resource-uri.ts), served in pages. Each list is built once and cached until a backend
 * says it changed or a backend comes or goes (`invalidate`).
 */
export class AggregatedLists {
  private readonly lists = new Map<ListKind, Promise<unknown[]>>();

  constructor(
    private readonly registry: BackendRegistry,
    private readonly logger: Logger,
    private readonly pageSize: number,
  ) {}

  async listResources(cursor: string | undefined): Promise<{ resources: Resource[]; nextCursor?: string }> {
    const { items, nextCursor } = paginate(await this.allResources(), cursor, this.pageSize);
    return { resources: items, ...(nextCursor ? { nextCursor } : {}) };
  }

  /** Every backend's resources, with gateway URIs. */
  allResources(): Promise<Resource[]> {
    return this.cached('resources', () =>
      this.fromBackends('resources', 'resources/list', async (client, server, cursor, timeout) => {
        const page = await client.request(
          { method: 'resources/list', params: cursor === undefined ? {} : { cursor } },
          ListResourcesResultSchema,
          { timeout },
        );
        const items = page.resources.map((r) => ({ ...r, uri: gatewayUri(server, r.uri) }));
        return { items, nextCursor: page.nextCursor };
      }),
    );
  }

  async listTemplates(
    cursor: string | undefined,
  ): Promise<{ resourceTemplates: ResourceTemplate[]; nextCursor?: string }> {
    const all = await this.cached('templates', () =>
      this.fromBackends('resources', 'resources/templates/list', async (client, server, cursor, timeout) => {
        const page = await client.request(
          { method: 'resources/templates/list', params: cursor === undefined ? {} : { cursor } },
          ListResourceTemplatesResultSchema,
          { timeout },
        );
        const items = page.resourceTemplates.map((t) => ({
          ...t,
          uriTemplate: gatewayUri(server, t.uriTemplate),
        }));
        return { items, nextCursor: page.nextCursor };
      }),
    );
    const { items, nextCursor } = paginate(all, cursor, this.pageSize);
    return { resourceTemplates: items, ...(nextCursor ? { nextCursor } : {}) };
  }

  async listPrompts(cursor: string | undefined): Promise<{ prompts: Prompt[]; nextCursor?: string }> {
    const all = await this.cached('prompts', () =>
      this.fromBackends('prompts', 'prompts/list', async (client, server, cursor, timeout) => {
        const page = await client.request(
          { method: 'prompts/list', params: cursor === undefined ? {} : { cursor } },
          ListPromptsResultSchema,
          { timeout },
        );
        const items = page.prompts.map((p) => ({ ...p, name: backendToolName(server, p.name) }));
        return { items, nextCursor: page.nextCursor };
      }),
    );
    const { items, nextCursor } = paginate(all, cursor, this.pageSize);
    return { prompts: items, ...(nextCursor ? { nextCursor } : {}) };
  }

  /** The list of `kind` from the cache, built once per change; a build that missed a backend is not kept. */
  private async cached<T>(kind: ListKind, build: () => Promise<{ items: T[]; complete: boolean }>) {
    let pending = this.lists.get(kind) as Promise<T[]> | undefined;
    if (!pending) {
      const building = build();
      pending = building.then((r) => r.items);
      this.lists.set(kind, pending);
      void building.then(
        (r) => {
          if (!r.complete && this.lists.get(kind) === pending) this.lists.delete(kind);
        },
        () => this.lists.delete(kind),
      );
    }
    return pending;
  }

  /** A backend's list changed, or a backend came or went: build `kinds` afresh when next asked. */
  invalidate(...kinds: ListKind[]): void {
    for (const kind of kinds) this.lists.delete(kind);
  }

  /**
   * Every page of one list from every ready backend that declared `capability`, in the registry's
   * order. A backend that fails is left out (and logged) so one bad backend does not hide the rest.
   */
  private async fromBackends<T>(
    capability: 'resources' | 'prompts',
    method: string,
    fetchPage: (
      client: Client,
      server: string,
      cursor: string | undefined,
      timeout: number,
    ) => Promise<{ items: T[]; nextCursor?: string | undefined }>,
  ): Promise<{ items: T[]; complete: boolean }> {
    let complete = true;
    const perServer = await Promise.all(
      this.registry.names().map(async (server) => {
        const backend = this.registry.get(server);
        if (!backend?.capabilities()?.[capability]) return [];
        try {
          return await backend.request(method, ({ client }) =>
            collectPages(
              (cursor) => fetchPage(client, server, cursor, backend.timeoutMs),
              `${server} ${method}`,
            ),
          );
        } catch (err) {
          // A backend declaring resources may still not implement templates.
          if (err instanceof ProtocolError && err.code === ProtocolErrorCode.MethodNotFound) return [];
          complete = false;
          this.logger.warn(`${method} of server '${server}' failed: ${errorMessage(err)}`);
          return [];
        }
      }),
    );
    return { items: perServer.flat(), complete };
  }

  /** A gateway URI, or a backend's own URI that exactly one backend lists (as in a tool's resource link). */
  async resolveUri(uri: string): Promise<{ server: string; uri: string }> {
    const parsed = parseGatewayUri(uri);
    if (parsed) return parsed;
    const matches = (await this.allResources())
      .map((r) => parseGatewayUri(r.uri))
      .filter((t): t is { server: string; uri: string } => t?.uri === uri);
    const servers = [...new Set(matches.map((m) => m.server))];
    if (servers.length === 1 && matches[0]) return matches[0];
    throw new ProtocolError(
      ProtocolErrorCode.InvalidParams,
      servers.length > 1
        ? `Resource ${uri} is served by several backends (${servers.join(', ')}); use mcpgw://<server>/${uri}`
        : `Unknown resource: ${uri}. Resources are served as mcpgw://<server>/<uri>; resources/list shows them.`,
    );
  }
}
