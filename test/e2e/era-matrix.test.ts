/**
 * The era matrix: {2025, 2026} client × {2025-only, 2026} backend × {stdio, HTTP} front. Each cell
 * calls a tool with progress, answers an elicitation the backend asks mid-call (bridged across eras:
 * input_required for a 2026 client, elicitation/create for a 2025 one), reads a resource and hears
 * of its update, gets a prompt and completes its argument. Real processes throughout: the built
 * gateway, an SDK 1.x backend (era-legacy.mjs) and an SDK 2.x dual-era one spoken to in 2026-07-28
 * (era-modern.mjs).
 */
import type { ChildProcess } from 'node:child_process';
import { type Client, LOG_LEVEL_META_KEY, type Transport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ERA_LEGACY,
  ERA_MODERN,
  type Era,
  eraClient,
  eraServer,
  httpTransport,
  stdioTransport,
} from '../helpers/eras.js';
import { startHttpGateway, stopProcess, writeConfig } from '../helpers/gateway.js';
import { waitFor } from '../helpers/wait.js';

const config = writeConfig(
  `servers:\n${eraServer('old', ERA_LEGACY, 'legacy')}${eraServer('new', ERA_MODERN, 'modern')}`,
);
let http: { url: string; child: ChildProcess } | undefined;

beforeAll(async () => {
  const gw = await startHttpGateway(['--config', config]);
  http = { url: gw.url, child: gw.child };
}, 30_000);
afterAll(async () => {
  if (http) await stopProcess(http.child);
});

const fronts: [string, () => Transport][] = [
  ['HTTP', () => httpTransport(http?.url ?? '')],
  ['stdio', () => stdioTransport(config)],
];
const clientEras: Era[] = ['legacy', 'modern'];
const backends: [string, string][] = [
  ['a 2025-only backend', 'old'],
  ['a 2026 backend', 'new'],
];

const textOf = (result: unknown) =>
  ((result as { content?: { type: string; text?: string }[] }).content ?? [])
    .map((c) => c.text ?? '')
    .join('');

describe.each(fronts)('over the %s front', (_front, transport) => {
  describe.each(clientEras)('a %s client', (era) => {
    let client: Client;
    let asked: { message: string }[];
    beforeAll(async () => {
      ({ client, asked } = eraClient(era));
      await client.connect(transport());
      expect(client.getProtocolEra()).toBe(era);
      await waitFor(
        async () => {
          const names = (await client.listTools()).tools.map((t) => t.name);
          return names.includes('old__ask') && names.includes('new__ask');
        },
        { timeoutMs: 20_000 },
      );
    }, 30_000);
    afterAll(async () => {
      await client?.close();
    });

    describe.each(backends)('to %s', (_b, server) => {
      it('calls a tool and hears its progress', async () => {
        const progress: number[] = [];
        const result = await client.callTool(
          { name: `${server}__progress`, arguments: { steps: 3 } },
          { onprogress: (p) => progress.push(p.progress) },
        );
        expect(textOf(result)).toBe('done 3');
        // The SDK may drop the last notifications when the answer overtakes them (a known race).
        expect(progress[0]).toBe(1);
      });

      // A 2025 client cancels with notifications/cancelled, a 2026 one over HTTP by ending its request;
      // either way the backend hears it in its own era (notifications/cancelled, or its request aborted).
      it('cancels a call, and the backend hears of it', async () => {
        const cancels = async () => Number(textOf(await client.callTool({ name: `${server}__cancels` })));
        const before = await cancels();
        const stop = new AbortController();
        const call = client.callTool(
          { name: `${server}__wait`, arguments: { ms: 30_000 } },
          { signal: stop.signal },
        );
        await new Promise((resolve) => setTimeout(resolve, 300));
        stop.abort();
        await expect(call).rejects.toThrow();
        await waitFor(async () => (await cancels()) > before, { timeoutMs: 10_000 });
      });

      it("answers the backend's elicitation, asked mid-call", async () => {
        const before = asked.length;
        const result = await client.callTool({
          name: `${server}__ask`,
          arguments: { question: `Who calls ${server}?` },
        });
        expect(result.isError, textOf(result)).toBeFalsy();
        expect(textOf(result)).toBe('hello Ada');
        expect(asked.slice(before).map((a) => a.message)).toEqual([`Who calls ${server}?`]);
      });

      // A 2026 client listens (subscriptions/listen): the gateway watches the resource on the backend
      // (resources/subscribe on a 2025 one, its own listen stream on a 2026 one).
      it('reads a resource and hears of its update', async () => {
        const listed = await client.listResources();
        const uri = listed.resources.find((r) => r.uri.includes(server) && r.uri.includes('era://note'))?.uri;
        expect(uri, JSON.stringify(listed.resources)).toBeDefined();
        const read = await client.readResource({ uri: uri as string });
        expect((read.contents[0] as { text: string }).text).toMatch(/^note \d+$/);
        const updates: string[] = [];
        client.setNotificationHandler('notifications/resources/updated', (n) => {
          updates.push(n.params.uri);
        });
        let stop: { close(): Promise<void> } | undefined;
        if (era === 'modern') stop = await client.listen({ resourceSubscriptions: [uri as string] });
        else await client.subscribeResource({ uri: uri as string });
        try {
          await client.callTool({ name: `${server}__touch`, arguments: {} });
          await waitFor(() => updates.includes(uri as string), { timeoutMs: 10_000 });
        } finally {
          if (stop) await stop.close();
          else await client.unsubscribeResource({ uri: uri as string });
        }
      });

      // A 2025 client sets its level for the session (logging/setLevel); a 2026 client asks per request
      // in `_meta`, and gets the backend's messages of that call on its response stream. Either way a
      // 2026 backend gets the level in its request's `_meta`, a 2025 one through logging/setLevel.
      it('hears the backend log at the level it set', async () => {
        const heard: string[] = [];
        client.setNotificationHandler('notifications/message', (n) => {
          heard.push(`${n.params.logger} ${String(n.params.data)}`);
        });
        const log = (message: string, level?: string) =>
          client.callTool({
            name: `${server}__log`,
            arguments: { message },
            ...(level ? { _meta: { [LOG_LEVEL_META_KEY]: level } } : {}),
          });
        if (era === 'legacy') {
          await client.setLoggingLevel('info');
          await log(`from ${server}`);
        } else {
          // Below the request's level (the fixture logs at info), and with no level: nothing is sent.
          await log(`quiet ${server}`, 'warning');
          await log(`unasked ${server}`);
          await log(`from ${server}`, 'info');
        }
        await waitFor(() => heard.includes(`${server}/era from ${server}`), { timeoutMs: 10_000 });
        expect(heard.filter((h) => h.includes(`quiet ${server}`) || h.includes(`unasked ${server}`))).toEqual(
          [],
        );
      });

      it('gets a prompt and completes its argument', async () => {
        const prompt = await client.getPrompt({ name: `${server}__greet`, arguments: { name: 'Grace' } });
        expect(JSON.stringify(prompt.messages[0]?.content)).toContain('Hello, Grace');
        const completed = await client.complete({
          ref: { type: 'ref/prompt', name: `${server}__greet` },
          argument: { name: 'name', value: 'A' },
        });
        expect(completed.completion.values).toEqual(['Ada', 'Alan']);
      });
    });
  });
});
