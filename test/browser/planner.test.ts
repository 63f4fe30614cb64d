// The planners' pages as a planner uses them (issue 12): the map (change its measure, open an area
// from it by click and by keyboard), equity, the forecast and a what-if, on the demo city in Debian's
// Chromium, with axe at a laptop's and a phone's size and a screenshot of each page
// (test-results/screenshots/). A planner sees figures, not cases: no count links to a case list.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../api/config.ts';
import { startServer, type RunningServer } from '../../api/server.ts';
import { createToken } from '../../warehouse/access/tokens.ts';
import { checkPage, CHROMIUM_ARGS, CHROMIUM_PATH, signIn, SIZES, watchForProblems } from './chromium.ts';


describe('the planners’ pages', () => {
  let dir: string;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'civic-plan-'));
    const config = parseConfig({ port: 0, database: join(dir, 'civic.duckdb'), reports: { out_dir: join(dir, 'reports') }, ingest: { inbox_dir: join(dir, 'inbox') } });
    server = await startServer(config, { logger: false });
    const token = (await createToken(server.fastify.warehouse, { name: 'Pat Planner', role: 'planner' })).token;
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    page = await (await browser.newContext({ viewport: SIZES.desktop })).newPage();
    watchForProblems(page, server.url, problems);
    await signIn(page, server.url, token);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });


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
    await checkPage(page, 'map');
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
    // A planner's counts are figures only: no link to a list of cases.
    await expect(page.locator('a[href^="/cases"]').count()).resolves.toBe(0);
    await checkPage(page, 'equity');
  });

  it('forecast: each service a week ahead, judged against the benchmark', async () => {
    await page.goto(server.url + '/forecast');
    await page.getByText(/Across 9 series, 9 backtested: median MASE/).waitFor({ timeout: 60_000 });
    const table = page.getByRole('table', { name: /Forecast for next week/ });
    await table.locator('tbody tr').nth(8).waitFor({ timeout: 60_000 });
    await expect(table.locator('tbody tr').count()).resolves.toBe(9);
    await page.locator('figure', { hasText: 'requests a week, the last 26 weeks' }).locator('.plot svg [aria-roledescription="area mark"]').first().waitFor({ timeout: 20_000 });
    await checkPage(page, 'forecast');
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
    await checkPage(page, 'whatif');
  });

  it('logged no errors and fetched nothing from outside the server', () => {
    expect(problems).toEqual([]);
  });
});
