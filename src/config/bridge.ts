import { secrets } from '../secrets.js';
import { parseDuration } from './duration.js';
import type { Problem, Segment } from './problems.js';

/** `bridge:` — how calls that cross the protocol eras wait for a client's input (src/bridge). */
export interface BridgeConfig {
  /** How long a requestState (and the call parked behind it) lives; `state_ttl`. */
  stateTtlMs?: number;
  /** HMAC key for requestState, at least 32 bytes; `state_key`. Random per process when unset. */
  stateKey?: string;
  /** This replica's name in the states it issues; `replica`. Random per process when unset. */
  replica?: string;
  /** Rounds of input_required one call may take; `max_rounds`. */
  maxRounds?: number;
}

const MIN_KEY_BYTES = 32;
const MIN_TTL_MS = 1_000;

type Data = Record<string, unknown>;

/** `bridge:` as given (schema-checked); problems for values the schema cannot judge. */
export function bridgeConfig(raw: unknown, problems: Problem[]): BridgeConfig | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const data = raw as Data;
  const path = (key: string): Segment[] => ['bridge', key];
  const config: BridgeConfig = {};
  if (typeof data.state_ttl === 'string' || typeof data.state_ttl === 'number') {
    try {
      const ms = parseDuration(data.state_ttl);
      if (ms >= MIN_TTL_MS) config.stateTtlMs = ms;
      else problems.push({ path: path('state_ttl'), text: 'the requestState lifetime must be at least 1s' });
    } catch (err) {
      problems.push({ path: path('state_ttl'), text: (err as Error).message });
    }
  }
  if (typeof data.state_key === 'string') {
    if (Buffer.byteLength(data.state_key) >= MIN_KEY_BYTES) {
      config.stateKey = data.state_key;
      secrets.add(data.state_key, '<bridge.state_key>');
    } else {
      problems.push({
        path: path('state_key'),
        text: `the requestState key must be at least ${MIN_KEY_BYTES} bytes (e.g. \${MCP_GATEWAY_STATE_KEY} holding 32 random bytes in hex)`,
      });
    }
  }
  if (typeof data.replica === 'string' && data.replica.trim() !== '') config.replica = data.replica.trim();
  if (typeof data.max_rounds === 'number' && Number.isInteger(data.max_rounds) && data.max_rounds >= 1) {
    config.maxRounds = data.max_rounds;
  }
  return config;
}
