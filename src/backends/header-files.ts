import { readFileSync } from 'node:fs';
import { GatewayError } from '../errors.js';
import { addSecretValue } from '../secrets.js';

/**
 * The headers of `headers_from_files`, read now: each file's contents without the trailing newline
 * an editor or `echo` adds. Called on every connect (start, reconnect, a reload that restarts the
 * backend), so a rotated secret file is used from the next connect. Each value is registered for
 * redaction before anything can log it; an unreadable or empty file fails the connect naming the
 * file and the header, never a value.
 */
export function headersFromFiles(
  server: string,
  files: Record<string, string> | undefined,
): Record<string, string> {
  if (!files) return {};
  const headers: Record<string, string> = {};
  for (const [name, path] of Object.entries(files)) {
    let value: string;
    try {
      value = readFileSync(path, 'utf8').replace(/[\r\n]+$/, '');
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new GatewayError(
        'BACKEND_UNAVAILABLE',
        `server '${server}': header ${name}: cannot read ${path} (${reason})`,
        {
          server,
          header: name,
          file: path,
        },
      );
    }
    if (value.trim() === '' || /[\r\n]/.test(value)) {
      throw new GatewayError(
        'BACKEND_UNAVAILABLE',
        `server '${server}': header ${name}: ${path} must hold one non-empty line`,
        { server, header: name, file: path },
      );
    }
    addSecretValue(value, `<header ${name} from ${path}>`);
    headers[name] = value;
  }
  return headers;
}
