import type { AuthSettings } from './auth-settings.js';
import type { BridgeConfig } from './bridge.js';
import type { ClusterSettings, RateLimitSettings } from './cluster.js';
import type { IpRange } from './ip-range.js';
import type { TokenExchangeSettings } from './token-exchange.js';

export type { TokenExchangeSettings };

/** Where a backend definition came from; config reloads only touch their own. */
export type ServerSource =
  | { kind: 'config'; file: string }
  | { kind: 'auto-register'; file: string }
  | { kind: 'runtime' };

/**
 * `retry_on_crash`: whether a call in flight when the backend's process died is retried once on the
 * restarted process. A boolean for every tool of the server, or per tool name (a key may use `*`).
 * Tools it does not name follow their annotations (readOnlyHint / idempotentHint).
 */
export type RetryOnCrash = boolean | Readonly<Record<string, boolean>>;

/**
 * Which MCP era the gateway speaks to a backend: `auto` asks `server/discover` first and falls back to
 * the 2025 handshake; `modern` requires 2026-07-28; `legacy` sends `initialize` only.
 */
export type BackendProtocol = 'auto' | 'modern' | 'legacy';

interface ServerCommon {
  name: string;
  /** Absent means `auto`. */
  protocol?: BackendProtocol;
  description?: string;
  /** Per-call timeout for this backend; falls back to the gateway default. */
  timeoutMs?: number;
  /** Unset: the tools' annotations decide. */
  retryOnCrash?: RetryOnCrash;
  enabled: boolean;
  source: ServerSource;
  /**
   * What the front puts before this backend's tool and prompt names. Unset: `<name>__`. `""` serves
   * them, and its resource URIs, unchanged (transparent serving); see front/served-names.ts.
   */
  prefix?: string;
  /** Which of its tools, resources and prompts clients see, and how its tools are named (src/surface). */
  surface?: ServerSurface;
}

// --- The tool surface (src/surface): filters, overrides, name length, pinned definitions ---

/** Glob patterns; `exclude` wins over `include`; no `include` means everything. */
export interface GlobLists {
  include?: string[];
  exclude?: string[];
}

/** What clients are told about one backend tool instead of what the backend says. */
export interface ToolOverride {
  /** Served as `<prefix><name>`; the backend still receives its own name. */
  name?: string;
  title?: string;
  description?: string;
}

/** A server's `tools`, `resources`, `prompts` and `pin` settings. Hot-reloaded without a restart. */
export interface ServerSurface {
  tools?: GlobLists & { overrides?: Record<string, ToolOverride> };
  /** Globs on the backend's own resource URIs (and URI templates). */
  resources?: GlobLists;
  prompts?: GlobLists;
  /** A tool whose definition changed since it was first seen is withheld until approved. */
  pin?: boolean;
}

/** The top-level `surface:` block. */
export interface SurfaceSettings {
  /** Longest tool name served; longer `<prefix><tool>` names are shortened (src/surface/fit-names.ts). */
  maxNameLength: number;
  /** call_backend may call tools that the server's filters hide (or pins withhold). Default false. */
  callBackendBypassesFilters: boolean;
  /** Absolute path of the file holding the pinned definition hashes and approvals. */
  pinsFile: string;
}

export const DEFAULT_MAX_NAME_LENGTH = 64;
/** Head + `-` + 8 hex characters must fit, with a few characters of head left to read. */
export const MIN_MAX_NAME_LENGTH = 16;
export const MAX_MAX_NAME_LENGTH = 128;
export const DEFAULT_PINS_FILE = '.data/tool-pins.json';

export interface StdioServerConfig extends ServerCommon {
  transport: 'stdio';
  command: string;
  args: string[];
  env: Record<string, string>;
  /** Absolute; relative cwd in a file resolves against that file's folder. */
  cwd?: string;
}

/**
 * The HTTP transport a `url` backend is spoken to over. Unset: Streamable HTTP, falling back to the
 * deprecated HTTP+SSE transport (2024-11-05) on the spec's fallback signal (see
 * backends/http-transport-choice.ts); `streamable-http` never falls back; `sse` uses only HTTP+SSE.
 */
export type HttpTransportSetting = 'streamable-http' | 'sse';

