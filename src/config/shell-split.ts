/**
 * Split one command-line string into arguments the way a POSIX shell would, without running one:
 *
 * - unquoted whitespace separates arguments;
 * - `'single quotes'` keep everything literally, up to the next `'`;
 * - `"double quotes"` keep everything except that a backslash escapes `"`, `\`, `$` and `` ` ``
 *   (any other backslash stays as written, so `"C:\tools"` survives);
 * - outside quotes a backslash makes the next character literal (`a\ b` is one argument);
 * - `''` and `""` give an empty argument.
 *
 * There is no globbing, no `$VAR` expansion, and `|`, `;`, `&`, `>` are ordinary characters.
 * An unterminated quote or a trailing backslash throws a `SyntaxError`; its message gives the
 * character offset, never the text, since the string may carry an expanded secret.
 */
export function splitShellArgs(s: string): string[] {
  const args: string[] = [];
  let current = '';
  let inArg = false;
  let i = 0;
  while (i < s.length) {
    const ch = s[i]!;
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      if (inArg) args.push(current);
      current = '';
      inArg = false;
      i++;
    } else if (ch === "'") {
      const end = s.indexOf("'", i + 1);
      if (end === -1) throw new SyntaxError(`unterminated single quote at character ${i + 1}`);
      current += s.slice(i + 1, end);
      inArg = true;
      i = end + 1;
    } else if (ch === '"') {
      const start = i;
      i++;
      for (;;) {
        if (i >= s.length) throw new SyntaxError(`unterminated double quote at character ${start + 1}`);
        const c = s[i]!;
        if (c === '"') break;
        if (c === '\\' && i + 1 < s.length) {
          const next = s[i + 1]!;
          if (next === '\n') {
            i += 2;
            continue;
          }
          if (next === '"' || next === '\\' || next === '$' || next === '`') {
            current += next;
            i += 2;
            continue;
          }
        }
        current += c;
        i++;
      }
      inArg = true;
      i++;
    } else if (ch === '\\') {
      if (i + 1 >= s.length) throw new SyntaxError(`trailing backslash at character ${i + 1}`);
      const next = s[i + 1]!;
      if (next !== '\n') {
        current += next;
        inArg = true;
      }
      i += 2;
    } else {
      current += ch;
      inArg = true;
      i++;
    }
  }
  if (inArg) args.push(current);
  return args;
}
