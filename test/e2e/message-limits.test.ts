/**
 * One message-size limit (`limits.max_message_size`, default 4 MiB) for the stdio front, the HTTP
 * front's request bodies and stdio backends: an oversized message is refused with an error under its
 * id, and the session keeps answering. (Backends sending oversized messages: faults.test.ts.)
 */
import { writeFileSync } from 'node:fs';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type HttpGatewayProcess,
  type StdioGateway,
  startHttpGateway,
  startStdioGateway,
  structured,
  testbedServer,
  waitForTools,
  writeConfig,
} from '../helpers/gateway.js';
import { MCP_ACCEPT, rawRequest } from '../helpers/http-raw.js';
import { waitFor } from '../helpers/wait.js';

const MiB = 1024 * 1024;
const LIMIT = 4 * MiB;

/** call_backend on the testbed's `add` with a padding string that makes the message `bytes` long. */
function addCall(gw: StdioGateway, padBytes: number) {
  return gw.client.callTool(
    {
      name: 'call_backend',
      arguments: { server: 'tb', tool: 'add', params: { a: 2, b: 3, pad: 'x'.repeat(padBytes) } },
    },
    undefined,
    { timeout: 60_000 },
  );
}

async function refusal(call: Promise<unknown>): Promise<McpError> {
  const error = await call.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(McpError);
  return error as McpError;
}

describe('message size limit over stdio (default 4MiB)', () => {
  let gw: StdioGateway;

  beforeAll(async () => {
    gw = await startStdioGateway(['--config', writeConfig(`servers:\n${testbedServer('tb')}`)]);
    await waitForTools(gw.client, ['tb__add']);
  });

  afterAll(async () => {
    await gw?.close();
  });

  it('refuses a 10 MiB call_backend with an error under its id, and the next call on the session works', async () => {
    const error = await refusal(addCall(gw, 10 * MiB));
    // The SDK client matched the answer to its request by id, so the id came back.
    expect(error.code).toBe(-32600);
    expect(error.message).toMatch(
      /Request too large: the message is \d+ bytes, over the limit of 4MiB \(limits\.max_message_size\)/,
    );
    const next = await addCall(gw, 10);
    expect(structured(next)).toEqual({ sum: 5 });
  });

  it('refuses 9.5 MB the same way, and a message just under the limit still goes through', async () => {
    const error = await refusal(addCall(gw, 9_500_000));
    expect(error.code).toBe(-32600);
    // The JSON around the padding is well under 1 KiB.
    const under = await addCall(gw, LIMIT - 1024);
    expect(structured(under)).toEqual({ sum: 5 });
    expect(gw.stderr()).toMatch(/refused a request from the client \(id \d+\): the message is \d+ bytes/);
  });

  it('answers calls sent while an oversized one is being read, in order', async () => {
    const [big, small] = await Promise.allSettled([addCall(gw, 6 * MiB), addCall(gw, 1)]);
    expect(big.status).toBe('rejected');
    expect(small.status === 'fulfilled' && structured(small.value)).toEqual({ sum: 5 });
  });
});

describe('message size limit over HTTP (limits.max_message_size: 64KiB)', () => {
  let gw: HttpGatewayProcess;

  let file: string;

  beforeAll(async () => {
    file = writeConfig('limits:\n  max_message_size: 64KiB\nservers: {}\n');
    gw = await startHttpGateway(['--config', file]);
  });

  afterAll(async () => {
    await gw?.close();
  });

  it('refuses a body over the configured limit with 413 naming the limit and the setting', async () => {
    const body = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'ping',
      params: { pad: 'x'.repeat(70_000) },
    });
    const response = await rawRequest(gw.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: MCP_ACCEPT },
      body,
    });
    expect(response.status).toBe(413);
    expect(JSON.parse(response.body).error).toEqual({
      code: -32600,
      message: 'Request body too large (limit 65536 bytes, 64KiB; set by limits.max_message_size)',
    });
  });

  it('applies a new limit from a config reload to the next request', async () => {
    const post = () =>
      rawRequest(gw.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: MCP_ACCEPT },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { pad: 'x'.repeat(70_000) } }),
      });
    await waitFor(() => gw.stderr().includes(`watching ${file} for changes`));
    writeFileSync(file, 'limits:\n  max_message_size: 128KiB\nservers: {}\n');
    // Read, not refused for size: without a session it is a 400 asking for initialize.
    await waitFor(async () => (await post()).status === 400, { timeoutMs: 15_000 });
  });
});
