import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import parsePrometheusTextFormat, { type PrometheusSample } from 'parse-prometheus-text-format';
import { NODE, TESTBED } from './gateway.js';

/**
 * A pipeline that exercises what observability must show: a step, a for_each fan-out over its output
 * (three items), and a step that fails and is retried once (on_error: continue, so the run succeeds).
 */
export const FANOUT_PIPELINE = `name: fanout
description: a list, one call per item, and a retried step
steps:
  list:
    server: tb
    tool: echo
    args: { items: [a, b, c] }
  each:
    server: tb
    tool: echo
    for_each: \${{ $.steps.list.output.args.items[*] }}
    args: { item: "\${{ $.item }}" }
  flaky:
    server: tb
    tool: fail
    needs: [list]
    args: { message: flaked }
    retry: { attempts: 2, backoff: 10ms }
    on_error: continue
output:
  each: \${{ $.steps.each.output }}
`;

/** A folder with a gateway.yaml (one testbed backend `tb`, plus `extra` lines) and the fanout pipeline. */
export function writeObservedSetup(dir: string, extra = '', env: Record<string, string> = {}): string {
  mkdirSync(path.join(dir, 'pipelines'), { recursive: true });
  writeFileSync(path.join(dir, 'pipelines', 'fanout.yaml'), FANOUT_PIPELINE);
  const file = path.join(dir, 'gateway.yaml');
  writeFileSync(
    file,
    `${extra}servers:\n  tb:\n    command: ${JSON.stringify(NODE)}\n    args: ${JSON.stringify([TESTBED, '--name', 'tb'])}\n` +
      `    env: ${JSON.stringify(env)}\n`,
  );
  return file;
}

/** Parsed /metrics text: the value of one sample, by family name and labels (0 when absent). */
export function parseMetrics(text: string) {
  const families = parsePrometheusTextFormat(text);
  const find = (name: string, labels: Record<string, string>): PrometheusSample | undefined =>
    families
      .find((f) => f.name === name)
      ?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return {
    families,
    value(name: string, labels: Record<string, string> = {}): number {
      return Number(find(name, labels)?.value ?? 0);
    },
    /**
     * A histogram's sample count. Read from its `_count` line: the parser folds every labelled series
     * of a histogram into one (it handles only histograms without labels besides `le`).
     */
    count(name: string, labels: Record<string, string> = {}): number {
      for (const line of text.split('\n')) {
        const match = /^(\w+)\{(.*)\} (\S+)$/.exec(line);
        if (match?.[1] !== `${name}_count`) continue;
        const have = Object.fromEntries(
          [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
        );
        if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(match[3]);
      }
      return 0;
    },
    labelValues(name: string, label: string): string[] {
      return (families.find((f) => f.name === name)?.metrics ?? []).map((m) => m.labels?.[label] ?? '');
    },
  };
}

export async function scrape(
  url: string,
  token?: string,
): Promise<{ status: number; text: string; type: string | null }> {
  const response = await fetch(url, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  return { status: response.status, text: await response.text(), type: response.headers.get('content-type') };
}
