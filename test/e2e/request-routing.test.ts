import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  type CallToolResult,
  type CreateMessageRequest,
  CreateMessageRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type HttpGatewayProcess,
  NODE,
  ROOT,
  startHttpGateway,
  stopProcess,
  tempDir,
  textOf,
  waitForTools,
  writeConfig,
} from '../helpers/gateway.js';
import { readTestbedLog } from '../helpers/testbed-log.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Where a backend's sampling request goes when calls of two client sessions run on that backend at
 * once: to the session whose call it belongs to (HTTP backend: the SDK sends it on that call's response
 * stream), and to nobody when that cannot be told (stdio backend). Real gateway over Streamable HTTP,
 * two SDK Client sessions, the asker fixture as the backend.
 */

const ASKER = path.join(ROOT, 'test/fixtures/servers/asker.mjs');
const CALL_TIMEOUT = { timeout: 90_000 };

interface Session {
  client: Client;
  /** The sampling requests this session's client was asked. */
  asked: CreateMessageRequest['params'][];
}

/** A client session that declares sampling and answers `session<n> saw: <the prompt>`. */
async function connectSession(url: string, n: number): Promise<Session> {
  const asked: CreateMessageRequest['params'][] = [];
  const client = new Client({ name: `session${n}`, version: '1.0.0' }, { capabilities: { sampling: {} } });
  client.setRequestHandler(CreateMessageRequestSchema, async ({ params }) => {
    asked.push(params);
    const prompt = params.messages[0]?.content;
    const text = prompt && 'text' in prompt ? prompt.text : '';
    return { model: 'test', role: 'assistant', content: { type: 'text', text: `session${n} saw: ${text}` } };
  });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return { client, asked };
}

function ask(session: Session, args: Record<string, unknown>): Promise<CallToolResult> {
  return session.client.callTool(
    { name: 'asker__ask', arguments: args },
    undefined,
    CALL_TIMEOUT,
  ) as Promise<CallToolResult>;
}

let roundSeq = 0;

/**
 * `first` calls ask and samples; once the backend has that call, `second` calls ask without sampling,
 * and both run until the sampling is over. The sampling call is the older one: the gateway before the
 * fix sent a backend's request to the newest call's session, so to `second`.
 */
async function overlap(
  log: string,
  first: Session,
  second: Session,
): Promise<{ sampled: CallToolResult; other: CallToolResult }> {
  const round = `r${++roundSeq}`;
  const sampled = ask(first, { label: `first-${round}`, round, wait_for: 2, sample: true });
  await waitFor(() => readTestbedLog<{ round?: string }>(log).some((e) => e.round === round), {
    timeoutMs: 30_000,
    message: 'the backend has the first call',
  });
  const other = ask(second, { label: `second-${round}`, round, wait_for: 2, sample: false });
  return { sampled: await sampled, other: await other };
}

function resetAsked(...sessions: Session[]): void {
  for (const s of sessions) s.asked.length = 0;
}

describe('a backend request from an HTTP backend goes to the session of the call it belongs to', () => {
  let backend: ChildProcess;
  let gw: HttpGatewayProcess;
  let one: Session;
  let two: Session;
  const log = path.join(tempDir(), 'asker.log');

  beforeAll(async () => {
    backend = spawn(NODE, [ASKER, '--http'], {
      env: { ...process.env, ASKER_LOG: log },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    const url = await new Promise<string>((resolve, reject) => {
      backend.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const match = /listening on (http:\/\/\S+)/.exec(stderr);
        if (match?.[1]) resolve(match[1]);
      });
      backend.once('exit', (code) => reject(new Error(`asker exited with ${code}: ${stderr}`)));
    });
    const config = writeConfig(`servers:\n  asker:\n    url: ${url}\n`);
    gw = await startHttpGateway(['--config', config, '--no-watch']);
    one = await connectSession(gw.url, 1);
    two = await connectSession(gw.url, 2);
    await waitForTools(one.client, ['asker__ask']);
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled([one?.client.close(), two?.client.close()]);
    await gw?.close();
    if (backend) await stopProcess(backend);
  });

  it.each([
    ['session 1 samples, session 2 runs a call meanwhile', () => [one, two] as const],
    ['session 2 samples, session 1 runs a call meanwhile', () => [two, one] as const],
  ])(
    '%s',
    async (_name, pick) => {
      const [sampler, bystander] = pick();
      resetAsked(one, two);
      const { sampled, other } = await overlap(log, sampler, bystander);
      const n = sampler === one ? 1 : 2;
      expect(sampled.isError, textOf(sampled)).toBeFalsy();
      expect(textOf(sampled)).toMatch(new RegExp(`^session${n} saw: secret of first-r\\d+$`));
      expect(textOf(other)).toMatch(/^second-r\d+ done$/);
      expect(bystander.asked).toEqual([]);
      expect(sampler.asked).toHaveLength(1);
      // The gateway's own mark of the call does not reach the client.
      expect(JSON.stringify(sampler.asked[0])).not.toContain('mcp-gateway/');
    },
    120_000,
  );

  it('refuses a request the backend sent related to no call (standalone stream), asking nobody', async () => {
    resetAsked(one, two);
    const result = (await one.client.callTool(
      { name: 'asker__ask_unrelated', arguments: { label: 'nobody' } },
      undefined,
      CALL_TIMEOUT,
    )) as CallToolResult;
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain("sampling/createMessage from server 'asker' was not forwarded");
    expect(textOf(result)).toContain('did not come as part of a tool call');
    expect(one.asked).toEqual([]);
    expect(two.asked).toEqual([]);
  }, 60_000);
});

