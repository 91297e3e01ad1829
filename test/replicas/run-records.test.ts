// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} and ${VAR} are the pipeline and config syntax
/**
 * Records of recent pipeline runs in Redis: a run on one replica is listed, with its status and step
 * results, by `list_pipelines` with `runs` on another; secrets in a step's error are redacted there as
 * in the run's own answer; the store keeps the newest runs only.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisRunStore } from '../../src/cluster/index.js';
import {
  callTool,
  modernClient,
  type RedisProcess,
  type Replica,
  startRedis,
  startReplica,
  structured,
  waitReady,
} from '../helpers/cluster.js';
import { stopProcess, tempDir, testbedServer, writeConfig } from '../helpers/gateway.js';

const SECRET = 'run-secret-5e2b9c71d4';
let redis: RedisProcess;
let a: Replica;
let b: Replica;

const PIPELINE = [
  'name: greet',
  'steps:',
  '  hello: { server: tb, tool: echo, args: { who: ada } }',
  '  leaky:',
  '    server: tb',
  '    tool: fail',
  `    args: { message: "denied with token ${SECRET}" }`,
  '    needs: [hello]',
  'output: "${{ $.steps.hello.output }}"',
].join('\n');

interface Listed {
  runs: {
    id: string;
    pipeline: string;
    replica: string;
    status: string;
    failedStep?: string;
    error?: string;
    steps: Record<string, { status: string; attempts: number; error?: string }>;
  }[];
}

beforeAll(async () => {
  redis = await startRedis();
  const dir = tempDir();
  mkdirSync(path.join(dir, 'pipelines'));
  writeFileSync(path.join(dir, 'pipelines', 'greet.yaml'), PIPELINE);
  const config = writeConfig(
    `cluster:\n  redis: ${redis.url}\npipelines: pipelines\nservers:\n${testbedServer('tb', [], '    env: { KEY: "${RUN_SECRET}" }\n')}`,
    dir,
  );
  const env = { RUN_SECRET: SECRET };
  [a, b] = await Promise.all([startReplica(config, 'runs-a', env), startReplica(config, 'runs-b', env)]);
  await Promise.all([waitReady(a.url), waitReady(b.url)]);
}, 60_000);

afterAll(async () => {
  await Promise.all([a, b].filter(Boolean).map((r) => stopProcess(r.child)));
  await redis?.stop();
});

describe('pipeline run records across replicas', () => {
  it('a run on one replica is listed, with status and step results, on another; redacted', async () => {
    const onA = await modernClient(a.url);
    const onB = await modernClient(b.url);
    try {
      const run = await callTool(onA, 'pipeline__greet');
      expect(structured(run)).toMatchObject({ status: 'failed', failedStep: 'leaky' });
      const listed = structured<Listed>(await callTool(onB, 'list_pipelines', { runs: 5 }));
      const [latest] = listed.runs;
      expect(latest).toMatchObject({
        pipeline: 'greet',
        replica: 'runs-a',
        status: 'failed',
        failedStep: 'leaky',
      });
      expect(latest?.steps.hello).toMatchObject({ status: 'succeeded', attempts: 1 });
      expect(latest?.steps.leaky?.status).toBe('failed');
      expect(latest?.steps.leaky?.error).toContain('denied with token');
      expect(JSON.stringify(listed)).not.toContain(SECRET);
      const text = (await callTool(onB, 'list_pipelines', { runs: 1 })).content[0] as { text: string };
      expect(text.text).toMatch(/1 recent run, newest first:\n.* greet failed in \d+ ms on runs-a/);
      // Without `runs`, list_pipelines answers as before.
      expect(structured(await callTool(onB, 'list_pipelines'))).not.toHaveProperty('runs');
    } finally {
      await onA.close();
      await onB.close();
    }
  });

  it('keeps the newest runs only, deleting the records it drops', async () => {
    const client = new Redis(redis.url);
    try {
      const store = new RedisRunStore(client, 'bound-test', 3);
      for (let i = 0; i < 5; i++) await store.put({ id: `r${i}`, startedAt: 1000 + i });
      expect((await store.recent(10)).map((r) => r.id)).toEqual(['r4', 'r3', 'r2']);
      expect(await client.exists('bound-test:run:r0', 'bound-test:run:r1')).toBe(0);
      expect(await client.pttl('bound-test:run:r4')).toBeGreaterThan(0);
    } finally {
      client.disconnect();
    }
  });
});
