/**
 * What the docs test does with each kind of fenced block. Pure parts here (reading a block into the
 * commands or tool calls it holds); test/e2e/docs.test.ts runs them against the built gateway.
 */
import { splitShellArgs } from '../../src/config/index.js';

export interface ShellCommand {
  /** The line as written (continuations joined), for messages. */
  line: string;
  env: Record<string, string>;
  argv: string[];
}

/** A stand-in for `…` placeholders in command lines (a token, say), long enough to pass as one. */
export const PLACEHOLDER = 'docs-test-placeholder-0123456789abcdef';

/** A sh block → its commands: `\` continuations joined, `# comments` dropped, `a && b` split. */
export function shellCommands(text: string): ShellCommand[] {
  const joined = text.replace(/\\\n\s*/g, ' ');
  const commands: ShellCommand[] = [];
  for (const raw of joined.split('\n')) {
    const line = raw.replace(/(^|\s)#(\s.*)?$/, '').trim();
    if (!line) continue;
    for (const part of line.split(/\s+&&\s+/)) {
      const words = splitShellArgs(part.replaceAll('…', PLACEHOLDER));
      const env: Record<string, string> = {};
      while (words[0] && /^[A-Z_][A-Z0-9_]*=/.test(words[0])) {
        const [key, ...value] = (words.shift() as string).split('=');
        env[key as string] = value.join('=');
      }
      commands.push({ line: part, env, argv: words });
    }
  }
  return commands;
}

export type CommandKind =
  | { kind: 'gateway'; args: string[] }
  | { kind: 'npm-script'; script: string }
  | { kind: 'npm-builtin' }
  | { kind: 'vitest'; paths: string[] }
  | { kind: 'unknown' };

/** Which checker a command line goes to. */
export function classify(argv: readonly string[]): CommandKind {
  const [a, b, c, ...rest] = argv;
  if (a === 'node' && b === 'dist/cli/index.js') return { kind: 'gateway', args: argv.slice(2) };
  if (a === 'mcp-gateway') return { kind: 'gateway', args: argv.slice(1) };
  if (a === 'npx' && b === 'mcp-gateway') return { kind: 'gateway', args: argv.slice(2) };
  if (a === 'npx' && b === 'vitest' && c === 'run')
    return { kind: 'vitest', paths: rest.filter((w) => !w.startsWith('-')) };
  if (a === 'npm' && (b === 'install' || b === 'ci')) return { kind: 'npm-builtin' };
  if (a === 'npm' && (b === 'test' || b === 'start')) return { kind: 'npm-script', script: b };
  if (a === 'npm' && b === 'run' && c) return { kind: 'npm-script', script: c };
  return { kind: 'unknown' };
}

/** Whether a gateway command line serves (and so runs until stopped) rather than exits. */
export function isServe(args: readonly string[]): boolean {
  const first = args[0];
  if (first === undefined) return true;
  if (['--help', '-h', 'help', '--version', '-v'].includes(first)) return false;
  return first === 'serve' || first.startsWith('-');
}

/** Serve command lines with any port made 0, so a docs test never fights over 8003. */
export function withFreePort(args: readonly string[]): string[] {
  const out = [...args];
  const at = out.indexOf('--port');
  if (at >= 0) out[at + 1] = '0';
  else if (out.includes('streamable-http')) out.push('--port', '0');
  return out;
}

/**
 * A jsonc block → its JSON values: whole-line `//` comments dropped, then one value after another
 * (a block may show several tool calls).
 */
export function jsonValues(text: string): unknown[] {
  const source = text
    .split('\n')
    .filter((l) => !/^\s*\/\//.test(l))
    .join('\n');
  const values: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < source.length; i++) {
    const ch = source[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === '{' || ch === '[') {
      if (depth === 0) start = i;
      depth++;
    } else if (ch === '}' || ch === ']') {
      depth--;
      if (depth === 0) values.push(JSON.parse(source.slice(start, i + 1)));
    } else if (depth === 0 && ch && !/\s/.test(ch)) {
      throw new Error(`unexpected '${ch}' between JSON values at offset ${i}`);
    }
  }
  if (depth !== 0) throw new Error('unbalanced JSON');
  return values;
}

/**
 * A YAML block's role: a pipeline has top-level `steps:`, a pipeline test `expect:`, a gateway config
 * `servers:` or other keys.
 */
export function yamlRole(text: string): 'pipeline' | 'pipeline-test' | 'gateway' {
  if (/^steps:/m.test(text)) return 'pipeline';
  return /^expect:/m.test(text) ? 'pipeline-test' : 'gateway';
}
