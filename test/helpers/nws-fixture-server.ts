/**
 * A stand-in for api.weather.gov that serves recorded NWS responses from test/fixtures/nws, so the
 * weather server can be tested without the network. Like the real API it answers unknown paths with a
 * problem+json 404 and refuses requests without a User-Agent. A few paths misbehave on purpose.
 */
import { readFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fixturesDir } from './paths.js';

export interface NwsFixture {
  url: string;
  /** Every request's path and query, in order of arrival. */
  requests: string[];
  close(): Promise<void>;
}

type Route = { file: string } | { status: number; title: string; detail: string } | 'not-json' | 'hang';

/** Keys are path plus query exactly as the weather server sends them. */
const routes: Record<string, Route> = {
  '/alerts/active?area=CA': { file: 'alerts-active-CA.json' },
  '/alerts/active?area=TX': { file: 'alerts-active-TX.json' },
  '/points/37.7749,-122.4194': { file: 'points-san-francisco.json' },
  '/gridpoints/MTR/85,105/forecast': { file: 'gridpoints-MTR-85-105-forecast.json' },
  '/alerts/active?area=NV': {
    status: 500,
    title: 'Unexpected Problem',
    detail: 'An unexpected problem has occurred.',
  },
  '/alerts/active?area=OR': 'not-json',
  '/alerts/active?area=WY': 'hang',
};

export const NWS_FIXTURE_ERROR_STATE = 'NV';
export const NWS_FIXTURE_NOT_JSON_STATE = 'OR';
export const NWS_FIXTURE_HANG_STATE = 'WY';

function sendProblem(
  res: ServerResponse,
  status: number,
  title: string,
  detail: string,
  instance: string,
): void {
  res.writeHead(status, { 'content-type': 'application/problem+json' });
  res.end(
    JSON.stringify({
      correlationId: '4f1c2a9e',
      title,
      type:
        status === 404
          ? 'https://api.weather.gov/problems/NotFound'
          : 'https://api.weather.gov/problems/Unknown',
      status,
      detail,
      instance: `https://api.weather.gov/requests/${instance}`,
    }),
  );
}

export async function startNwsFixture(): Promise<NwsFixture> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    requests.push(path);
    if (!req.headers['user-agent']) {
      sendProblem(res, 403, 'Forbidden', 'A User-Agent header is required.', 'forbidden');
      return;
    }
    const route = routes[path];
    if (route === undefined) {
      sendProblem(res, 404, 'Not Found', `'${path}' is not a valid resource path`, 'not-found');
    } else if (route === 'hang') {
      // Never answer: the client's timeout has to end it.
    } else if (route === 'not-json') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><body>Service Unavailable</body></html>');
    } else if ('file' in route) {
      res.writeHead(200, { 'content-type': 'application/geo+json' });
      res.end(readFileSync(join(fixturesDir, 'nws', route.file)));
    } else {
      sendProblem(res, route.status, route.title, route.detail, 'failed');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections(); // hanging requests would keep close() waiting forever
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
