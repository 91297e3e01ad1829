import { randomBytes, randomUUID } from 'node:crypto';
import {
  type ClientCapabilities,
  type InputRequiredResult,
  inputRequired,
} from '@modelcontextprotocol/server';
import type { BackendClientRequest, ClientRequester } from '../backends/index.js';
import type { Logger } from '../log.js';
import { ParkedCall } from './parked-call.js';
import { PendingTable } from './pending-table.js';
import { bindingOf, refusal, StateCodec } from './state-codec.js';

/** How long a parked call waits for its client's retry unless bridge.state_ttl says otherwise. */
export const DEFAULT_STATE_TTL_MS = 10 * 60_000;
/** Rounds of input a call may take unless bridge.max_rounds says otherwise. */
export const DEFAULT_MAX_ROUNDS = 8;

export interface BridgeSettings {
  /** HMAC key for requestState (≥ 32 bytes); random per process without it. */
  stateKey?: string | undefined;
  stateTtlMs: number;
  /** This process's name in the states it issues; random without it. */
  replica?: string | undefined;
  maxRounds: number;
}

type Progress = (p: { progress: number; total?: number; message?: string }) => void;

/** One client request that may be a retry: what the bridge needs to know of it. */
export interface BridgedRequest {
  method: string;
  /** Tool or prompt name, or resource URI. */
  name: string;
  args: unknown;
  /** Who is calling: authenticated client and client info, as one string. */
  caller: string;
  signal: AbortSignal;
  /** The raw requestState of a retry (attacker-controlled until verified). */
  requestState: unknown;
  inputResponses: Record<string, unknown> | undefined;
  progress?: Progress | undefined;
  /** Refuses an ask the client cannot take (a capability it did not declare). */
  refuse?: (request: BackendClientRequest) => Error | undefined;
  /** What the client declared it can be asked (its request's envelope). */
  capabilities?: ClientCapabilities | undefined;
}

/**
 * Bridges a backend's requests to the client (2025 era: elicitation/create, sampling/createMessage,
 * roots/list sent mid-call) to a 2026-07-28 client, which cannot be sent requests: the call is parked,
 * the client gets `input_required` with the backend's requests and a signed, single-use requestState
 * bound to the call, and its retry answers the backend and the call goes on. The state names this
 * replica; it expires after `stateTtlMs`, and the parked call with it (the backend's request fails and
 * the call is cancelled). Waiting does not count against the call's timeout (backends/pausable-timer).
 */
export class InputBridge {
  private readonly codec: StateCodec;
  private readonly pending = new PendingTable<ParkedCall<unknown>>();

  constructor(
    private readonly settings: BridgeSettings,
    private readonly logger: Logger,
  ) {
    this.codec = new StateCodec({
      key: settings.stateKey,
      ttlMs: settings.stateTtlMs,
      replica: settings.replica ?? `gw-${process.pid}-${randomBytes(4).toString('hex')}`,
    });
  }

  get replica(): string {
    return this.codec.replica;
  }

  /** Rounds of input_required a call to a modern backend may take (for every client era). */
  get maxRounds(): number {
    return this.settings.maxRounds;
  }

  /** Parked calls waiting for a retry. */
  get parked(): number {
    return this.pending.size;
  }

  /**
   * Runs a request (or resumes the call its requestState names) with `start` as the backend call,
   * given a requester that parks what the backend asks: resolves with the call's result, or with
   * `input_required` when the backend asked something.
   */
  async run<T>(
    request: BridgedRequest,
    start: (requester: ClientRequester, signal: AbortSignal, progress: Progress) => Promise<T>,
  ): Promise<T | InputRequiredResult> {
    const bind = bindingOf(request.method, request.name, request.args, request.caller);
    let call: ParkedCall<unknown>;
    if (request.requestState !== undefined) {
      const state = await this.codec.open(request.requestState, bind);
      const found = this.pending.take(state.id);
      if (!found) {
        throw refusal(
          'replayed',
          'it was already used, or the call it belonged to has ended: a requestState is good for one retry; start the request again without it',
        );
      }
      call = found;
      call.answer(request.inputResponses);
    } else {
      call = new ParkedCall(start, {
        maxInputRounds: this.settings.maxRounds,
        refuse: request.refuse,
        capabilities: request.capabilities,
        // Answers sent unasked (no requestState) go to the backend with the first request.
        inputResponses: request.inputResponses,
      });
    }
    const round = await call.next(request.signal, request.progress);
    if (round.kind === 'done') return round.value as T;
    if (round.kind === 'failed') throw round.error;
    const id = randomUUID();
    this.pending.add(id, call, this.settings.stateTtlMs, (expired) => {
      this.logger.info(
        `a call parked for client input (${request.method} ${request.name}) expired unanswered; cancelled`,
      );
      expired.abandon(
        new Error(`the client did not answer within ${this.settings.stateTtlMs} ms (bridge.state_ttl)`),
      );
    });
    const requestState = await this.codec.mint({ id, replica: this.codec.replica, bind });
    return inputRequired({ inputRequests: round.inputRequests, requestState });
  }

  /** Ends every parked call (the gateway is closing). */
  close(): void {
    this.pending.clear((call) => call.abandon(new Error('the gateway is shutting down')));
  }
}