export interface HttpServerConfig extends ServerCommon {
  transport: 'http';
  url: string;
  headers: Record<string, string>;
  /** `transport:` in YAML (or `type: sse`); absent means Streamable HTTP with fallback to SSE. */
  httpTransport?: HttpTransportSetting;
  /** How the gateway gets access tokens for a backend that wants them (client credentials or login). */
  oauth?: BackendOAuth;
  /** `forward_caller_token`: tool calls carry the caller's own token, when its `aud` has `audience`. */
  forwardCallerToken?: { audience: string };
  /** `token_exchange`: tool calls carry the caller's token exchanged for the backend's (RFC 8693). */
  tokenExchange?: TokenExchangeSettings;
  /** `headers_from_files`: header name → absolute path of the file holding its value, read at connect. */
  headersFromFiles?: Record<string, string>;
}

/** `servers.<name>.oauth`: how the gateway gets access tokens for one HTTP backend. */
export type BackendOAuth = ClientCredentialsOAuth | AuthorizationCodeOAuth;

/** The client_credentials grant at the backend's authorization server: no person involved. */
export interface ClientCredentialsOAuth {
  grant: 'client_credentials';
  clientId: string;
  clientSecret: string;
  scope?: string;
  /** The authorization server the credentials belong to; they go to no other. */
  issuer?: string;
}

/**
 * Authorization code + PKCE: an admin logs in once (`mcp-gateway login <server>`); the tokens are kept
 * encrypted in the token store and refreshed (backends/login-provider.ts).
 */
export interface AuthorizationCodeOAuth {
  grant: 'authorization_code';
  /** Pre-registered client; absent: dynamic client registration (RFC 7591) at login. */
  clientId?: string;
  clientSecret?: string;
  scope?: string;
  issuer?: string;
  /** Loopback port of the login's redirect URI, http://127.0.0.1:<port>/callback. */
  callbackPort: number;
  store: TokenStoreSettings;
}

/** `token_store:`, resolved: where login tokens are kept and where their key comes from. */
export interface TokenStoreSettings {
  /** Absolute path of the encrypted file. */
  path: string;
  /** Absolute path of the key file, used when the key variable is unset. */
  keyFile: string;
  /** The environment variable that holds the key when set (MCP_GATEWAY_TOKEN_KEY). */
  keyEnv: string;
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
  /** `http.tokens`: more static tokens, each opening only the profiles it lists (profiles.ts). */
  tokens?: ProfileToken[];
  /** Extra Host header values accepted besides localhost/127.0.0.1/[::1] and the bind host. */
  allowedHosts: string[];
  /** What `register_server` may start when called over HTTP: command, argument patterns, env, cwd. */
  allowCommands: CommandAllowEntry[];
  /** Hosts and ranges a `url` backend registered over HTTP may reach beyond the public internet. */
  allowUrlHosts: UrlHostAllowEntry[];
  /** OAuth 2.1 access tokens from an authorization server (`http.auth`), instead of or besides `token`. */
  auth?: AuthSettings;
  /** `http.console: true` (or a mapping): the web console at /console (src/console); off by default. */
  console?: boolean;
  /** `http.console: {client_id, scopes}`: the console signs in through `http.auth`'s issuer. */
  consoleOAuth?: ConsoleOAuthSettings;
}

/** The console's public OAuth client (authorization code + PKCE, no secret). */
export interface ConsoleOAuthSettings {
  clientId: string;
  /** Scopes to ask for; default: the protected resource's `scopes_supported`. */
  scopes?: string[];
}

/**
 * One `http.allow_commands` entry. A bare string in the file is `{command}` with no arguments, env
 * or cwd: allowing a command with any arguments would allow `node -e <anything>`.
 */
export interface CommandAllowEntry {
  /** A bare name (matched as written, never looked up on PATH) or a normalized absolute path. */
  command: string;
  /**
   * One glob per argument position (`*` and `?` stop at `/`, `**` crosses it); a last `...` allows
   * any further arguments. Empty: no arguments.
   */
  args: string[];
  /** Environment variable names (globs) the caller may set; others are refused. */
  env: string[];
  /** Absolute working directories the caller may choose; others are refused. */
  cwd: string[];
}

/** An `http.allow_url_hosts` entry: a host name (`*.` for its subdomains) or an address range. */
export type UrlHostAllowEntry =
  | { kind: 'name'; text: string; name: string; port?: number }
  | { kind: 'range'; text: string; range: IpRange; port?: number };

/** Bounds on what callers and backends can make the gateway hold. */
export interface Limits {
  /**
   * Largest JSON-RPC message, in bytes: one line over stdio (front and backends), one request body over
   * HTTP. A larger one is refused with an error and skipped; the session or connection keeps working.
   */
  maxMessageBytes: number;
  /** Backends added by register_server that may exist at once. */
  maxRuntimeBackends: number;
}

