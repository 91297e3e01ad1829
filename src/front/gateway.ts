import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { BackendRegistry } from '../backends/index.js';
import type { GatewayConfig, ServerConfig } from '../config/index.js';
import type { Logger } from '../log.js';
import { type HttpFront, startHttpFront } from './http.js';
import { backendMetaTools } from './meta-tools.js';
import type { FrontTransport, ServedTool } from './served-tool.js';
import { createFrontServer } from './server.js';
import { type ToolSource, ToolTable } from './tool-table.js';

export interface GatewayOptions {
  config: GatewayConfig;
  logger: Logger;
  version: string;
  /** Servers from --auto-register, started beside the config's. */
  extraServers?: ServerConfig[];
  /** Further gateway tools (pipelines) and the sources of tools that come and go. */
  extraMetaTools?: (gateway: Gateway) => ServedTool[];
  extraSources?: ToolSource[];
}

/**
 * The running gateway: the backend registry, the tool table every session shares, and the fronts
 * that serve it. Owns shutdown, so nothing outlives it.
 */
export class Gateway {
  readonly registry: BackendRegistry;
  readonly table: ToolTable;
  private currentConfig: GatewayConfig;
  private readonly closers: (() => Promise<void>)[] = [];

  constructor(private readonly options: GatewayOptions) {
    this.currentConfig = options.config;
    this.registry = new BackendRegistry({
      defaultTimeoutMs: options.config.defaultTimeoutMs,
      logger: options.logger.child('backends'),
    });
    const config = () => this.currentConfig;
    this.table = new ToolTable({
      registry: this.registry,
      groups: () => this.currentConfig.tools,
      metaTools: [
        ...backendMetaTools({ registry: this.registry, config }),
        ...(options.extraMetaTools?.(this) ?? []),
      ],
      extraSources: options.extraSources,
    });
  }

  get config(): GatewayConfig {
    return this.currentConfig;
  }

  /** Starts connecting every enabled backend in parallel; does not wait for any of them. */
  startBackends(): void {
    const servers = [...this.currentConfig.servers, ...(this.options.extraServers ?? [])];
    for (const server of servers) {
      if (!server.enabled) continue;
      this.registry.add(server);
    }
  }

  async serveStdio(): Promise<void> {
    const server = this.createSession('stdio');
    const transport = new StdioServerTransport();
    await server.connect(transport);
    this.closers.push(() => server.close());
  }

  async serveHttp(overrides: { host?: string; port?: number } = {}): Promise<HttpFront> {
    const settings = { ...this.currentConfig.http, ...definedOnly(overrides) };
    const front = await startHttpFront({
      settings,
      createSession: () => this.createSession('http'),
      logger: this.options.logger.child('http'),
    });
    this.closers.push(() => front.close());
    return front;
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.closers.splice(0).map((close) => close()));
    this.table.close();
    await this.registry.close();
  }

  private createSession(transport: FrontTransport) {
    return createFrontServer({
      table: this.table,
      transport,
      version: this.options.version,
      logger: this.options.logger.child(transport),
    });
  }
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
