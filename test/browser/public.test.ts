// The public side as a resident, a journalist and a city web editor use it (issue 13): every
// public page and embed in Debian's Chromium on the demo city, with axe at a laptop's and a
// phone's size and a screenshot each (test-results/screenshots/); keyboard use (skip link, an
// area opened with Enter); the tables read with JavaScript off; a staff embed through its signed
// link inside a frame on another origin, and refused without it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parseConfig } from '../../api/config.ts';
import { startServer, type RunningServer } from '../../api/server.ts';
import { createToken } from '../../warehouse/access/tokens.ts';
import { checkPage, CHROMIUM_ARGS, CHROMIUM_PATH, SIZES, watchForProblems } from './chromium.ts';

describe('the public pages and embeds', () => {
  let dir: string;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  let managerToken: string;
  const problems: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'civic-public-'));
    const config = parseConfig({ port: 0, database: join(dir, 'civic.duckdb'), reports: { out_dir: join(dir, 'reports') }, ingest: { inbox_dir: join(dir, 'inbox') } });
    server = await startServer(config, { logger: false });
    managerToken = (await createToken(server.fastify.warehouse, { name: 'Morgan Manager', role: 'manager' })).token;
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    page = await (await browser.newContext({ viewport: SIZES.desktop })).newPage();
    watchForProblems(page, server.url, problems);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every public page and public embed passes axe at both sizes and fits the phone', async () => {
    for (const [path, name] of [
      ['/public', 'public-overview'],
      ['/public?map=median_hours_to_close', 'public-overview-map-median'],
      ['/public/area?area=District%206', 'public-area'],
      ['/public/methodology', 'public-methodology'],
      ['/public/open-data', 'public-open-data'],
      ['/public/area?area=Atlantis', 'public-not-found'],
      ['/embed/headline', 'embed-headline'],
      ['/embed/trend', 'embed-trend'],
      ['/embed/services', 'embed-services'],
      ['/embed/areas', 'embed-areas'],
      ['/embed/map', 'embed-map'],
      ['/embed/staff-overview', 'embed-staff-refused'],
    ] as const) {
      await page.goto(server.url + path);
      await checkPage(page, name);
    }
    expect(problems.filter((p) => !/status of 40[34]/.test(p))).toEqual([]);
  }, 300_000);

  it('works by keyboard: the skip link first, then an area opened with Enter', async () => {
    await page.goto(server.url + '/public');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to the figures');
    await page.keyboard.press('Enter');
    // SvelteKit leaves a same-page hash link to the browser, and Playwright learns of the new
    // address from Chromium's event after the key press returns: wait for it rather than read
    // page.url() at once (CI once read it before it changed).
    await page.waitForURL(/#main$/, { timeout: 5_000 });
    const link = page.getByRole('link', { name: 'District 6', exact: true });
    await link.focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/public\/area\?area=District(%20|\+)6$/);
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent(), { timeout: 10_000 }).toBe('District 6');
  });

  it('reads without JavaScript: the tables are in the page', async () => {
    const context = await browser.newContext({ viewport: SIZES.phone, javaScriptEnabled: false });
    const p = await context.newPage();
    await p.goto(server.url + '/public');
    const caption = p.locator('caption', { hasText: 'By service group, whole period' });
    await expect(caption.count()).resolves.toBe(1);
    const rows = await p.locator('table:has(caption:text("By service group, whole period")) tbody tr').count();
    expect(rows).toBeGreaterThan(3);
    expect(await p.locator('.chart-svg svg').count()).toBeGreaterThan(0);
    await context.close();
  });

  it('a staff view through its signed link shows in a frame on another site, and nothing without it', async () => {
    const issued = await fetch(`${server.url}/api/embed-tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${managerToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ view: 'staff-overview', weeks: 8, service: 'Pothole Repair' }),
    }).then((r) => r.json() as Promise<{ url: string }>);
    // A city's own page, on another origin (another port), frames the embed.
    const cityPage = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><html lang="en"><title>City page</title><main><h1>Our streets</h1><iframe title="Pothole repair performance" src="${server.url}${issued.url}" width="900" height="700"></iframe></main></html>`));
    await new Promise<void>((done) => cityPage.listen(0, '127.0.0.1', done));
    await page.goto(`http://127.0.0.1:${(cityPage.address() as AddressInfo).port}/`);
    const frame = page.frameLocator('iframe');
    await expect(frame.getByRole('heading', { level: 1 }).textContent()).resolves.toMatch(/^Service performance/);
    expect(await frame.locator('.card').count()).toBeGreaterThanOrEqual(5);
    cityPage.close();
    await page.goto(server.url + issued.url);
    await checkPage(page, 'embed-staff-overview');
    const refused = await page.goto(server.url + issued.url.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')));
    expect(refused!.status()).toBe(403);
    expect(await page.locator('main').textContent()).toContain('changed since it was issued');
  }, 120_000);
});
