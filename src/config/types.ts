/** Where a backend definition came from; config reloads only touch their own. */
export type ServerSource =
  | { kind: 'config'; file: string }
  | { kind: 'auto-register'; file: string }
  | { kind: 'runtime' };

interface ServerCommon {
  name: string;
  description?: string;
  /** Per-call timeout for this backend; falls back to the gateway default. */
  timeoutMs?: number;
  enabled: boolean;
  source: ServerSource;
}

export interface StdioServerConfig extends ServerCommon {
  transport: 'stdio';
  command: string;
  args: string[];
  env: Record<string, string>;
  /** Absolute; relative cwd in a file resolves against that file's folder. */
  cwd?: string;
}

export interface HttpServerConfig extends ServerCommon {
  transport: 'http';
  url: string;
  headers: Record<string, string>;
}

export type ServerConfig = StdioServerConfig | HttpServerConfig;

/** Which groups of tools the front serves. */
export interface ToolGroups {
  /** register_server, remove_server, list_servers, call_backend, route_pipeline, list_pipelines */
  meta: boolean;
  /** every backend tool as `<server>__<tool>` */
  backends: boolean;
  /** every valid pipeline as `pipeline__<name>` */
  pipelines: boolean;
}

export interface HttpSettings {
  host: string;
  port: number;
  /** Bearer token; from config or MCP_GATEWAY_TOKEN. Required for a non-loopback bind. */
  token?: string;
  /** Extra Host header values accepted besides localhost/127.0.0.1/[::1] and the bind host. */
  allowedHosts: string[];
  /** Commands `register_server` may start when called over HTTP (basename or absolute path). */
  allowCommands: string[];
}

export interface GatewayConfig {
  /** Absolute path of the file this came from, if any. */
  file?: string;
  /** Folder relative paths resolve against. */
  baseDir: string;
  defaultTimeoutMs: number;
  http: HttpSettings;
  tools: ToolGroups;
  /** Absolute path of the pipelines folder. */
  pipelinesDir: string;
  servers: ServerConfig[];
}

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_HTTP_PORT = 8003;
