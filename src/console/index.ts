/**
 * The web console at /console (`http.console: true`): a page (src/console-ui, bundled at build time)
 * and the JSON API it reads, behind the same checks as /mcp. The front imports this module only when
 * the console is on, so it costs nothing otherwise.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorMessage, isGatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import { secrets } from '../secrets.js';
import type { AuthorizedRequest, ConsoleHandler, ConsoleHost } from './host.js';
import { LiveStreams } from './live.js';
import { CALLBACK_PATH, exchangeCode, signInView } from './oauth.js';
import { RunJournal } from './run-journal.js';
import { SECURITY_HEADERS, serveStatic } from './static-files.js';

export type {
  AuthorizedRequest,
  ConsoleHandler,
  ConsoleHost,
  ConsoleOAuthClient,
  RunWatch,
  RunWatcher,
} from './host.js';
export { CONTENT_SECURITY_POLICY } from './static-files.js';
export type {
  BackendView,
  LiveEvent,
  PipelineView,
  RunView,
  SignInView,
  ToolView,
} from './types.js';

export const CONSOLE_PATH = '/console';
const API = `${CONSOLE_PATH}/api/`;

export function createConsole(host: ConsoleHost, logger: Logger): ConsoleHandler {
  const journal = new RunJournal();
  const offRuns = host.watchRuns(journal.watcher);
  const live = new LiveStreams(host, journal);

  const api = async (req: IncomingMessage, res: ServerResponse, route: string, who: AuthorizedRequest) => {
    const get = req.method === 'GET';
    const post = req.method === 'POST';
    if (get && route === 'whoami') return send(res, 200, who.whoami);
    if (get && route === 'backends') return send(res, 200, { backends: await host.backends() });
    if (get && route === 'tools') return send(res, 200, { tools: host.tools(who) });
    if (get && route === 'pipelines') return send(res, 200, { pipelines: host.pipelines(who) });
    if (get && route === 'runs') return send(res, 200, { runs: journal.list() });
    if (get && route === 'events') return live.open(res);
    if (post && route === 'tools/call') {
      const body = await readBody(req, res, host.maxBodyBytes());
      if (!body) return;
      const { name, arguments: args } = body as { name?: unknown; arguments?: unknown };
      if (typeof name !== 'string' || !isObject(args ?? {}))
        return send(res, 400, { error: 'expected {name: string, arguments?: object}' });
      // The call ends when the page goes away, as a client's cancellation would end it.
      const controller = new AbortController();
      res.once('close', () => controller.abort());
      const result = await host.callTool(
        who,
        name,
        (args ?? {}) as Record<string, unknown>,
        controller.signal,
      );
      return send(res, 200, result);
    }
    if (post && route === 'runs') {
      const body = await readBody(req, res, host.maxBodyBytes());
      if (!body) return;
      const { pipeline, inputs } = body as { pipeline?: unknown; inputs?: unknown };
      if (typeof pipeline !== 'string' || !isObject(inputs ?? {}))
        return send(res, 400, { error: 'expected {pipeline: string, inputs?: object}' });
      const since = Date.now();
      try {
        await host.startRun(who, pipeline, (inputs ?? {}) as Record<string, unknown>);
      } catch (err) {
        const code = isGatewayError(err) ? err.code : 'INTERNAL';
        return send(res, code === 'INTERNAL' ? 500 : 400, {
          error: secrets.redact(errorMessage(err)),
          code,
        });
      }
      return send(res, 202, { run: journal.latest(pipeline, since) ?? null });
    }
    return send(res, 404, { error: `No such console API: ${req.method} ${route}` });
  };

  return {
    async handle(req, res, pathname) {
      // On every answer, the refusals the front's checks write included.
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
      if (pathname === CONSOLE_PATH) {
        // Relative asset paths in the page resolve under /console/.
        res.writeHead(308, { ...SECURITY_HEADERS, Location: `${CONSOLE_PATH}/` });
        res.end();
        return;
      }
      if (pathname === `${API}sign-in` || pathname === `${API}oauth/token`) {
        // Before sign-in, so without a token: what the page needs to get one (Host and Origin checked).
        if (!host.checkOrigin(req, res)) return;
        try {
          if (req.method === 'GET' && pathname === `${API}sign-in`)
            return send(res, 200, await signInView(host.oauthClient(), logger));
          if (req.method === 'POST' && pathname === `${API}oauth/token`) {
            const body = await readBody(req, res, host.maxBodyBytes());
            if (body === undefined) return;
            return await exchangeCode(host.oauthClient(), body, res, send, logger);
          }
          return send(res, 405, { error: 'Method not allowed' });
        } catch (err) {
          logger.warn(`console ${req.method} ${pathname}: ${errorMessage(err)}`);
          if (!res.headersSent) send(res, 500, { error: 'Internal error' });
          return;
        }
      }
      if (pathname.startsWith(API)) {
        const who = await host.authorize(req, res);
        if (!who) return;
        try {
          await api(req, res, pathname.slice(API.length), who);
        } catch (err) {
          logger.warn(`console ${req.method} ${pathname}: ${errorMessage(err)}`);
          if (!res.headersSent) send(res, 500, { error: 'Internal error' });
          else res.end();
        }
        return;
      }
      // The page holds no data (that comes from the API, token required), so it is served to anyone
      // who passes the Host and Origin checks — the sign-in form is part of it.
      if (!host.checkOrigin(req, res)) return;
      if (req.method !== 'GET' && req.method !== 'HEAD')
        return send(res, 405, { error: 'Method not allowed' });
      // The issuer sends the person back here; the page reads the code and replaces the URL.
      if (pathname === CALLBACK_PATH) return serveStatic(res, '');
      return serveStatic(res, pathname.slice(CONSOLE_PATH.length + 1));
    },
    close() {
      offRuns();
      live.close();
    },
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'Content-Type': 'application/json',
    'Cache-Control': 'no-store',
  });
  res.end(JSON.stringify(body));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The JSON body within `limit` bytes; answers 413 or 400 itself and resolves undefined. */
function readBody(req: IncomingMessage, res: ServerResponse, limit: number): Promise<unknown> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit && !refused) {
        refused = true;
        res.setHeader('Connection', 'close');
        send(res, 413, { error: `Request body too large (limit ${limit} bytes)` });
        resolve(undefined);
      } else if (!refused) chunks.push(chunk);
    });
    req.once('end', () => {
      if (refused) return;
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        send(res, 400, { error: 'The body is not JSON' });
        resolve(undefined);
      }
    });
    req.once('error', () => resolve(undefined));
  });
}
