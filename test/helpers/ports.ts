import { createServer } from 'node:net';

/**
 * A loopback port free now, for a process that must know its own URL before it starts (an OAuth
 * audience, a redirect URI, a replica's advertised address). Another process may take it meanwhile;
 * on this test machine that has not been seen.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}
