/**
 * The web console signing in through a real authorization server (oidc-provider in this process)
 * with the authorization code flow and PKCE, in a real headless browser: the page sends the person
 * to the issuer, who logs in and consents on the issuer's own pages, comes back to /console/callback,
 * and sees the backends. A caller no rule lets use the console is refused (403 shown); a token the
 * gateway stops accepting sends the person back to sign in; a callback that is not this tab's is
 * refused.
 */
import { existsSync } from 'node:fs';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpGatewayProcess } from '../helpers/gateway.js';
import { startIssuer, type TestIssuer } from '../helpers/oidc-issuer.js';
import { freePort } from '../helpers/ports.js';
import { startTokenBackend } from '../helpers/token-backend.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const TOKEN_KEY = 'mcp-gateway-console-token';

describe('console sign-in through the authorization server', () => {
  let issuer: TestIssuer;
  let gw: HttpGatewayProcess;
  let base: string;
  let browser: Browser;
  const problems: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM} (apt-get install chromium)`);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    issuer = await startIssuer({ consoleRedirects: [`${base}/console/callback`] });
    const rules = `    rules:
      - name: admins
        when: { groups: [admins] }
        servers: ['*']
        meta: ['*']
      - name: analysts
        when: { groups: [analysts] }
        servers: [tb]
`;
    const login = '  console:\n    client_id: console\n    scopes: [openid, mcp]\n';
    gw = (await startTokenBackend({ issuer: issuer.issuer, auth: rules }, { port, http: login })).gateway;
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await gw?.close();
    await issuer?.close();
  });

  /** A fresh tab with its own cookies and storage (so the issuer asks who it is). */
  async function freshPage(): Promise<Page> {
    const context = await browser.createBrowserContext();
    const page = await context.newPage();
    page.on('pageerror', (err) => problems.push(String(err)));
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource'))
        problems.push(msg.text());
    });
    return page;
  }

  /** Clicks "Sign in with …" and logs in as `user` on the issuer's pages, back to the console. */
  async function signIn(page: Page, user: string): Promise<void> {
    await page.goto(`${base}/console/`);
    await page.waitForSelector('#oauth-sign-in');
    await Promise.all([page.waitForNavigation(), page.click('#oauth-sign-in')]);
    for (let step = 0; step < 4 && !page.url().startsWith(base); step++) {
      if (await page.$('input[name="login"]')) {
        await page.type('input[name="login"]', user);
        await page.type('input[name="password"]', 'any');
      }
      await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
    }
    expect(page.url().startsWith(`${base}/console/callback?`)).toBe(true);
  }

  it('signs in with authorization code + PKCE and shows the backends', async () => {
    const page = await freshPage();
    const authorizeUrls: string[] = [];
    page.on('request', (req) => {
      if (req.url().startsWith(`${issuer.issuer}/auth?`)) authorizeUrls.push(req.url());
    });
    await signIn(page, 'bob');
    await page.waitForSelector('[data-backend="tb"][data-status="ready"]', { timeout: 20_000 });
    expect(await page.$eval('.who', (e) => e.textContent)).toContain('bob');
    // The code left the address bar (and history) as soon as the page read it.
    expect(new URL(page.url()).pathname).toBe('/console/');
    expect(page.url()).not.toContain('code=');
    const stored = (await page.evaluate('Object.keys(sessionStorage)')) as string[];
    expect(stored).toEqual([TOKEN_KEY]);
    const sent = new URL(authorizeUrls[0] ?? 'http://x');
    expect(sent.searchParams.get('code_challenge_method')).toBe('S256');
    expect(sent.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(sent.searchParams.get('state')).toMatch(/^[\w-]{22}$/);
    expect(sent.searchParams.get('resource')).toBe(`${base}/mcp`);

    // The gateway stops accepting the token (here: a broken one): back to sign in.
    await page.evaluate(`sessionStorage.setItem(${JSON.stringify(TOKEN_KEY)}, 'expired')`);
    await page.click('[data-tab="tools"]');
    await page.waitForSelector('#login-error');
    expect(await page.$eval('#login-error', (e) => e.textContent)).toContain('sign in again');
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    await page.browserContext().close();
  });

  it('refuses (403) a caller no rule lets use the console', async () => {
    const page = await freshPage();
    await signIn(page, 'alice');
    await page.waitForSelector('#login-error', { timeout: 10_000 });
    const message = await page.$eval('#login-error', (e) => e.textContent);
    expect(message).toContain('403');
    expect(message).toContain("'alice (client console)' may not use the console");
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    await page.browserContext().close();
  });

  it('refuses a callback this tab did not start (state), and replaces its URL', async () => {
    const page = await freshPage();
    await page.goto(`${base}/console/callback?code=stolen&state=not-mine`);
    await page.waitForSelector('#login-error');
    expect(await page.$eval('#login-error', (e) => e.textContent)).toContain('state');
    expect(page.url()).toBe(`${base}/console/`);
    await page.browserContext().close();
  });

  it('forwards only a console callback code exchange to the issuer', async () => {
    const signInDoc = (await (await fetch(`${base}/console/api/sign-in`)).json()) as {
      oauth?: { authorizationEndpoint: string; clientId: string };
    };
    expect(signInDoc.oauth?.authorizationEndpoint).toBe(`${issuer.issuer}/auth`);
    expect(signInDoc.oauth?.clientId).toBe('console');
    const post = (body: unknown) =>
      fetch(`${base}/console/api/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const verifier = 'v'.repeat(43);
    const elsewhere = await post({
      code: 'c',
      code_verifier: verifier,
      redirect_uri: 'https://evil.example/cb',
    });
    expect(elsewhere.status).toBe(400);
    const bogus = await post({
      code: 'c',
      code_verifier: verifier,
      redirect_uri: `${base}/console/callback`,
    });
    expect(bogus.status).toBe(400);
    expect(((await bogus.json()) as { error: string }).error).toBe('invalid_grant');
    // Refusals carry the console's headers too, and the API needs a token.
    const refused = await fetch(`${base}/console/api/whoami`);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('content-security-policy')).toContain("connect-src 'self'");
  });

  it('logged no page error', () => {
    expect(problems).toEqual([]);
  });
});
