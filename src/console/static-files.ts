/**
 * The console's page: the files esbuild bundled into dist/console-ui at build time (no CDN: the page
 * works offline), served with headers that keep what it shows from running anything — a strict
 * Content-Security-Policy (scripts from this origin only, none inline), no sniffing, no framing.
 */
import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `style-src 'unsafe-inline'`: Mermaid writes each graph's styles as a `<style>` element inside its
 * SVG, which a stricter policy would block (the graph would be drawn unstyled). Styles cannot run
 * code, and scripts stay 'self' only; `img-src data:` shows the images tools return.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Sent with every answer under /console, the API's included. */
export const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

/** Where `npm run build` puts the bundle: dist/console-ui beside dist/console. */
export const UI_DIR = fileURLToPath(new URL('../console-ui/', import.meta.url));

/** A file name under the bundle folder: letters, digits, `-`, `_`, `.`, one folder deep at most, no `..`. */
const SAFE_NAME = /^(?:[\w-]+\/)?[\w-]+(?:\.[\w-]+)+$/;

/** Serves `/console/<rest>`: the page for '' and 'index.html', a bundled file otherwise, else 404. */
export async function serveStatic(res: ServerResponse, rest: string, dir = UI_DIR): Promise<void> {
  const name = rest === '' ? 'index.html' : rest;
  if (!SAFE_NAME.test(name) || name.includes('..')) return notFound(res);
  const type = TYPES[extname(name)];
  if (!type) return notFound(res);
  let body: Buffer;
  try {
    body = await readFile(join(dir, name));
  } catch {
    if (name === 'index.html') {
      res.writeHead(503, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('The console page is not built: run `npm run build`.\n');
      return;
    }
    return notFound(res);
  }
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'Content-Type': type,
    'Content-Length': String(body.length),
    'Cache-Control': name === 'index.html' ? 'no-cache' : 'public, max-age=300',
  });
  res.end(body);
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { ...SECURITY_HEADERS, 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ error: 'Not found' }));
}
