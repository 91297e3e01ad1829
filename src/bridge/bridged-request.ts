import { createHash } from 'node:crypto';
import {
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

/** The requests a server may answer with input_required (SEP-2322), besides tasks. */
export type BridgedMethod = 'tools/call' | 'prompts/get' | 'resources/read';

export interface BridgedRequestSpec<T> {
  method: BridgedMethod;
  /** Tool or prompt name (as the client sent it), or resource URI. */
  name: string;
  args: unknown;
  extra: ServerContext;
  /** This round's progress sink, when the client asked for progress. */
  progress?: Progress | undefined;
  /** Starts the request (first round only) with the parking requester, the call's signal and progress. */
  start(requester: ClientRequester, signal: AbortSignal, progress: Progress): Promise<T>;
}

/**
 * A 2026-07-28 client's tools/call, prompts/get or resources/read through the bridge: a first request
 * starts the backend request with a requester that parks what the backend asks (a 2025 backend's
 * elicitation/sampling/roots requests, or a 2026 backend's own input_required); a retry (requestState
 * + inputResponses) resumes the parked request.
 */
export function bridgedRequest<T>(
  bridge: InputBridge,
  { method, name, args, extra, progress, start }: BridgedRequestSpec<T>,
): Promise<T | InputRequiredResult> {
  const envelope = (extra.mcpReq.envelope ?? {}) as Record<string, unknown>;
  const capabilities = envelope[CLIENT_CAPABILITIES_META_KEY] as ClientCapabilities | undefined;
  const what = method === 'tools/call' ? 'tool call' : `${method} request`;
  return bridge.run(
    {
      method,
      name,
      args,
      caller: callerOf(extra, envelope),
      signal: extra.mcpReq.signal,
      requestState: extra.mcpReq.requestState(),
      inputResponses: extra.mcpReq.inputResponses,
      progress,
      capabilities,
      refuse: (request) => {
        const missing = missingCapability(request, capabilities);
        if (!missing) return undefined;
        return new ProtocolError(
          ProtocolErrorCode.InvalidRequest,
          `mcp-gateway: server '${request.server}' sent ${request.method}, but the client that made this ${what} did not declare the '${missing}' capability; nothing was forwarded`,
          { server: request.server, method: request.method, capability: missing },
        );
      },
    },
    start,
  );
}

/** A tools/call through the bridge (see {@link bridgedRequest}). */
export type BridgedToolCall<T> = Omit<BridgedRequestSpec<T>, 'method'>;

export function bridgedCall<T>(
  bridge: InputBridge,
  call: BridgedToolCall<T>,
): Promise<T | InputRequiredResult> {
  return bridgedRequest(bridge, { method: 'tools/call', ...call });
}

/** Who calls: the authenticated client (its token, hashed) and the client info it sends. */
function callerOf(extra: ServerContext, envelope: Record<string, unknown>): string {
  const auth = extra.http?.authInfo;
  const token = auth?.token ? createHash('sha256').update(auth.token).digest('base64url') : '';
  const info = envelope[CLIENT_INFO_META_KEY] as { name?: string; version?: string } | undefined;
  return JSON.stringify([auth?.clientId ?? '', token, info?.name ?? '', info?.version ?? '']);
}
