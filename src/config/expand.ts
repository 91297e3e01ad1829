/**
 * `${VAR}` expansion in config values.
 *
 * - `${NAME}` is the variable's value; unset is an error (set but empty gives `""`).
 * - `${NAME:-default}` is the value, or `default` when the variable is unset or empty. The default
 *   is literal text up to the first `}`; it is not expanded again.
 * - `$$` is a literal `$` (so `$${NAME}` is the text `${NAME}`).
 * - Any other `$` is kept as written (`$HOME`, `cost: 5$`).
 *
 * NAME is `[A-Za-z_][A-Za-z0-9_]*`. Only string values are expanded, never keys. Messages name the
 * variable but never contain a value: expanded text is often a token.
 */
import { type Document, isPair, isScalar, isSeq, type Scalar, visit } from 'yaml';

export type Env = Readonly<Record<string, string | undefined>>;

export type ExpandResult = { ok: true; value: string } | { ok: false; problems: ExpandProblem[] };

export interface ExpandProblem {
  /** The variable that is missing; absent for a malformed reference. */
  variable?: string;
  message: string;
}

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function missingVariableMessage(name: string): string {
  return `environment variable ${name} is not set (write \${${name}:-default} to give a default)`;
}

const MALFORMED_MESSAGE =
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the message shows the ${VAR} syntax
  'malformed "${...}" reference; write ${NAME} or ${NAME:-default}, and "$$" for a literal "$"';

/** Told each variable value put into the text (not defaults): the values that must not be shown. */
export type OnSubstitute = (name: string, value: string) => void;

/** Expand one string. Reports every missing variable in it, not just the first. */
export function expandString(input: string, env: Env, onSubstitute?: OnSubstitute): ExpandResult {
  if (!input.includes('$')) return { ok: true, value: input };
  let out = '';
  const problems: ExpandProblem[] = [];
  let i = 0;
  while (i < input.length) {
    const dollar = input.indexOf('$', i);
    if (dollar === -1) {
      out += input.slice(i);
      break;
    }
    out += input.slice(i, dollar);
    const next = input[dollar + 1];
    if (next === '$') {
      out += '$';
      i = dollar + 2;
      continue;
    }
    if (next !== '{') {
      out += '$';
      i = dollar + 1;
      continue;
    }
    const close = input.indexOf('}', dollar + 2);
    if (close === -1) {
      problems.push({ message: MALFORMED_MESSAGE });
      break;
    }
    const body = input.slice(dollar + 2, close);
    const sep = body.indexOf(':-');
    const name = sep === -1 ? body : body.slice(0, sep);
    if (!NAME_RE.test(name)) {
      problems.push({ message: MALFORMED_MESSAGE });
    } else {
      const value = env[name];
      if (value !== undefined && value !== '') onSubstitute?.(name, value);
      if (sep !== -1) out += value === undefined || value === '' ? body.slice(sep + 2) : value;
      else if (value !== undefined) out += value;
      else if (!problems.some((p) => p.variable === name)) {
        problems.push({ variable: name, message: missingVariableMessage(name) });
      }
    }
    i = close + 1;
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value: out };
}

/** A value in the document that could not be expanded, with its node for a position. */
export interface DocumentExpandProblem extends ExpandProblem {
  node: Scalar;
  /** Keys and indexes from the document root to the node. */
  path: (string | number)[];
}

/**
 * Expand every string scalar in `doc` in place (values only: keys, and anything inside a complex
 * key, stay as written). Anchored values are expanded once, where the anchor is defined, so every
 * alias sees the expanded value.
 */
export function expandDocument(
  doc: Document,
  env: Env,
  onSubstitute?: OnSubstitute,
): DocumentExpandProblem[] {
  const problems: DocumentExpandProblem[] = [];
  visit(doc, {
    Scalar(_key, node, ancestors) {
      if (typeof node.value !== 'string') return;
      const path = valuePath(ancestors, node);
      if (!path) return;
      const result = expandString(node.value, env, onSubstitute);
      if (result.ok) node.value = result.value;
      else for (const p of result.problems) problems.push({ ...p, node, path });
    },
  });
  return problems;
}

/** The key path to `node`, or `undefined` when the node is (part of) a mapping key. */
function valuePath(ancestors: readonly unknown[], node: unknown): (string | number)[] | undefined {
  const path: (string | number)[] = [];
  for (let i = 0; i < ancestors.length; i++) {
    const parent = ancestors[i];
    const child = i + 1 < ancestors.length ? ancestors[i + 1] : node;
    if (isPair(parent)) {
      if (parent.key === child) return undefined;
      path.push(isScalar(parent.key) ? String(parent.key.value) : String(parent.key));
    } else if (isSeq(parent)) {
      path.push(parent.items.indexOf(child));
    }
  }
  return path;
}
