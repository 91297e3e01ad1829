/**
 * Values the gateway must never show: what a `${VAR}` in the config expanded to, backend env and HTTP
 * header values, URL credentials, the HTTP token. They are registered where they enter (config
 * loading, register_server) and replaced, wherever the gateway itself speaks (its log lines, its own
 * tools' results and errors), by a label saying what was there: `${API_KEY}`, `<header Authorization>`.
 *
 * Replacing by value catches what no code path can promise to avoid: a backend that echoes the
 * Authorization header it got in its 401 page, a process that prints its own command line, an SDK
 * error that quotes a URL. Backend results and a successful pipeline's output are data: untouched.
 */

/** Shorter values are not treated as secrets: replacing "9000" or "true" everywhere would garble output. */
export const MIN_SECRET_LENGTH = 8;
/** Registered values kept, newest first; bounds memory when backends come and go for ever. */
const MAX_SECRETS = 2_000;

export class SecretRedactor {
  private readonly labels = new Map<string, string>();
  private pattern: RegExp | undefined | null = null;

  /** Registers `value` (ignored when shorter than {@link MIN_SECRET_LENGTH}), shown as `label`. */
  add(value: string, label: string): void {
    if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH) return;
    if (this.labels.get(value) === label) return;
    this.labels.delete(value);
    this.labels.set(value, label);
    if (this.labels.size > MAX_SECRETS) this.labels.delete(this.labels.keys().next().value as string);
    this.pattern = null;
  }

  get size(): number {
    return this.labels.size;
  }

  /** `text` with every registered value replaced by its label. */
  redact(text: string): string {
    const pattern = this.compiled();
    if (!pattern || text.length < MIN_SECRET_LENGTH) return text;
    return text.replace(pattern, (match) => this.labels.get(match) ?? '<secret>');
  }

  /** A copy of JSON-like data with every string (keys included) redacted; other values as they are. */
  redactDeep<T>(value: T): T {
    if (!this.compiled()) return value;
    return this.walk(value, 0) as T;
  }

  private walk(value: unknown, depth: number): unknown {
    if (typeof value === 'string') return this.redact(value);
    if (value === null || typeof value !== 'object' || depth > 64) return value;
    if (Array.isArray(value)) return value.map((v) => this.walk(v, depth + 1));
    if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null)
      return value;
    // fromEntries defines own properties, so a "__proto__" key stays a key.
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [this.redact(k), this.walk(v, depth + 1)]),
    );
  }

  private compiled(): RegExp | undefined {
    if (this.pattern !== null) return this.pattern;
    if (this.labels.size === 0) {
      this.pattern = undefined;
      return undefined;
    }
    // Longest first, so a value that contains another is replaced whole.
    const values = [...this.labels.keys()].sort((a, b) => b.length - a.length);
    this.pattern = new RegExp(values.map(escapeRegExp).join('|'), 'g');
    return this.pattern;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** The process's redactor: config loading and register_server fill it; logs and the front apply it. */
export const secrets = new SecretRedactor();

/**
 * Registers a credential-bearing value and its likely parts: `Bearer abc…` also registers `abc…`, and
 * `user:password` its password, since a careless server echoes either.
 */
export function addSecretValue(value: string, label: string): void {
  secrets.add(value, label);
  const scheme = /^\S+\s+(\S.*)$/.exec(value);
  if (scheme?.[1]) secrets.add(scheme[1], label);
}
