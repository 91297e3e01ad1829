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
import type { AccessTarget } from '../auth/index.js';
import type { BackendRegistry } from '../backends/index.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import type { NameClashes } from './name-clashes.js';
import { collectPages, paginate } from './paging.js';
import { parseGatewayUri } from './resource-uri.js';
import { type Candidate, type ClashKind, pickServed, type ServedNames } from './served-names.js';

export type ListKind = 'resources' | 'templates' | 'prompts';

/** A backend and its own name (or URI) for something served under another. */
export interface Origin {
  server: string;
  /** The backend's own name or URI. */
  own: string;
}

/** One built list: what is served, and where each served name or URI comes from. */
interface Listed<T> {
  items: T[];
  origins: Map<string, Origin>;
  /** False when a backend's list failed and was left out: the list is not the whole. */
  complete: boolean;
}

/** Page results built from a list that left a failed backend out (see `isPartialList`). */
const partialResults = new WeakSet<object>();

/**
 * Whether a list result lacks a backend whose list failed: a client should not cache it (the gateway
 * does not either; the next list asks that backend again).
 */
export function isPartialList(result: object): boolean {
  return partialResults.has(result);
}

function page<R extends object>(listed: Listed<unknown>, result: R): R {
  if (!listed.complete) partialResults.add(result);
  return result;
}

/** An item of one backend's list, with its served name or URI and the backend's own. */
type Sourced<T> = Candidate<T> & { own: string };

const CLASH_KIND: Record<ListKind, ClashKind> = {
  resources: 'resource',
  templates: 'resource template',
  prompts: 'prompt',
};

/**
 * The resources, resource templates and prompts of every ready backend, as one list each with served
 * names and URIs (served-names.ts), served in pages. Each list is built once and cached until a
 * backend says it changed or a backend comes or goes (`invalidate`). Where two backends would serve
 * one name or URI, the first by precedence is served and the clash reported (`clashes`).
 */
/** Whether a backend's resource (or template) URI or prompt name, its own, is served. */
export type ListVisibility = (kind: 'resource' | 'prompt', server: string, own: string) => boolean;

/** Whether one caller may see a listed item, by its backend, served URI or name, and the backend's own. */
export type ShownTo = (server: string, served: string, own: string) => boolean;

/** A list's items that `shown` lets through (all without it). */
function shownOf<T>(listed: Listed<T>, shown: ShownTo | undefined, key: (item: T) => string): T[] {
  if (!shown) return listed.items;
  return listed.items.filter((item) => {
    const served = key(item);
    const origin = listed.origins.get(served);
    return origin !== undefined && shown(origin.server, served, origin.own);
  });
}

export class AggregatedLists {
  private readonly lists = new Map<ListKind, Promise<Listed<unknown>>>();

  constructor(
    private readonly registry: BackendRegistry,
    private readonly logger: Logger,
    private readonly pageSize: number,
    /** How each backend's names and URIs are served; the routed requests map them back with it. */
    readonly names: ServedNames,
    private readonly clashes?: NameClashes,
    /** The servers' resource and prompt filters (src/surface); unset: everything is served. */
    private readonly visible: ListVisibility = () => true,
  ) {}

  async listResources(
    cursor: string | undefined,
    shown?: ShownTo,
  ): Promise<{ resources: Resource[]; nextCursor?: string }> {
    const listed = await this.resources();
    const { items, nextCursor } = paginate(
      shownOf(listed, shown, (r) => r.uri),
      cursor,
      this.pageSize,
    );
    return page(listed, { resources: items, ...(nextCursor ? { nextCursor } : {}) });
  }

  /** Every backend's resources, with served URIs. */
  async allResources(): Promise<Resource[]> {
    return (await this.resources()).items;
  }

  private resources(): Promise<Listed<Resource>> {
    return this.cached('resources', () =>
      this.fromBackends('resources', 'resources/list', async (client, server, cursor, timeout) => {
        const page = await client.request(
          { method: 'resources/list', params: cursor === undefined ? {} : { cursor } },
          ListResourcesResultSchema,
          { timeout },
        );
        const items = page.resources
          .filter((r) => this.visible('resource', server, r.uri))
          .map((r) => ({
            server,
            served: this.names.uri(server, r.uri),
            own: r.uri,
            item: { ...r, uri: this.names.uri(server, r.uri) },
          }));
        return { items, nextCursor: page.nextCursor };
      }),
    );
  }

