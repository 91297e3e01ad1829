import type {
  CallToolResult,
  ClientCapabilities,
  LoggingLevel,
  LoggingMessageNotification,
  Tool,
} from '@modelcontextprotocol/client';
import type { ServerConfig, ServerSource } from '../config/types.js';
import type { HttpTransportUsed } from './http-transport-choice.js';

/** `needs login`: an HTTP backend waits for an admin's `mcp-gateway login <server>` (OAuth). */
export type BackendStatus = 'connecting' | 'ready' | 'failed' | 'needs login' | 'closed';

/** What `list_servers` shows for one backend. Never contains env values or header values. */
export interface BackendInfo {
  name: string;
  transport: 'stdio' | 'http';
  status: BackendStatus;
  description?: string;
  /** `command args...` for stdio, the URL for http (credentials stripped). */
  target: string;
  toolCount: number;
  tools: string[];
  lastError?: string;
  /** Last lines the process wrote to stderr (stdio only). */
  stderrTail: string[];
  source: ServerSource;
  pid?: number;
  restarts: number;
  timeoutMs: number;
  /** The `protocol` setting: auto (default), modern or legacy. */
  protocol: 'auto' | 'modern' | 'legacy';
  /** The era and revision the backend speaks, once a connection has been made. */
  era?: 'legacy' | 'modern';
  protocolVersion?: string;
  /**
   * For a `url` backend, the HTTP transport its connection speaks: `streamable-http`, `sse`
   * (`transport: sse`), or `sse (fallback)` when the default fell back to it. Set once connected.
   */
  httpTransport?: HttpTransportUsed;
  /**
   * A config reload changed this server's settings and the instance with the new ones is not ready
   * yet: this one keeps serving meanwhile. `error` says why the new one failed to start; it keeps
   * retrying with backoff and takes over once ready.
   */
  pendingChange?: PendingChange;
}

export interface PendingChange {
  /** The replacement's own status: `connecting` on its first attempt, then `failed` while retrying. */
  status: BackendStatus;
  /** What the replacement runs (`command args...` or its URL). */
  target: string;
  /** Why its last attempt failed. */
  error?: string;
  /** When the reload that asked for it happened (ISO 8601). */
  since: string;
  restarts: number;
}

export interface CallOptions {
  /** Aborting it sends MCP cancellation to the backend. */
  signal?: AbortSignal;
  /** Overrides the backend's and the gateway's default. */
  timeoutMs?: number;
  /**
   * When the call's timeout began (Date.now()), if before the call reached the backend: the front
   * waiting for a backend still starting to list the tool counts against the same timeout.
   */
  startedAt?: number;
  /** Called with each progress notification the backend sends for this call. */
  onProgress?: (progress: { progress: number; total?: number; message?: string }) => void;
  /**
   * Where requests the backend sends to the client while this call runs (sampling, elicitation,
   * roots) go: the session that made the call. Without it they are refused.
   */
  requester?: ClientRequester;
  /**
   * The caller's own access token and its audience. Used only by a backend marked
   * `forward_caller_token`, which receives it after its audience is checked; never sent otherwise.
   */
  credential?: CallerCredential;
  /** The log level the caller asked for on this request (a 2026-07-28 client's envelope). */
  logLevel?: LoggingLevel;
  /**
   * Send the call even though the backend did not list the tool (a backend served transparently,
   * `prefix: ""`, may have tools it does not list): the backend answers for an unknown name itself.
   */
  unlisted?: boolean;
  /**
   * Opaque: the tracing span this call belongs to (src/observability sets it and reads it; everything
   * between hands it on untouched).
   */
  trace?: unknown;
}

/** A caller's OAuth access token, as a backend marked to receive it may be given it. */
export interface CallerCredential {
  token: string;
  /** The token's `aud`. */
  audience: string[];
}

/** A request from a backend to the client, as the gateway forwards it. */
export interface BackendClientRequest {
  server: string;
  method: 'sampling/createMessage' | 'elicitation/create' | 'roots/list';
  params?: Record<string, unknown>;
  /**
   * The key a 2026-07-28 backend gave this ask in its `inputRequests`: kept when the ask is handed on
   * to a 2026-07-28 client as the gateway's own input_required, so the client sees the backend's key.
   */
  inputKey?: string;
}

/**
 * Forwards a backend's request to one client session, as part of one of that session's tool calls.
 * `request` resolves with that client's answer; it rejects with an ProtocolError when the client cannot
 * take it (capability not declared) or answers with an error.
 */
export interface ClientRequester {
  /**
   * The client session: the same object for every call of one session, and never shared between
   * sessions. Over stdio a backend's request says nothing about the call it belongs to; it is forwarded
   * only when every call running on that backend is of one session (compared by this).
   */
  readonly session: object;
  /**
   * How many rounds of `input_required` a 2026-07-28 backend may take for one call before the gateway
   * gives up (bridge.max_rounds); DEFAULT_MAX_INPUT_ROUNDS without it.
   */
  readonly maxInputRounds?: number;
  /**
   * What the client declared it can be asked (its session's capabilities, or a 2026-07-28 request's
   * envelope): sent on to 2026-07-28 backends in the request's `_meta`, narrowed to what the gateway
   * forwards, so a backend asks only what the client can answer (and refuses with -32021 otherwise).
   */
  readonly capabilities?: ClientCapabilities;
  /**
   * Answers a 2026-07-28 client sent on its first request, without a requestState (SEP-2322 lets a
   * client answer before being asked): passed on with the first request to a 2026-07-28 backend.
   */
  readonly inputResponses?: Record<string, unknown>;
  request(request: BackendClientRequest, options: { signal: AbortSignal }): Promise<Record<string, unknown>>;
}

/** Notifications from a backend that the front forwards to clients. */
export type BackendNotification =
  | { kind: 'resourcesChanged' }
  | { kind: 'promptsChanged' }
  | { kind: 'resourceUpdated'; uri: string }
  | { kind: 'log'; params: LoggingMessageNotification['params'] };

/**
 * The one seam the front and the pipeline engine call backends through, so each can be tested
 * with a fake and the registry without them.
 */
export interface ToolInvoker {
  callTool(
    server: string,
    tool: string,
    args: Record<string, unknown>,
    options?: CallOptions,
  ): Promise<CallToolResult>;
}

export interface BackendToolEntry {
  server: string;
  tool: Tool;
}

export interface RegistryEvents {
  /** The set of servers or of their tools changed; the front sends tools/list_changed. */
  toolsChanged: [];
  /** A backend's status changed. */
  status: [name: string, status: BackendStatus];
  /** A notification from the backend serving `name` (resources, prompts, logging). */
  notification: [name: string, notification: BackendNotification];
}

export type { ServerConfig };
