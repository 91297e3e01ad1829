import type { CallToolResult, ContentBlock } from '@modelcontextprotocol/server';

/** Longest tool error text kept in a step's error. */
const MAX_ERROR_TEXT = 2_000;

export type CallOutcome =
  | { ok: true; output: unknown; text: string; content: ContentBlock[] }
  | {
      ok: false;
      message: string;
      text: string;
      content: ContentBlock[];
      isError: boolean;
      retryable: boolean;
    };

/**
 * A backend's result as a step sees it. `output`: `parse: text` → the text; `parse: json` → the text
 * parsed (a failure when it is not JSON); default → structuredContent, else the text parsed when it
 * is JSON, else the text. `isError: true` is a failure whose message is the text.
 */
export function interpretResult(result: CallToolResult, parse?: 'json' | 'text'): CallOutcome {
  const content = Array.isArray(result.content) ? result.content : [];
  const text = content
    .filter((b): b is Extract<ContentBlock, { type: 'text' }> => b.type === 'text')
    .map((b) => b.text)
    .join('\n');
  if (result.isError === true) {
    const message = text.trim() === '' ? 'the tool reported an error without a message' : clip(text.trim());
    return { ok: false, message, text, content, isError: true, retryable: true };
  }
  if (parse === 'text') return { ok: true, output: text, text, content };
  if (parse === 'json') {
    try {
      return { ok: true, output: JSON.parse(text), text, content };
    } catch (err) {
      return {
        ok: false,
        message: `parse: json: the result is not JSON (${(err as Error).message})`,
        text,
        content,
        isError: false,
        retryable: false,
      };
    }
  }
  if (result.structuredContent !== undefined && result.structuredContent !== null) {
    return { ok: true, output: result.structuredContent, text, content };
  }
  return { ok: true, output: parseIfJson(text), text, content };
}

/** The text parsed when it is JSON, else the text itself. */
export function parseIfJson(text: string): unknown {
  const t = text.trim();
  if (t === '') return text;
  const c = t[0]!;
  if (
    c === '{' ||
    c === '[' ||
    c === '"' ||
    c === '-' ||
    (c >= '0' && c <= '9') ||
    t === 'true' ||
    t === 'false' ||
    t === 'null'
  ) {
    try {
      return JSON.parse(t);
    } catch {
      return text;
    }
  }
  return text;
}

function clip(s: string): string {
  return s.length > MAX_ERROR_TEXT ? `${s.slice(0, MAX_ERROR_TEXT)}…` : s;
}
