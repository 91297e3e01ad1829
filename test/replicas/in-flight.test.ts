/**
 * Concurrency caps (`rate_limits.in_flight`) counted across replicas in Redis: a call takes a slot
 * while it runs and gives it back when answered; over a cap it is answered 429 with Retry-After; with
 * `when_redis_down: closed` and Redis away, 503.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  baseOf,
  type RedisProcess,
  type Replica,
  rawModernCall,
  startRedis,
  startReplica,
  waitReady,
} from '../helpers/cluster.js';
import { stopProcess, testbedServer, writeConfig } from '../helpers/gateway.js';
import { waitFor } from '../helpers/wait.js';

let redis: RedisProcess;
let a: Replica;
let b: Replica;

const CAPS =
  'rate_limits:\n  in_flight:\n    per_caller: 2\n    servers: { tb: 3 }\n  when_redis_down: closed\n';

beforeAll(async () => {
  redis = await startRedis();
  const yaml = `cluster:\n  redis: ${redis.url}\n${CAPS}servers:\n${testbedServer('tb')}`;
  [a, b] = await Promise.all([
    startReplica(writeConfig(yaml), 'cap-a'),
    startReplica(writeConfig(yaml), 'cap-b'),
  ]);
  await Promise.all([waitReady(a.url), waitReady(b.url)]);
}, 60_000);

afterAll(async () => {
  await Promise.all([a, b].filter(Boolean).map((r) => stopProcess(r.child)));
  await redis?.stop();
});

type Answer = Awaited<ReturnType<typeof rawModernCall>>;
const errorOf = (answer: Answer) =>
  (JSON.parse(answer.body) as { error: { message: string; data: Record<string, unknown> } }).error;

describe('concurrency caps across replicas', () => {
  it('a caller with 2 calls in flight (on two replicas) is refused a third, 429 Retry-After: 1, until one ends', async () => {
    const slow = [
      rawModernCall(a.url, 'tb__sleep', { ms: 2_500 }, 'alice'),
      rawModernCall(b.url, 'tb__sleep', { ms: 2_500 }, 'alice'),
    ];
    // Both taken (give them a moment to arrive), the third, on either replica, is over the cap.
    await new Promise((r) => setTimeout(r, 600));
    const over = await rawModernCall(a.url, 'tb__echo', {}, 'alice');
    expect(over.status).toBe(429);
    expect(over.headers.get('retry-after')).toBe('1');
    expect(errorOf(over).message).toMatch(
      /Too many calls in flight \(rate_limits\.in_flight\.per_caller: 2\) for tb__echo/,
    );
    expect(errorOf(over).data).toMatchObject({
      code: 'RATE_LIMITED',
      limit: 'rate_limits.in_flight.per_caller',
      max: 2,
    });
    // Another caller is not held up by alice's calls.
    expect((await rawModernCall(b.url, 'tb__echo', {}, 'bob')).status).toBe(200);
    expect((await Promise.all(slow)).map((r) => r.status)).toEqual([200, 200]);
    // Answered: their slots are back (a refused call took none).
    const after = await Promise.all([
      rawModernCall(a.url, 'tb__echo', {}, 'alice'),
      rawModernCall(b.url, 'tb__echo', {}, 'alice'),
    ]);
    expect(after.map((r) => r.status)).toEqual([200, 200]);
  });

  it('a per-server cap counts every caller on every replica', async () => {
    const slow = ['c1', 'c2', 'c3'].map((who, i) =>
      rawModernCall(i % 2 ? b.url : a.url, 'tb__sleep', { ms: 2_500 }, who),
    );
    await new Promise((r) => setTimeout(r, 600));
    const over = await rawModernCall(b.url, 'call_backend', { server: 'tb', tool: 'echo' }, 'c4');
    expect(over.status).toBe(429);
    expect(errorOf(over).data).toMatchObject({ limit: 'rate_limits.in_flight.servers.tb', max: 3 });
    expect((await Promise.all(slow)).map((r) => r.status)).toEqual([200, 200, 200]);
    expect((await rawModernCall(b.url, 'tb__echo', {}, 'c4')).status).toBe(200);
  });

  it('with when_redis_down: closed, a call is refused 503 while Redis is away, and served once it is back', async () => {
    await redis.stop();
    await waitFor(async () => (await fetch(`${baseOf(a.url)}/readyz`)).status === 503, {
      timeoutMs: 10_000,
    });
    const refused = await rawModernCall(a.url, 'tb__echo', {}, 'dana');
    expect(refused.status).toBe(503);
    expect(errorOf(refused).message).toMatch(/cannot be checked: Redis is unreachable/);
    await redis.restart();
    await waitReady(a.url, 15_000);
    expect((await rawModernCall(a.url, 'tb__echo', {}, 'dana')).status).toBe(200);
  }, 40_000);
});
