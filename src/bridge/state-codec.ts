import { createHash, randomBytes } from 'node:crypto';
import { createRequestStateCodec, ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';

/** What the gateway's requestState carries (signed, readable by the client: nothing secret). */
export interface BridgeState {
  /** The parked call's id in this replica's pending table. */
  id: string;
  /** The replica (process) that parked it. */
  replica: string;
  /** Hash of the call it answers: method, name, arguments, caller. */
  bind: string;
  /** When it expires (ms since the epoch): the codec's own expiry counts whole seconds. */
  expiresAt: number;
}

/** Why a requestState was refused; the `reason` of the error's data. */
export type StateRefusal = 'malformed' | 'forged' | 'expired' | 'other-replica' | 'replayed' | 'mismatch';

export interface StateCodecOptions {
  /** HMAC key, at least 32 bytes; random per process without it (then only this process can verify). */
  key?: string | undefined;
  ttlMs: number;
  replica: string;
}

/**
 * The gateway's `requestState` for a call it parked: the SDK's HMAC-SHA256 codec (signed, expires)
 * around {@link BridgeState}; single use is the pending table's (an entry is deleted when used).
 * Refusals are -32602 like the SDK's own "Invalid or expired requestState", but say which check failed.
 */
export class StateCodec {
  private readonly codec;
  readonly replica: string;
  private readonly ttlMs: number;

  constructor(options: StateCodecOptions) {
    this.replica = options.replica;
    this.ttlMs = options.ttlMs;
    this.codec = createRequestStateCodec<BridgeState>({
      key: options.key ?? randomBytes(32),
      ttlSeconds: Math.ceil(options.ttlMs / 1000) + 1,
    });
  }

  mint(state: Omit<BridgeState, 'expiresAt'>): Promise<string> {
    return this.codec.mint({ ...state, expiresAt: Date.now() + this.ttlMs });
  }

  /** The verified state of a retry for the call `bind` names; throws a refusal otherwise. */
  async open(wire: unknown, bind: string): Promise<BridgeState> {
    if (typeof wire !== 'string') throw refusal('malformed', 'it is not a string');
    // Read before verifying, only to name the replica in the error: another replica has another key.
    const claimed = peek(wire);
    if (claimed?.replica !== undefined && claimed.replica !== this.replica) {
      throw refusal(
        'other-replica',
        `it was issued by gateway replica '${claimed.replica}', and this is replica '${this.replica}': the waiting call lives only there, so the retry must reach that replica`,
        { replica: claimed.replica, here: this.replica },
      );
    }
    let state: BridgeState;
    try {
      // A dummy context: the codec binds nothing (the binding is ours, checked below). Its TTL is
      // rounded up to whole seconds; the exact expiry is checked below.
      state = await this.codec.verify(wire, {} as never);
    } catch (err) {
      const why = err instanceof Error ? err.message : '';
      if (why === 'expired')
        throw refusal(
          'expired',
          'it has expired: the call waited longer than bridge.state_ttl and was cancelled',
        );
      if (why === 'mac')
        throw refusal(
          'forged',
          'its signature does not match (it was altered, or not issued by this gateway)',
        );
      throw refusal('malformed', 'it is not a requestState this gateway issued');
    }
    if (!(Date.now() <= state.expiresAt)) {
      throw refusal(
        'expired',
        'it has expired: the call waited longer than bridge.state_ttl and was cancelled',
      );
    }
    if (state.bind !== bind) {
      throw refusal(
        'mismatch',
        'it was issued for another call (a different tool, arguments or caller); retry the same request with the requestState it got',
      );
    }
    return state;
  }
}

export function refusal(
  reason: StateRefusal,
  why: string,
  extra: Record<string, unknown> = {},
): ProtocolError {
  return new ProtocolError(ProtocolErrorCode.InvalidParams, `mcp-gateway: invalid requestState: ${why}`, {
    reason: 'invalid_request_state',
    refusal: reason,
    ...extra,
  });
}

/** The binding of a call: who called what with which arguments. */
export function bindingOf(method: string, name: string, args: unknown, caller: string): string {
  return createHash('sha256')
    .update(JSON.stringify([method, name, stable(args), caller]))
    .digest('base64url')
    .slice(0, 22);
}

/** `value` with object keys sorted, so the same arguments hash the same whatever their order. */
function stable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stable);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, stable((value as Record<string, unknown>)[k])]),
  );
}

/**
 * The replica a requestState names, unverified (another replica's key signed it): where a retry
 * carrying it must be answered. Undefined when it is not one of the gateway's states.
 */
export function stateReplica(wire: unknown): string | undefined {
  if (typeof wire !== 'string') return undefined;
  const replica = peek(wire)?.replica;
  return typeof replica === 'string' && replica !== '' ? replica : undefined;
}

/** The payload of a `v1.<body>.<mac>` state, unverified; undefined when it does not parse. */
function peek(wire: string): Partial<BridgeState> | undefined {
  const body = wire.split('.')[1];
  if (!body) return undefined;
  try {
    const decoded = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { p?: unknown };
    return typeof decoded.p === 'object' && decoded.p !== null
      ? (decoded.p as Partial<BridgeState>)
      : undefined;
  } catch {
    return undefined;
  }
}