describe('a backend request from a stdio backend is never guessed', () => {
  let gw: HttpGatewayProcess;
  let one: Session;
  let two: Session;
  const log = path.join(tempDir(), 'asker.log');

  beforeAll(async () => {
    const config = writeConfig(
      [
        'servers:',
        '  asker:',
        `    command: ${JSON.stringify(NODE)}`,
        `    args: ${JSON.stringify([ASKER])}`,
        `    env: { ASKER_LOG: ${JSON.stringify(log)} }`,
        '',
      ].join('\n'),
    );
    gw = await startHttpGateway(['--config', config, '--no-watch']);
    one = await connectSession(gw.url, 1);
    two = await connectSession(gw.url, 2);
    await waitForTools(one.client, ['asker__ask']);
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled([one?.client.close(), two?.client.close()]);
    await gw?.close();
  });

  it('refuses it while calls of two sessions run, asking neither', async () => {
    resetAsked(one, two);
    const { sampled, other } = await overlap(log, one, two);
    expect(sampled.isError).toBe(true);
    expect(textOf(sampled)).toContain("sampling/createMessage from server 'asker' was not forwarded");
    expect(textOf(sampled)).toContain('of 2 client sessions were running on it');
    expect(textOf(sampled)).toContain('over Streamable HTTP');
    expect(textOf(other)).toMatch(/^second-r\d+ done$/);
    expect(one.asked).toEqual([]);
    expect(two.asked).toEqual([]);
  }, 120_000);

  it("refuses it while another session's prompts/get runs on the backend, asking neither", async () => {
    resetAsked(one, two);
    const round = `r${++roundSeq}`;
    const sampled = ask(one, { label: 'first', round, wait_for: 2, sample: true });
    await waitFor(() => readTestbedLog<{ round?: string }>(log).some((e) => e.round === round), {
      timeoutMs: 30_000,
      message: 'the backend has the first call',
    });
    const prompt = await two.client.getPrompt({ name: 'asker__wait', arguments: { label: 'second', round } });
    const result = await sampled;
    expect(result.isError).toBe(true);
    // The prompts/get is tied to its session like a tool call (what the backend asks during it goes to
    // that session): two sessions' requests run, so the sampling is not guessed.
    expect(textOf(result)).toContain('of 2 client sessions were running');
    expect(JSON.stringify(prompt.messages)).toContain('second done');
    expect(one.asked).toEqual([]);
    expect(two.asked).toEqual([]);
  }, 120_000);

  it('forwards it to the one session whose call runs, as before', async () => {
    resetAsked(one, two);
    const round = `alone-${++roundSeq}`;
    const result = await ask(one, { label: 'alone', round, wait_for: 1, sample: true });
    expect(textOf(result)).toBe('session1 saw: secret of alone');
    expect(two.asked).toEqual([]);
  }, 60_000);

  it('forwards it when every call running is of that one session', async () => {
    resetAsked(one, two);
    const { sampled, other } = await overlap(log, two, two);
    expect(textOf(sampled)).toMatch(/^session2 saw: secret of first-r\d+$/);
    expect(textOf(other)).toMatch(/^second-r\d+ done$/);
    expect(one.asked).toEqual([]);
  }, 120_000);
});
