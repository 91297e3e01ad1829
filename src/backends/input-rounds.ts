import {
  CLIENT_CAPABILITIES_META_KEY,
  type ClientCapabilities,
  type InputRequiredResult,
  isInputRequiredResult,
  ProtocolError,
  ProtocolErrorCode,
} from '@modelcontextprotocol/client';
import { GatewayError } from '../errors.js';
import type { BackendClientRequest, ClientRequester } from './types.js';

/** Rounds of `input_required` a call to a modern backend may take when the requester sets none. */
export const DEFAULT_MAX_INPUT_ROUNDS = 8;

/** Pause before retrying a round that asked for nothing (the backend only handed back its state). */
const STATE_ONLY_PACING_MS = 250;

const INPUT_METHODS = new Set<BackendClientRequest['method']>([
  'elicitation/create',
  'sampling/createMessage',
  'roots/list',
]);

export interface InputRoundsSpec<T> {
  server: string;
  /** What the call is, for errors: the backend's tool name or the request's method. */
  what: string;
  params: Record<string, unknown>;
  /** Where the backend's input requests go: the client of the call; none for a pipeline step. */
  requester: ClientRequester | undefined;
  signal: AbortSignal;
  /** Sends one leg with `allowInputRequired` on: its complete result, or the backend's input_required. */
  send(params: Record<string, unknown>): Promise<T | InputRequiredResult>;
}

/**
 * A request to a 2026-07-28 backend that may answer `input_required`: asks the call's client for each
 * input request (over its session for a 2025 client, parked as the gateway's own input_required for a
 * 2026 one — src/bridge) and retries with the answers and the backend's requestState, byte for byte,
 * up to the requester's round limit. The SDK's auto-fulfilment driver would do the same, but it cannot
 * tell which client a call belongs to; here the call's own requester is at hand.
 */
export async function withInputRounds<T>(spec: InputRoundsSpec<T>): Promise<T> {
  const { server, what, requester } = spec;
  const maxRounds = requester?.maxInputRounds ?? DEFAULT_MAX_INPUT_ROUNDS;
  const params = withClientCapabilities(spec.params, requester);
  // Answers the client gave before being asked go with the first request (ephemeral SEP-2322 flow).
  let result = await spec.send(
    requester?.inputResponses ? { ...params, inputResponses: requester.inputResponses } : params,
  );
  let round = 0;
  while (isInputRequiredResult(result)) {
    round++;
    if (round > maxRounds) {
      throw new GatewayError(
        'INPUT_ROUNDS_EXCEEDED',
        `server '${server}' still asked for client input for '${what}' after ${maxRounds} rounds (bridge.max_rounds); the call was given up`,
        { server, tool: what, maxRounds },
      );
    }
    const asks = Object.entries(result.inputRequests ?? {});
    if (asks.length > 0 && !requester) {
      throw new ProtocolError(
        ProtocolErrorCode.InvalidRequest,
        `mcp-gateway: server '${server}' asked for client input (${asks.map(([, r]) => r.method).join(', ')}) during '${what}', which has no client to ask (a pipeline step); nothing was forwarded`,
        { server, tool: what, reason: 'pipeline-step' },
      );
    }
    const responses: Record<string, unknown> = {};
    if (asks.length === 0) await pause(STATE_ONLY_PACING_MS, spec.signal);
    await Promise.all(
      asks.map(async ([key, ask]) => {
        const method = ask.method as BackendClientRequest['method'];
        if (!INPUT_METHODS.has(method)) {
          throw new GatewayError(
            'BACKEND_PROTOCOL',
            `server '${server}' asked for '${String(ask.method)}' as input during '${what}', which is not elicitation/create, sampling/createMessage or roots/list`,
            { server, tool: what, method: ask.method },
          );
        }
        const params = (ask as { params?: Record<string, unknown> }).params;
        responses[key] = await (requester as ClientRequester).request(
          { server, method, ...(params ? { params } : {}), inputKey: key },
          { signal: spec.signal },
        );
      }),
    );
    result = await spec.send({
      ...params,
      ...(asks.length > 0 ? { inputResponses: responses } : {}),
      ...(result.requestState !== undefined ? { requestState: result.requestState } : {}),
    });
  }
  return result;
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

/**
 * What the gateway can forward of what the client declared (BACKEND_CLIENT_CAPABILITIES: sampling,
 * form elicitation, roots).
 */
export function forwardableCapabilities(caps: ClientCapabilities): ClientCapabilities {
  const elicitation = caps.elicitation;
  const form = elicitation !== undefined && (elicitation.form !== undefined || elicitation.url === undefined);
  return {
    ...(caps.sampling ? { sampling: {} } : {}),
    ...(form ? { elicitation: { form: {} } } : {}),
    ...(caps.roots ? { roots: {} } : {}),
  };
}

/**
 * `params` with the client's capabilities in `_meta` when the requester knows them: a 2026-07-28 backend
 * reads them per request (the SDK's own envelope, which a `_meta` key overrides, would declare the
 * gateway's, i.e. everything it can forward, whatever this client can answer).
 */
function withClientCapabilities(
  params: Record<string, unknown>,
  requester: ClientRequester | undefined,
): Record<string, unknown> {
  if (!requester?.capabilities) return params;
  const meta = (params._meta ?? {}) as Record<string, unknown>;
  return {
    ...params,
    _meta: { ...meta, [CLIENT_CAPABILITIES_META_KEY]: forwardableCapabilities(requester.capabilities) },
  };
}