export const DEFAULT_MAX_RUNTIME_BACKENDS = 32;

export interface GatewayConfig {
  /** Absolute path of the file this came from, if any. */
  file?: string;
  /** Folder relative paths resolve against. */
  baseDir: string;
  defaultTimeoutMs: number;
  /**
   * How long tools/list waits, counted from start, for configured backends still connecting, so that
   * a client's first list includes those ready by then. 0 answers at once.
   */
  startupGraceMs: number;
  /**
   * The whole of stopping, from the first signal to exit: requests in flight drain, then the backends
   * stop; whatever is left at the deadline is cut off. `shutdown_timeout` in YAML.
   */
  shutdownTimeoutMs: number;
  http: HttpSettings;
  limits: Limits;
  tools: ToolGroups;
  /** Absolute path of the pipelines folder. */
  pipelinesDir: string;
  servers: ServerConfig[];
  /** `metrics: true`: /metrics on the HTTP front. */
  metrics: boolean;
  audit: AuditSettings;
  surface: SurfaceSettings;
  /** `bridge:` when the file has it; defaults otherwise (src/bridge). */
  bridge?: BridgeConfig;
  /** Replicas sharing state in Redis (`cluster:`); see cluster.ts. */
  cluster: ClusterSettings;
  /** Call limits (`rate_limits:`); see cluster.ts. */
  rateLimits: RateLimitSettings;
  /** `profiles:` in YAML, in file order; none when absent (the default view only). */
  profiles?: ProfileConfig[];
}

/** A named view of the gateway (issue 11); see front/profile-view.ts for what each list means. */
export interface ProfileConfig {
  name: string;
  servers?: string[];
  tools?: string[];
  exclude?: string[];
  pipelines?: string[];
  metaTools?: string[];
  mode: 'full' | 'search';
}

/** An `http.tokens` entry. */
export interface ProfileToken {
  token: string;
  profiles: string[];
}

/** The audit log (see src/observability/audit.ts). */
export interface AuditSettings {
  /** Unset: on over HTTP, off over stdio. */
  enabled?: boolean;
  /** Absolute; unset: stderr. */
  file?: string;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_STARTUP_GRACE_MS = 2_000;
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;
export const DEFAULT_HTTP_PORT = 8003;
/** 4 MiB: the HTTP front's body limit before `limits` existed; far above what MCP messages need. */
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
/** The name of the setting, for error messages that tell the user what to change. */
export const MAX_MESSAGE_SIZE_KEY = 'limits.max_message_size';

/**
 * One problem in a config file. `line` and `column` are 1-based; both are 0 for a problem with the
 * whole file (it cannot be read, it is too large). `path` is where in the document, like
 * `servers.weather.timeout` (empty for the top level). `message` reads on its own and starts with the
 * path it is about; it never contains a value that came from an environment variable.
 */
export interface ConfigIssue {
  file: string;
  line: number;
  column: number;
  path: string;
  message: string;
}

/** Loading reports every problem at once instead of throwing at the first. */
export type ConfigResult =
  | { ok: true; config: GatewayConfig; warnings: ConfigIssue[] }
  | { ok: false; errors: ConfigIssue[]; warnings: ConfigIssue[] };

/** The servers of a Claude Desktop style file (`--auto-register FILE`). */
export type ServersResult =
  | { ok: true; servers: ServerConfig[]; warnings: ConfigIssue[] }
  | { ok: false; errors: ConfigIssue[]; warnings: ConfigIssue[] };

/** A server as `register_server` receives it; checked at runtime, since it arrives as JSON. */
export interface ServerInput {
  name: string;
  type?: 'stdio' | 'http' | 'streamable-http' | 'sse';
  /** For a `url` server: `streamable-http` (no fallback) or `sse`; absent: try one, fall back to the other. */
  transport?: HttpTransportSetting;
  command?: string;
  /** A list, or one string split like a shell would. */
  args?: string | string[];
  env?: Record<string, string>;
  cwd?: string;
  url?: string;
  headers?: Record<string, string>;
  description?: string;
  /** `"10s"`, `"500ms"`, or milliseconds. */
  timeout?: string | number;
  enabled?: boolean;
  /** Default `<name>__`; `""` serves the backend's names and URIs unchanged. */
  prefix?: string;
  /** As in gateway.yaml (src/surface). */
  tools?: unknown;
  resources?: unknown;
  prompts?: unknown;
  pin?: boolean;
}

/** Largest config file read, in bytes. */
export const MAX_CONFIG_BYTES = 1024 * 1024;
