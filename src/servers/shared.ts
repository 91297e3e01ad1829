/**
 * Small pieces both example servers share. They are ordinary MCP servers: nothing here knows about
 * the gateway, only about serving MCP over stdio.
 */

import type { CallToolResult, McpServer } from '@modelcontextprotocol/server';
import { StdioServerTransport, serveStdio as serveStdioInEra } from '@modelcontextprotocol/server/stdio';

/** stdout carries JSON-RPC only; one stray line there breaks the client, so logs go to stderr. */
export function log(server: string, message: string): void {
  process.stderr.write(`[${server}] ${message}\n`);
}

/**
 * JSON text that survives what SQLite hands back: BigInts beyond 2^53 would throw in JSON.stringify,
 * and Buffers would become a byte array nobody can read.
 */
export function toJsonValue(value: unknown): unknown {
  if (typeof value === 'bigint') {
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  }
  if (Buffer.isBuffer(value)) return value.toString('base64');
  return value;
}

export function jsonText(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => toJsonValue(v), 2);
}

/** A result with both forms: text for people and models, structuredContent for programs. */
export function structuredResult<T extends Record<string, unknown>>(text: string, data: T): CallToolResult {
  return { content: [{ type: 'text', text }], structuredContent: data };
}

/** "The tool failed" is a result with isError, not a protocol error: the caller can read why. */
export function toolError(message: string): CallToolResult {
  return { content: [{ type: 'text', text: message }], isError: true };
}

/**
 * Serve over stdio until the client goes away, in the era the client's first message speaks
 * (2025-11-25 `initialize`, or 2026-07-28 `server/discover` and per-request metadata): the SDK calls
 * `createServer` for the connection (and for a discovery probe it then discards). `onClose` releases
 * resources (database handles); it runs once whether the client closes stdin or the process is signalled.
 */
export async function serveStdio(
  createServer: () => McpServer,
  name: string,
  onClose: () => void = () => {},
): Promise<void> {
  let closed = false;
  const shutdown = (reason: string, code = 0) => {
    if (closed) return;
    closed = true;
    log(name, `shutting down (${reason})`);
    try {
      onClose();
    } finally {
      process.exit(code);
    }
  };
  process.stdin.on('end', () => shutdown('stdin closed'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  serveStdioInEra(() => createServer(), {
    transport: new StdioServerTransport(),
    onerror: (err) => log(name, `stdio: ${err.message}`),
  });
  log(name, 'ready on stdio');
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Milliseconds for `"500ms"`, `"5s"`, `"2m"` or a bare number of milliseconds; undefined for anything
 * else. The gateway's config has a fuller parser, but the example servers stand alone (the layering
 * test keeps them from importing it), and flags need only this much.
 */
export function parseMilliseconds(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!match) return undefined;
  const unit = { ms: 1, s: 1_000, m: 60_000 }[(match[2] as 'ms' | 's' | 'm' | undefined) ?? 'ms'];
  return Math.round(Number(match[1]) * unit);
}