  private templates(): Promise<Listed<ResourceTemplate>> {
    return this.cached('templates', () =>
      this.fromBackends('resources', 'resources/templates/list', async (client, server, cursor, timeout) => {
        const page = await client.request(
          { method: 'resources/templates/list', params: cursor === undefined ? {} : { cursor } },
          ListResourceTemplatesResultSchema,
          { timeout },
        );
        const items = page.resourceTemplates
          .filter((t) => this.visible('resource', server, t.uriTemplate))
          .map((t) => ({
            server,
            served: this.names.uri(server, t.uriTemplate),
            own: t.uriTemplate,
            item: { ...t, uriTemplate: this.names.uri(server, t.uriTemplate) },
          }));
        return { items, nextCursor: page.nextCursor };
      }),
    );
  }

  private prompts(): Promise<Listed<Prompt>> {
    return this.cached('prompts', () =>
      this.fromBackends('prompts', 'prompts/list', async (client, server, cursor, timeout) => {
        const page = await client.request(
          { method: 'prompts/list', params: cursor === undefined ? {} : { cursor } },
          ListPromptsResultSchema,
          { timeout },
        );
        const items = page.prompts
          .filter((p) => this.visible('prompt', server, p.name))
          .map((p) => ({
            server,
            served: this.names.name(server, p.name),
            own: p.name,
            item: { ...p, name: this.names.name(server, p.name) },
          }));
        return { items, nextCursor: page.nextCursor };
      }),
    );
  }

  async listTemplates(
    cursor: string | undefined,
    shown?: ShownTo,
  ): Promise<{ resourceTemplates: ResourceTemplate[]; nextCursor?: string }> {
    const listed = await this.templates();
    const { items, nextCursor } = paginate(
      shownOf(listed, shown, (t) => t.uriTemplate),
      cursor,
      this.pageSize,
    );
    return page(listed, { resourceTemplates: items, ...(nextCursor ? { nextCursor } : {}) });
  }

  async listPrompts(
    cursor: string | undefined,
    shown?: ShownTo,
  ): Promise<{ prompts: Prompt[]; nextCursor?: string }> {
    const listed = await this.prompts();
    const { items, nextCursor } = paginate(
      shownOf(listed, shown, (p) => p.name),
      cursor,
      this.pageSize,
    );
    return page(listed, { prompts: items, ...(nextCursor ? { nextCursor } : {}) });
  }

  /** How many resources and prompts each backend has served, by server (the web console's backends page). */
  async countsByServer(): Promise<{ resources: Map<string, number>; prompts: Map<string, number> }> {
    const count = (listed: Listed<unknown>) => {
      const counts = new Map<string, number>();
      for (const { server } of listed.origins.values()) counts.set(server, (counts.get(server) ?? 0) + 1);
      return counts;
    };
    const [resources, prompts] = await Promise.all([this.resources(), this.prompts()]);
    return { resources: count(resources), prompts: count(prompts) };
  }

  /** Builds every list not cached, so that their clashes are known (list_servers, the log). */
  async warm(): Promise<void> {
    await Promise.allSettled([this.resources(), this.templates(), this.prompts()]);
  }

