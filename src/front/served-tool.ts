import type { CallToolResult, LoggingLevel, Tool } from '@modelcontextprotocol/server';
import type { Access } from '../auth/index.js';
import type { CallerCredential, ClientRequester } from '../backends/index.js';

export type FrontTransport = 'stdio' | 'http';

/**
 * The MCP era a client speaks: `legacy` = 2025-11-25 and before (initialize, sessions, server→client
 * requests); `modern` = 2026-07-28 (stateless, per-request metadata, `input_required`).
 */
export type ProtocolEra = 'legacy' | 'modern';

/** What a tool handler gets from the request that called it. */
export interface CallContext {
  /** Aborted when the client cancels the request or its session ends. */
  signal: AbortSignal;
  /** Set when the client asked for progress; forwards to that client only. */
  progress?: (progress: { progress: number; total?: number; message?: string }) => void;
  transport: FrontTransport;
  era: ProtocolEra;
  /** Forwards a backend's sampling, elicitation and roots requests to the client of this call. */
  requester?: ClientRequester;
  /** Opaque: the tracing span of this request (src/observability), handed on to backend calls and runs. */
  trace?: unknown;
  /** The log level a 2026-07-28 request asked for in its `_meta`, handed on to 2026 backends. */
  logLevel?: LoggingLevel;
  /** The caller's OAuth token, for backends marked `forward_caller_token` only (backends/forward-token.ts). */
  credential?: CallerCredential;
  /**
   * When the call's timeout began (Date.now()), set when the tool table waited for its backend to
   * start before the call: that wait counts against the call's timeout (CallOptions.startedAt).
   */
  startedAt?: number;
  /**
   * What this caller may use (`http.auth.rules`), set only when that is not everything: the meta tools
   * that name tools (find_tools, describe_tool, list_servers, list_pipelines) leave out what it may not
   * list. Unset = unrestricted, so a gateway without rules pays nothing per call.
   */
  access?: Access;
}

/** One tool as the front serves it: its definition and how to run it. */
export interface ServedTool {
  definition: Tool;
  /** The backend whose tool this is; unset for the gateway's own tools and pipelines. */
  backend?: string;
  /** That backend's own name for the tool (the served name may carry a prefix). */
  backendTool?: string;
  call(args: Record<string, unknown>, ctx: CallContext): Promise<CallToolResult>;
}

/** A tool result carrying both readable text and the same data as structuredContent. */
export function jsonResult(data: Record<string, unknown>, text?: string, isError = false): CallToolResult {
  return {
    content: [{ type: 'text', text: text ?? JSON.stringify(data, null, 2) }],
    structuredContent: data,
    ...(isError ? { isError: true } : {}),
  };
}

export function errorResult(message: string, data?: Record<string, unknown>): CallToolResult {
  return {
    content: [{ type: 'text', text: message }],
    ...(data ? { structuredContent: { error: message, ...data } } : {}),
    isError: true,
  };
}
