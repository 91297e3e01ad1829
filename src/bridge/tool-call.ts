import { createHash } from 'node:crypto';
import {
  type CallToolResult,
  CLIENT_CAPABILITIES_META_KEY,
  CLIENT_INFO_META_KEY,
  type ClientCapabilities,
  type InputRequiredResult,
  ProtocolError,
  ProtocolErrorCode,
  type ServerContext,
} from '@modelcontextprotocol/server';
import type { ClientRequester } from '../backends/index.js';
import { missingCapability } from './capabilities.js';
import type { InputBridge } from './input-bridge.js';

type Progress = (p: { progress: number; total?: number; message?: string }) => void;

export interface BridgedToolCall {
  name: string;
  args: Record<string, unknown>;
  extra: ServerContext;
  /** This round's progress sink, when the client asked for progress. */
  progress: Progress | undefined;
  /** Starts the call (first round only) with the parking requester, the call's signal and progress. */
  start(requester: ClientRequester, signal: AbortSignal, progress: Progress): Promise<CallToolResult>;
}

/**
 * A 2026-07-28 client's tools/call through the bridge: a first call starts the tool with a requester
 * that parks what its backend asks; a retry (requestState + inputResponses) resumes the parked call.
 */
export function bridgedCall(
  bridge: InputBridge,
  { name, args, extra, progress, start }: BridgedToolCall,
): Promise<CallToolResult | InputRequiredResult> {
  const envelope = (extra.mcpReq.envelope ?? {}) as Record<string, unknown>;
  const capabilities = envelope[CLIENT_CAPABILITIES_META_KEY] as ClientCapabilities | undefined;
  return bridge.run(
    {
      method: 'tools/call',
      name,
      args,
      caller: callerOf(extra, envelope),
      signal: extra.mcpReq.signal,
      requestState: extra.mcpReq.requestState(),
      inputResponses: extra.mcpReq.inputResponses,
      progress,
      refuse: (request) => {
        const missing = missingCapability(request, capabilities);
        if (!missing) return undefined;
        return new ProtocolError(
          ProtocolErrorCode.InvalidRequest,
          `mcp-gateway: server '${request.server}' sent ${request.method}, but the client that made this tool call did not declare the '${missing}' capability; nothing was forwarded`,
          { server: request.server, method: request.method, capability: missing },
        );
      },
    },
    start,
  );
}

/** Who calls: the authenticated client (its token, hashed) and the client info it sends. */
function callerOf(extra: ServerContext, envelope: Record<string, unknown>): string {
  const auth = extra.http?.authInfo;
  const token = auth?.token ? createHash('sha256').update(auth.token).digest('base64url') : '';
  const info = envelope[CLIENT_INFO_META_KEY] as { name?: string; version?: string } | undefined;
  return JSON.stringify([auth?.clientId ?? '', token, info?.name ?? '', info?.version ?? '']);
}
