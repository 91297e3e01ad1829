/**
 * The web console in a real headless browser (Debian's chromium, driven by puppeteer-core) against a
 * real gateway with the shipped backends: sign in (a wrong token refused), the three backends ready,
 * a pipeline's graph drawn, database-report run from the page with its steps finishing on the
 * timeline, a tool tried from its form. No Content-Security-Policy violation on the way.
 * With CONSOLE_SCREENSHOTS=<folder> (`npm run screenshots`) it saves a picture of each page there.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsoleGateway, startConsoleGateway } from '../helpers/console.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = process.env.CONSOLE_SCREENSHOTS;

describe('the web console in a browser', () => {
  let gw: ConsoleGateway;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  const shot = async (name: string) => {
    if (!SHOTS) return;
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, `console-${name}.png`) });
  };

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM} (apt-get install chromium)`);
    gw = await startConsoleGateway();
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      // As root (CI containers) chromium refuses to start its sandbox.
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
    page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 860 });
    page.on('console', (msg) => {
      // Refused requests are checked below, by URL; anything else logged as an error is a problem.
      if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource'))
        problems.push(msg.text());
    });
    page.on('response', (res) => {
      const url = new URL(res.url());
      // Only the sign-in's own checks may be refused: before a token is given, and the wrong one.
      if (res.status() >= 400 && !(res.status() === 401 && url.pathname === '/console/api/whoami'))
        problems.push(`${res.status()} ${url.pathname}`);
    });
    page.on('pageerror', (err) => problems.push(String(err)));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await gw?.close();
  });

  it('refuses a wrong token, then signs in and shows the three bundled backends ready', async () => {
    await page.goto(`${gw.base}/console`);
    await page.waitForSelector('#login-form');
    await shot('login');
    await page.type('#token', 'not-the-token');
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#login-error');
    expect(await page.$eval('#login-error', (e) => e.textContent)).toContain('refused');
    // Nothing was kept: the token is not in the URL, and the refused one is not stored.
    expect(page.url()).not.toContain('not-the-token');
    expect(await page.evaluate('sessionStorage.length')).toBe(0);

    await page.$eval('#token', (e) => {
      (e as unknown as { value: string }).value = '';
    });
    await page.type('#token', gw.token);
    await page.click('#login-form button[type=submit]');
    for (const name of ['weather', 'sqlite', 'filesystem'])
      await page.waitForSelector(`[data-backend="${name}"][data-status="ready"]`, { timeout: 20_000 });
    await page.waitForSelector('.live.on');
    expect(page.url()).not.toContain(gw.token);
    await shot('backends');
  });

  it('draws a pipeline as its graph', async () => {
    await page.click('[data-tab="pipelines"]');
    await page.waitForSelector('[data-pipeline="database-report"]');
    await page.click('[data-pipeline="database-report"]');
    await page.waitForSelector('#pipeline-graph svg', { timeout: 20_000 });
    const labels = await page.$eval('#pipeline-graph svg', (svg) => svg.textContent ?? '');
    for (const step of ['tables', 'schemas', 'top_customers']) expect(labels).toContain(step);
    await shot('pipelines');
  });

  it('runs database-report from the page and shows its steps finishing', async () => {
    await page.click('#run-form button[type=submit]');
    await page.waitForFunction("location.hash.startsWith('#/runs/')");
    await page.waitForSelector('#run-timeline[data-state="succeeded"]', { timeout: 20_000 });
    const states = await page.$$eval('#run-timeline [data-step]', (rows) =>
      rows.map((r) => [r.getAttribute('data-step'), r.getAttribute('data-state')]),
    );
    expect(states).toEqual([
      ['tables', 'succeeded'],
      ['schemas', 'succeeded'],
      ['top_customers', 'succeeded'],
    ]);
    // The for_each step's three calls (one per table) are drawn under it.
    expect(await page.$$eval('[data-step="schemas"] .call', (c) => c.length)).toBe(3);
    expect(await page.$eval('#run-output', (e) => e.textContent)).toContain('Grace Hopper');
    await shot('runs');
  });

  it('tries a tool from the form generated from its input schema', async () => {
    await page.click('[data-tab="tools"]');
    await page.waitForSelector('[data-tool="sqlite__read_query"]');
    await page.click('[data-tool="sqlite__read_query"]');
    await page.waitForSelector('#tool-form [name="query"]');
    await page.type('#tool-form [name="query"]', 'SELECT name FROM customers ORDER BY total DESC LIMIT 2');
    await page.click('#tool-form button[type=submit]');
    await page.waitForSelector('#tool-result.ok');
    expect(await page.$eval('#tool-result', (e) => e.textContent)).toContain('Grace Hopper');
    await shot('tools');
  });

  it('broke no Content-Security-Policy rule and logged no error', () => {
    expect(problems).toEqual([]);
  });
});
