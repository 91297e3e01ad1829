import type { ClientCapabilities, InputRequest } from '@modelcontextprotocol/server';
import type { BackendClientRequest, ClientRequester } from '../backends/index.js';

/** One request a backend made of the client during the call, waiting for the client's answer. */
interface Ask {
  key: string;
  request: BackendClientRequest;
  resolve(answer: Record<string, unknown>): void;
  reject(error: Error): void;
}

/** What a round of the call came to: its result, or what the backend asks the client first. */
export type Round<T> =
  | { kind: 'done'; value: T }
  | { kind: 'failed'; error: unknown }
  | { kind: 'asks'; inputRequests: Record<string, InputRequest> };

type Progress = (p: { progress: number; total?: number; message?: string }) => void;

export interface ParkedCallOptions {
  maxInputRounds: number;
  /** Refuses an ask the client cannot take (a capability it did not declare). */
  refuse?: (request: BackendClientRequest) => Error | undefined;
  /** What the client declared, for 2026-07-28 backends (ClientRequester.capabilities). */
  capabilities?: ClientCapabilities | undefined;
  /** Answers the client sent unasked with its first request (ClientRequester.inputResponses). */
  inputResponses?: Record<string, unknown> | undefined;
}

/**
 * A backend call made for a 2026-07-28 client, which cannot be sent requests: what the backend asks
 * during the call (elicitation, sampling, roots) is parked here and handed to the client as
 * `input_required`; the client's retry answers it and the call goes on. The call runs on its own
 * signal: the client's request rounds come and go, the call stays until it ends or is abandoned.
 */
export class ParkedCall<T> {
  readonly requester: ClientRequester;
  private readonly controller = new AbortController();
  private readonly outcome: Promise<Round<T>>;
  /** Asks not yet handed to the client. */
  private fresh: Ask[] = [];
  /** Asks handed out in the last input_required, by key. */
  private readonly handedOut = new Map<string, Ask>();
  private wake: (() => void) | undefined;
  private progressSink: Progress | undefined;
  private counter = 0;

  constructor(
    start: (requester: ClientRequester, signal: AbortSignal, progress: Progress) => Promise<T>,
    options: ParkedCallOptions,
  ) {
    this.requester = {
      session: this,
      maxInputRounds: options.maxInputRounds,
      ...(options.capabilities ? { capabilities: options.capabilities } : {}),
      ...(options.inputResponses ? { inputResponses: options.inputResponses } : {}),
      request: (request) =>
        new Promise((resolve, reject) => {
          const refused = options.refuse?.(request);
          if (refused) return reject(refused);
          this.fresh.push({ key: this.keyFor(request), request, resolve, reject });
          this.wake?.();
        }),
    };
    const progress: Progress = (p) => this.progressSink?.(p);
    this.outcome = start(this.requester, this.controller.signal, progress).then(
      (value) => ({ kind: 'done', value }),
      (error: unknown) => ({ kind: 'failed', error }),
    );
  }

  /** The backend's own key for an ask when it has one not in use, else the gateway's `input-<n>`. */
  private keyFor(request: BackendClientRequest): string {
    const taken = (key: string) => this.handedOut.has(key) || this.fresh.some((ask) => ask.key === key);
    if (request.inputKey !== undefined && !taken(request.inputKey)) return request.inputKey;
    let key: string;
    do key = `input-${++this.counter}`;
    while (taken(key));
    return key;
  }

  /**
   * Runs one round: resolves with the call's end, or with what it asks of the client (every ask made
   * until the next turn of the event loop, so asks sent together go out together). `signal` is the
   * round's request: cancelling it cancels the call.
   */
  async next(signal: AbortSignal, progress: Progress | undefined): Promise<Round<T>> {
    this.progressSink = progress;
    const onAbort = () => this.abandon(new Error('the client cancelled the request'));
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const asked = new Promise<'asked'>((resolve) => {
        this.wake = () => setImmediate(() => resolve('asked'));
        if (this.fresh.length > 0) this.wake();
      });
      const first = await Promise.race([this.outcome, asked]);
      if (first !== 'asked') return first;
      const asks = this.fresh;
      this.fresh = [];
      const inputRequests: Record<string, InputRequest> = {};
      for (const ask of asks) {
        this.handedOut.set(ask.key, ask);
        inputRequests[ask.key] = {
          method: ask.request.method,
          ...(ask.request.params ? { params: ask.request.params } : {}),
        } as InputRequest;
      }
      return { kind: 'asks', inputRequests };
    } finally {
      this.wake = undefined;
      this.progressSink = undefined;
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** The client's answers to the asks handed out; an ask it did not answer fails for the backend. */
  answer(responses: Record<string, unknown> | undefined): void {
    for (const [key, ask] of this.handedOut) {
      const answer = responses?.[key];
      if (typeof answer === 'object' && answer !== null) ask.resolve(answer as Record<string, unknown>);
      else ask.reject(new Error(`the client retried without an answer to '${key}' (${ask.request.method})`));
    }
    this.handedOut.clear();
  }

  /** Gives the call up: what the backend asked fails with `reason`, and the call is cancelled. */
  abandon(reason: Error): void {
    for (const ask of [...this.handedOut.values(), ...this.fresh]) ask.reject(reason);
    this.handedOut.clear();
    this.fresh = [];
    this.controller.abort(reason);
  }
}
