/**
 * /healthz and /readyz for load balancers and Kubernetes probes, and the drain on SIGTERM: a
 * gateway stopped under load from a modern client finishes every call it accepted.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { baseOf, callTool, modernClient } from '../helpers/cluster.js';
import {
  type HttpGatewayProcess,
  startHttpGateway,
  stopProcess,
  testbedServer,
  writeConfig,
} from '../helpers/gateway.js';

const TOKEN = 'health-test-token-0123456789';
const started: HttpGatewayProcess[] = [];
afterAll(async () => {
  await Promise.all(started.map((g) => stopProcess(g.child)));
});

async function gateway(): Promise<HttpGatewayProcess> {
  const config = writeConfig(`http:\n  token: ${TOKEN}\nservers:\n${testbedServer('tb')}`);
  const gw = await startHttpGateway(['--config', config]);
  started.push(gw);
  return gw;
}

describe('health endpoints', () => {
  it('answer without a token and whatever the Host header, saying nothing but the status', async () => {
    const gw = await gateway();
    const base = baseOf(gw.url);
    // /mcp itself needs the token and a Host naming the gateway.
    expect((await fetch(gw.url, { method: 'POST', body: '{}' })).status).toBe(401);
    for (const path of ['/healthz', '/readyz']) {
      const response = await fetch(`${base}${path}`, { headers: { Host: '10.1.2.3:8080' } });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ status: 'ok' });
      expect(response.headers.get('cache-control')).toBe('no-store');
    }
    expect((await fetch(`${base}/readyz`, { method: 'POST' })).status).toBe(405);
  });
});

describe('drain on SIGTERM', () => {
  it('finishes every call in flight, refuses new ones, and exits 0', async () => {
    const gw = await gateway();
    const authed = await modernClient(gw.url, 'drain', TOKEN);
    const calls = Array.from({ length: 8 }, (_, i) =>
      callTool(authed, 'tb__sleep', { ms: 1500 + i * 50 }).then(
        (r) => (r.isError ? `error: ${JSON.stringify(r.content)}` : 'ok'),
        (err: unknown) => `failed: ${String(err)}`,
      ),
    );
    await new Promise((r) => setTimeout(r, 400));
    const exited = new Promise<number | null>((resolve) => gw.child.once('exit', (code) => resolve(code)));
    gw.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
    // Not ready any more: 503, or no connection at all once the listener closed.
    const ready = await fetch(`${baseOf(gw.url)}/readyz`).then(
      (r) => r.status,
      () => 'refused',
    );
    expect([503, 'refused']).toContain(ready);
    // A new call is refused, never started and cut off.
    const late = await callTool(authed, 'tb__echo', { x: 1 }).then(
      () => 'accepted',
      (err: unknown) => String(err),
    );
    expect(late).not.toBe('accepted');
    expect(await Promise.all(calls)).toEqual(Array(8).fill('ok'));
    expect(await exited).toBe(0);
    expect(gw.stderr()).toMatch(/shutting down \(SIGTERM\)/);
    await authed.close().catch(() => {});
  });
});
