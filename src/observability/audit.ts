/**
 * The audit log: one JSON object a line for every tools/call a client makes — who (the token's
 * identity, never the token; the client's name and version; the session), what (the tool, and the
 * backend, backend tool or pipeline behind it), the arguments redacted, the outcome and the time
 * taken. It goes to its own file (or stderr), apart from the debug log, so it can be kept and shipped
 * on its own terms.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { secrets } from '../secrets.js';
import type { Outcome } from './labels.js';

/** What a tool name means, as the front knows it (see front/call-target.ts). */
export interface CallTarget {
  kind: 'backend' | 'pipeline' | 'meta';
  server?: string;
  backendTool?: string;
  pipeline?: string;
}

export interface AuditRecord {
  time: string;
  event: 'tools/call';
  identity: string;
  transport: string;
  session?: string;
  client?: { name?: string; version?: string };
  tool: string;
  target: CallTarget;
  arguments: unknown;
  outcome: Outcome;
  errorCode?: string;
  durationMs: number;
  traceId?: string;
}

/** Arguments larger than this (as JSON) are logged as their size only. */
export const MAX_AUDIT_ARGS_BYTES = 4096;

/** Keys whose values are credentials whatever they hold: shown as `<redacted>`. */
const SECRET_KEY = /token|secret|password|passwd|authorization|api[-_]?key|^env$|^headers$|cookie/i;

/**
 * Arguments as the audit log shows them: every registered secret replaced (secrets.ts), values under
 * credential-like keys hidden, and a large payload reduced to its size.
 */
export function redactArguments(args: unknown): unknown {
  const masked = mask(secrets.redactDeep(args), 0);
  const json = JSON.stringify(masked) ?? 'null';
  if (json.length > MAX_AUDIT_ARGS_BYTES) return { truncated: true, bytes: Buffer.byteLength(json) };
  return masked;
}

function mask(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object' || depth > 32) return value;
  if (Array.isArray(value)) return value.map((v) => mask(v, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, SECRET_KEY.test(k) ? '<redacted>' : mask(v, depth + 1)]),
  );
}

export interface AuditSink {
  write(record: AuditRecord): void;
  close(): Promise<void>;
}

/** Appends to `file` (created with its folder), or writes to stderr when `file` is undefined. */
export function openAuditSink(file: string | undefined): AuditSink {
  let stream: WriteStream | undefined;
  if (file !== undefined) {
    mkdirSync(dirname(file), { recursive: true });
    stream = createWriteStream(file, { flags: 'a', mode: 0o600 });
    // A full disk must not take the gateway down; the error is reported once by the caller's logger.
    stream.on('error', () => {});
  }
  return {
    write(record) {
      const line = `${JSON.stringify(toLine(record))}\n`;
      if (stream) stream.write(line);
      else process.stderr.write(line);
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (!stream) resolve();
        else stream.end(() => resolve());
      }),
  };
}

/** The line's field names are snake_case, as log pipelines expect. */
function toLine(r: AuditRecord): Record<string, unknown> {
  return {
    time: r.time,
    audit: r.event,
    identity: r.identity,
    transport: r.transport,
    ...(r.session !== undefined ? { session: r.session } : {}),
    ...(r.client ? { client: r.client } : {}),
    tool: r.tool,
    kind: r.target.kind,
    ...(r.target.server !== undefined ? { server: r.target.server } : {}),
    ...(r.target.backendTool !== undefined ? { backend_tool: r.target.backendTool } : {}),
    ...(r.target.pipeline !== undefined ? { pipeline: r.target.pipeline } : {}),
    arguments: r.arguments,
    outcome: r.outcome,
    ...(r.errorCode !== undefined ? { error_code: r.errorCode } : {}),
    duration_ms: Math.round(r.durationMs * 1000) / 1000,
    ...(r.traceId !== undefined ? { trace_id: r.traceId } : {}),
  };
}
