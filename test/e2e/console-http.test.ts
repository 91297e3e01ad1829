/**
 * The web console's HTTP face, without a browser: off by default (404, nothing loaded); on, the page
 * with its security headers and no inline script, the API behind the token and the Host/Origin
 * checks, a run started by an ordinary MCP client seen in the run journal and on the live stream.
 */
import { cpSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsoleGateway, startConsoleGateway } from '../helpers/console.js';
import { connectHttp, ROOT, tempDir } from '../helpers/gateway.js';
import { rawRequest } from '../helpers/http-raw.js';
import { waitFor } from '../helpers/wait.js';

interface RunJson {
  id: string;
  pipeline: string;
  state: string;
  steps: {
    id: string;
    state: string;
    start?: number;
    end?: number;
    calls: { item?: number; start: number; end?: number }[];
  }[];
}

describe('the web console over HTTP', () => {
  let gw: ConsoleGateway;
  const pipelines = tempDir('mcp-gateway-console-pipelines-');
  const auth = () => ({ Authorization: `Bearer ${gw.token}` });
  const get = (path: string, headers: Record<string, string> = {}) =>
    rawRequest(`${gw.base}${path}`, { method: 'GET', headers });

  beforeAll(async () => {
    cpSync(path.join(ROOT, 'pipelines'), pipelines, { recursive: true });
    gw = await startConsoleGateway({ pipelinesDir: pipelines });
  }, 30_000);
  afterAll(async () => {
    await gw?.close();
  });

  it('serves the page with a strict Content-Security-Policy and no inline script', async () => {
    const moved = await get('/console');
    expect(moved.status).toBe(308);
    expect(moved.headers.location).toBe('/console/');
    const page = await get('/console/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-eval');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    // Every script is a file from this origin.
    expect(page.body).toMatch(/<script type="module" src="main.js"><\/script>/);
    expect(page.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    const script = await get('/console/main.js');
    expect(script.status).toBe(200);
    expect(script.headers['content-type']).toContain('text/javascript');
  });

  it('serves nothing outside its bundle', async () => {
    for (const path of [
      '/console/..%2F..%2Fpackage.json',
      '/console/chunks/..%2Findex.html',
      '/console/x.ts',
    ])
      expect((await get(path)).status, path).toBe(404);
  });

  it('answers the API only with the token', async () => {
    expect((await get('/console/api/backends')).status).toBe(401);
    expect((await get('/console/api/backends', { Authorization: 'Bearer wrong' })).status).toBe(401);
    const ok = await get('/console/api/backends', auth());
    expect(ok.status).toBe(200);
    expect(ok.headers['content-security-policy']).toBeDefined();
    const names = (JSON.parse(ok.body) as { backends: { name: string }[] }).backends.map((b) => b.name);
    expect(names).toEqual(['weather', 'sqlite', 'filesystem']);
  });

  it('checks Host and Origin as /mcp does, for the page and the API', async () => {
    const evilHost = { Host: 'evil.example' };
    expect((await get('/console/', evilHost)).status).toBe(403);
    expect((await get('/console/api/backends', { ...auth(), ...evilHost })).status).toBe(403);
    const evilOrigin = { Origin: 'http://evil.example' };
    expect((await get('/console/', evilOrigin)).status).toBe(403);
    expect((await get('/console/api/backends', { ...auth(), ...evilOrigin })).status).toBe(403);
    // The page's own origin is fine.
    const own = { Origin: gw.base };
    expect((await get('/console/api/whoami', { ...auth(), ...own })).status).toBe(200);
  });

  it('refuses bad runs and unknown tools with what went wrong', async () => {
    const post = (path: string, body: unknown) =>
      rawRequest(`${gw.base}${path}`, { headers: auth(), body: JSON.stringify(body) });
    const badInputs = await post('/console/api/runs', { pipeline: 'database-report', inputs: { limit: 0 } });
    expect(badInputs.status).toBe(400);
    expect(JSON.parse(badInputs.body)).toMatchObject({ code: 'PARAMS_INVALID' });
    const unknown = await post('/console/api/runs', { pipeline: 'nope', inputs: {} });
    expect(JSON.parse(unknown.body)).toMatchObject({ code: 'PIPELINE_UNKNOWN' });
    const tool = await post('/console/api/tools/call', { name: 'nope__nothing', arguments: {} });
    expect(tool.status).toBe(200);
    expect(JSON.parse(tool.body)).toMatchObject({
      isError: true,
      structuredContent: { code: 'TOOL_UNKNOWN' },
    });
  });

  it('records a run started by any MCP client, with each call timed, and streams it live', async () => {
    // Follow the live stream first, as the page does.
    const stream = new AbortController();
    const events = await fetch(`${gw.base}/console/api/events`, { headers: auth(), signal: stream.signal });
    expect(events.headers.get('content-type')).toContain('text/event-stream');
    const seen: RunJson[] = [];
    const reading = (async () => {
      const reader = events.body!.pipeThrough(new TextDecoderStream()).getReader();
      let text = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        text += value;
        for (const m of text.matchAll(/^data: (.*)$/gm)) {
          const event = JSON.parse(m[1] as string) as { type: string; run?: RunJson };
          if (event.type === 'run' && event.run) seen.push(event.run);
        }
        text = text.slice(text.lastIndexOf('\n\n') + 2);
        if (seen.some((r) => r.state === 'succeeded')) return;
      }
    })();

    const client = await connectHttp(`${gw.base}/mcp`, { token: gw.token });
    const result = await client.callTool({ name: 'pipeline__database-report', arguments: { limit: 3 } });
    expect(result.isError).toBeFalsy();
    await client.close();
    await reading;
    stream.abort();
    expect(seen[0]?.state).toBe('running');

    const { runs } = JSON.parse((await get('/console/api/runs', auth())).body) as { runs: RunJson[] };
    const run = runs[0]!;
    expect(run.pipeline).toBe('database-report');
    expect(run.state).toBe('succeeded');
    expect(run.steps.map((s) => [s.id, s.state])).toEqual([
      ['tables', 'succeeded'],
      ['schemas', 'succeeded'],
      ['top_customers', 'succeeded'],
    ]);
    const schemas = run.steps.find((s) => s.id === 'schemas')!;
    // One call per table; every call lies inside its step's span, exactly: calls and steps are timed
    // by one clock (the engine's), so there is no slack to allow.
    expect(schemas.calls.map((c) => c.item).sort()).toEqual([0, 1, 2]);
    for (const step of run.steps) {
      expect(step.calls.length, step.id).toBeGreaterThan(0);
      for (const call of step.calls) {
        expect(call.start).toBeGreaterThanOrEqual(step.start!);
        expect(call.end).toBeGreaterThanOrEqual(call.start);
        expect(call.end).toBeLessThanOrEqual(step.end!);
      }
    }
    const tables = run.steps.find((s) => s.id === 'tables')!;
    expect(schemas.start!).toBeGreaterThanOrEqual(tables.end!);
  });

  it("shows a broken pipeline file's problems at line:column, its last good version still serving", async () => {
    const list = async () =>
      (JSON.parse((await get('/console/api/pipelines', auth())).body) as { pipelines: PipelineJson[] })
        .pipelines;
    const before = (await list()).find((p) => p.name === 'weather-analysis')!;
    expect(before).toMatchObject({ valid: true, serving: true });
    expect(before.mermaid).toMatch(/^flowchart TD/);
    const file = path.join(pipelines, 'weather-analysis.yaml');
    writeFileSync(
      file,
      'name: weather-analysis\nsteps:\n  a:\n    server: weather\n    tool: get_alerts\n    needs: [nowhere]\n',
    );
    const broken = await waitFor(
      async () => {
        const entry = (await list()).find((p) => p.name === 'weather-analysis');
        return entry && !entry.valid ? entry : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 200 },
    );
    expect(broken.serving).toBe(true);
    // The last good version is what is drawn and served.
    expect(broken.mermaid).toBe(before.mermaid);
    expect(broken.issues[0]).toMatchObject({ line: 6 });
    expect(broken.issues[0]?.message).toContain('nowhere');
  });

  it('streams the backends as they change (last: it removes one)', async () => {
    const stream = new AbortController();
    const events = await fetch(`${gw.base}/console/api/events`, { headers: auth(), signal: stream.signal });
    const gone = (async () => {
      const reader = events.body!.pipeThrough(new TextDecoderStream()).getReader();
      let text = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return false;
        text += value;
        for (const m of text.matchAll(/^data: (.*)$/gm)) {
          const event = JSON.parse(m[1] as string) as { type: string; backends?: { name: string }[] };
          if (event.type === 'backends' && !event.backends!.some((b) => b.name === 'filesystem')) return true;
        }
      }
    })();
    const client = await connectHttp(`${gw.base}/mcp`, { token: gw.token });
    await client.callTool({ name: 'remove_server', arguments: { name: 'filesystem' } });
    await client.close();
    expect(await gone).toBe(true);
    stream.abort();
  });
});

interface PipelineJson {
  name: string;
  valid: boolean;
  serving: boolean;
  mermaid?: string;
  issues: { line: number; column: number; message: string }[];
}

describe('the web console when off (the default)', () => {
  let gw: ConsoleGateway;
  beforeAll(async () => {
    gw = await startConsoleGateway({ console: false });
  }, 30_000);
  afterAll(async () => {
    await gw?.close();
  });

  it('is not there: 404 for the page and the API', async () => {
    for (const path of ['/console', '/console/', '/console/api/backends']) {
      const res = await rawRequest(`${gw.base}${path}`, {
        method: 'GET',
        headers: { Authorization: `Bearer ${gw.token}` },
      });
      expect(res.status, path).toBe(404);
    }
  });
});
