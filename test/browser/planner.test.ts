// The planners' pages as a planner uses them (issue 12): the map (change its measure, open an area
// from it by click and by keyboard), equity, the forecast and a what-if, on the demo city in Debian's
// Chromium, with axe at a laptop's and a phone's size and a screenshot of each page
// (test-results/screenshots/). A planner sees figures, not cases: no count links to a case list.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../api/config.ts';
import { startServer, type RunningServer } from '../../api/server.ts';
import { createToken } from '../../warehouse/access/tokens.ts';
import { CHROMIUM_ARGS } from './chromium.ts';

const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const SHOTS = join(process.cwd(), 'test-results', 'screenshots');
const SIZES = { desktop: { width: 1440, height: 900 }, phone: { width: 390, height: 844 } } as const;

describe('the planners’ pages', () => {
  let dir: string;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'civic-plan-'));
    const config = parseConfig({ port: 0, database: join(dir, 'civic.duckdb'), reports: { out_dir: join(dir, 'reports') }, ingest: { inbox_dir: join(dir, 'inbox') } });
    server = await startServer(config, { logger: false });
    const token = (await createToken(server.fastify.warehouse, { name: 'Pat Planner', role: 'planner' })).token;
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    page = await (await browser.newContext({ viewport: SIZES.desktop })).newPage();
    page.on('console', (m) => m.type() === 'error' && !/status of 401/.test(m.text()) && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('request', (r) => !r.url().startsWith(server.url) && problems.push(`outside request: ${r.url()}`));
    await page.goto(server.url + '/signin');
    await page.getByLabel('Access token').fill(token);
    await page.getByRole('button', { name: /sign in/i }).click();
    await page.waitForURL(server.url + '/');
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function checkPage(name: string) {
    await page.waitForFunction(() => document.querySelectorAll('[aria-busy="true"], .placeholder').length === 0 && !document.body.innerText.includes('Loading…'), undefined, { timeout: 60_000 });
    for (const [size, viewport] of Object.entries(SIZES)) {
      await page.setViewportSize(viewport);
      await page.waitForTimeout(200);
      const results = await new AxeBuilder({ page }).withTags(AXE_TAGS).analyze();
      expect(results.violations.map((v) => `${name} ${size} ${v.id}: ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`)).toEqual([]);
      await page.screenshot({ path: join(SHOTS, `${name}-${size}.png`), fullPage: true });
      expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth), `${name} at ${size} is wider than the screen`).toBeLessThanOrEqual(1);
    }
    await page.setViewportSize(SIZES.desktop);
  }

  it('a planner sees the figures but no link to a list of cases', async () => {
    await page.locator('.card .value').first().waitFor();
    await expect(page.locator('.card .value a').count()).resolves.toBe(0);
    await expect(page.locator('a[href^="/cases"]').count()).resolves.toBe(0);
  });

  it('map: the areas drawn offline with a legend, the measure changed, hot cells named by their area', async () => {
    await page.goto(server.url + '/map');
    await page.locator('figure .plot svg [aria-roledescription="geoshape"]').first().waitFor({ timeout: 30_000 });
    await page.getByLabel('Colour the areas by').selectOption('on_time_rate');
    await page.waitForURL(/\/map\?measure=on_time_rate$/);
    await page.getByRole('heading', { name: 'Map', exact: true }).waitFor();
    await page.locator('figcaption', { hasText: 'On time by district' }).waitFor({ timeout: 30_000 });
    // The slow district is the lowest on time: last in the table, which is highest first.
    const rows = page.getByRole('table', { name: /Areas, highest on time first/ }).locator('tbody tr');
    await expect(rows.last().locator('th').textContent()).resolves.toContain('District 6');
    const cells = page.getByRole('table', { name: /Cells where requests cluster beyond chance/ });
    await expect(cells.locator('tbody tr').first().textContent()).resolves.toMatch(/hot spot, 9\d% confidence\s*District \d/);
    await checkPage('map');
  });

  it('map: a click on an area opens its page, and the table does the same by keyboard', async () => {
    await page.goto(server.url + '/map?cells=off');
    const area = page.locator('figure .plot svg [aria-roledescription="geoshape"]').first();
    await area.waitFor({ timeout: 30_000 });
    await area.click({ force: true });
    await page.waitForURL(/\/area\?.*area=D\d/);
    await page.getByRole('heading', { level: 1, name: /District \d/ }).waitFor();
    await page.goBack();
    const link = page.getByRole('table', { name: /Areas, highest opened first/ }).getByRole('link').first();
    await link.focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/area\?.*area=D\d/);
  });

  it('equity: every area with its intervals, the slow district first, with the test and its period', async () => {
    await page.goto(server.url + '/equity');
    const table = page.getByRole('table', { name: /Each area, worst first by time to close/ });
    await table.waitFor({ timeout: 30_000 });
    await expect(table.locator('tbody tr').first().locator('th').textContent()).resolves.toBe('District 6');
    await expect(table.locator('tbody tr').first().textContent()).resolves.toMatch(/days \(\d+\.\d to \d+\.\d days\)/);
    await page.getByText(/Time to close: best District \d, worst District 6; log-rank/).waitFor();
    await checkPage('equity');
  });

  it('forecast: each service a week ahead, judged against the benchmark', async () => {
    await page.goto(server.url + '/forecast');
    await page.getByText(/Across 9 series, 9 backtested: median MASE/).waitFor({ timeout: 60_000 });
    const table = page.getByRole('table', { name: /Forecast for next week/ });
    await table.locator('tbody tr').nth(8).waitFor({ timeout: 60_000 });
    await expect(table.locator('tbody tr').count()).resolves.toBe(9);
    await page.locator('figure', { hasText: 'requests a week, the last 26 weeks' }).locator('.plot svg [aria-roledescription="area mark"]').first().waitFor({ timeout: 20_000 });
    await checkPage('forecast');
  });

  it('what-if: moving two crews toward the slow district, with the model and its error on past weeks', async () => {
    await page.goto(server.url + '/whatif');
    await page.getByLabel('Service').selectOption({ label: 'Pothole Repair' });
    await page.getByLabel('Crews to move').fill('2');
    await page.getByLabel('From', { exact: true }).selectOption({ label: 'District 2' });
    await page.getByLabel('To', { exact: true }).selectOption({ label: 'District 6' });
    await page.getByLabel('Crews there now (from)').fill('4');
    await page.getByLabel('Crews there now (to)').fill('3');
    await page.getByRole('button', { name: 'Project' }).click();
    await page.waitForURL(/\/whatif\?service=POTHOLE&move=D2%3AD6%3A2&crews=D2%3A4%2CD6%3A3$/);
    await page.getByText(/^Moving 2 crews from District 2 to District 6 for Pothole Repair would/).waitFor({ timeout: 60_000 });
    await page.getByRole('heading', { name: 'District 6: 3 → 5 crews' }).waitFor();
    await page.getByText(/On the last \d+ observed weeks, replayed with their actual requests, the projected backlog was off by/).waitFor();
    await checkPage('whatif');
  });

  it('logged no errors and fetched nothing from outside the server', () => {
    expect(problems).toEqual([]);
  });
});