  /**
   * The list of `kind` from the cache, built once per change; a build that missed a backend is not
   * kept. Names two backends share are served once (served-names.ts `pickServed`).
   */
  private async cached<T>(
    kind: ListKind,
    build: () => Promise<{ items: Sourced<T>[]; complete: boolean }>,
  ): Promise<Listed<T>> {
    let pending = this.lists.get(kind) as Promise<Listed<T>> | undefined;
    if (!pending) {
      const building = build();
      pending = building.then((r) => {
        const { served, clashes } = pickServed(CLASH_KIND[kind], r.items, this.names.precedence());
        this.clashes?.set(CLASH_KIND[kind], clashes);
        const origins = new Map(served.map((c) => [c.served, { server: c.server, own: c.own }]));
        return { items: served.map((c) => c.item), origins, complete: r.complete };
      });
      this.lists.set(kind, pending as Promise<Listed<unknown>>);
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
   * Every page of one list from every ready backend that declared `capability`, in precedence
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
      this.names.precedence().map(async (server) => {
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

  /**
   * The backend and its own URI for a served resource URI: `mcpgw://<server>/<uri>`; a URI served as
   * listed (a transparent backend's); a URI of a transparent backend's template (when exactly one
   * backend is transparent); or a backend's own URI that exactly one backend lists (as in a tool's
   * resource link).
   */
  async resolveUri(uri: string): Promise<{ server: string; uri: string }> {
    const target = await this.locateUri(uri);
    if (!this.visible('resource', target.server, target.uri)) {
      throw new ProtocolError(
        ProtocolErrorCode.InvalidParams,
        `Unknown resource: ${uri}. Server '${target.server}' does not serve it (its resources.include/exclude in the gateway config).`,
      );
    }
    return target;
  }

  private async locateUri(uri: string): Promise<{ server: string; uri: string }> {
    const parsed = parseGatewayUri(uri);
    if (parsed && this.registry.has(parsed.server)) return parsed;
    const listed = await this.resources();
    const origin = listed.origins.get(uri);
    if (origin) return { server: origin.server, uri: origin.own };
    // A gateway URI of a server that does not exist: routing says so, naming the servers there are.
    if (parsed) return parsed;
    const transparent = this.transparentWith('resources');
    if (transparent.length === 1 && transparent[0]) return { server: transparent[0], uri };
    const matches = [...listed.origins.values()].filter((o) => o.own === uri);
    const servers = [...new Set(matches.map((m) => m.server))];
    if (servers.length === 1 && matches[0]) return { server: matches[0].server, uri };
    throw new ProtocolError(
      ProtocolErrorCode.InvalidParams,
      servers.length > 1
        ? `Resource ${uri} is served by several backends (${servers.join(', ')}); use mcpgw://<server>/${uri}`
        : `Unknown resource: ${uri}. Resources are served as mcpgw://<server>/<uri> (or unchanged for a server with prefix ""); resources/list shows them.`,
    );
  }

  /**
   * What reading (or subscribing to) a served resource URI, completing a served template, or getting
   * a served prompt reaches, in the terms of `http.auth.rules`; undefined when it names nothing (the
   * request itself then fails as it would anyway).
   */
  async accessTarget(
    kind: 'resource' | 'template' | 'prompt',
    key: string,
  ): Promise<AccessTarget | undefined> {
    if (kind === 'prompt') {
      const target = await this.resolvePrompt(key);
      return target && { kind: 'prompt', server: target.server, name: key, own: target.name };
    }
    const target =
      kind === 'template'
        ? await this.resolveTemplate(key)
        : await this.resolveUri(key).catch(() => undefined);
    return (
      target && {
        kind: 'resource',
        server: target.server,
        uri: this.names.uri(target.server, target.uri),
        own: target.uri,
      }
    );
  }

  /** The backend and its own template for a served resource template (completion/complete). */
  async resolveTemplate(uriTemplate: string): Promise<{ server: string; uri: string } | undefined> {
    const parsed = parseGatewayUri(uriTemplate);
    if (parsed && this.registry.has(parsed.server)) return parsed;
    const origin = (await this.templates()).origins.get(uriTemplate);
    if (origin) return { server: origin.server, uri: origin.own };
    if (parsed) return parsed;
    const transparent = this.transparentWith('resources');
    return transparent.length === 1 && transparent[0]
      ? { server: transparent[0], uri: uriTemplate }
      : undefined;
  }

  /** The backend and its own name for a served prompt name. */
  async resolvePrompt(name: string): Promise<{ server: string; name: string } | undefined> {
    const target = await this.locatePrompt(name);
    return target && this.visible('prompt', target.server, target.name) ? target : undefined;
  }

  private async locatePrompt(name: string): Promise<{ server: string; name: string } | undefined> {
    const origin = (await this.prompts()).origins.get(name);
    if (origin) return { server: origin.server, name: origin.own };
    // Not listed (the backend is still connecting, or its list failed): its prefix says which it is.
    const owner = this.names.owner(name);
    return owner && this.names.prefix(owner.server) !== '' ? owner : undefined;
  }

  /** Transparent backends that declared `capability` (or have not connected yet, so might). */
  private transparentWith(capability: 'resources' | 'prompts'): string[] {
    return this.names.transparent().filter((server) => {
      const caps = this.registry.get(server)?.capabilities();
      return caps === undefined || caps[capability] !== undefined;
    });
  }
}
