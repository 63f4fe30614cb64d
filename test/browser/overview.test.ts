// The dashboard as a user sees it: a real server (demo city in a temp warehouse), Debian's
// Chromium driven by Playwright, and axe for accessibility. Staff figures need a sign-in: the
// overview sends an anonymous visitor to the sign-in page, which takes a token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../api/config.ts';
import { startServer, type RunningServer } from '../../api/server.ts';
import { createToken } from '../../warehouse/access/tokens.ts';

import { CHROMIUM_ARGS } from './chromium.ts';

const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

describe('sign-in and the overview page', () => {
  let dir: string;
  let server: RunningServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];
  let token: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'civic-browser-'));
    const config = parseConfig({ port: 0, database: join(dir, 'civic.duckdb'), reports: { out_dir: join(dir, 'reports') }, ingest: { inbox_dir: join(dir, 'inbox') } });
    server = await startServer(config, { logger: false });
    token = (await createToken(server.fastify.warehouse, { name: 'Browser Test', role: 'manager' })).token;
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    page = await context.newPage();
    // The refused requests before signing in are expected: the browser logs a 401 as a console error.
    page.on('console', (m) => m.type() === 'error' && !/status of 401/.test(m.text()) && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(e.message));
    // A load the browser itself abandoned (the redirect to sign-in interrupts the favicon) is not a failure of ours.
    page.on('requestfailed', (r) => r.failure()?.errorText !== 'net::ERR_ABORTED' && problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
    page.on('request', (r) => !r.url().startsWith(server.url) && problems.push(`outside request: ${r.url()}`));
    await page.goto(server.url + '/');
  });

  it('sends an anonymous visitor to the sign-in page', async () => {
    await page.waitForURL(/\/signin\?next=%2F$|\/signin\?next=\/$/);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await expect(page.getByText('Please sign in to see the staff figures.').count()).resolves.toBe(1);
  });

  it('the sign-in page has no accessibility violations (axe, WCAG 2.1 AA)', async () => {
    const results = await new AxeBuilder({ page }).withTags(AXE_TAGS).analyze();
    expect(results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
  });

  it('says what was wrong with a bad token, in an alert tied to the field', async () => {
    await page.getByLabel('Access token').fill('cp_not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent(), { timeout: 10_000 }).toBe('That token is not valid.');
    await expect.poll(() => page.getByLabel('Access token').getAttribute('aria-invalid'), { timeout: 10_000 }).toBe('true');
    const results = await new AxeBuilder({ page }).withTags(AXE_TAGS).analyze();
    expect(results.violations.map((v) => v.id)).toEqual([]);
  });

  it('signs in with a token: an HttpOnly, SameSite=Strict session cookie, then back to the overview', async () => {
    await page.getByLabel('Access token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(server.url + '/');
    const [cookie] = await context.cookies(server.url);
    expect(cookie).toMatchObject({ name: 'civic_session', httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(cookie.value).not.toContain(token);
    await expect(page.evaluate(() => document.cookie)).resolves.toBe(''); // no script can read it
    await expect(page.getByText(/Signed in as/).textContent()).resolves.toMatch(/Signed in as Browser Test \(manager\)/);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows the KPI table with a row per service', async () => {
    const table = page.getByRole('table', { name: /Volume, time to close, on-time rate, backlog and satisfaction per service/ });
    await table.waitFor();
    await expect(table.locator('tbody tr').count()).resolves.toBe(9);
    await expect(table.locator('tbody tr').first().locator('th').textContent()).resolves.toBe('Bulky Item Pickup');
    // The data's as-of comes with its own request: wait for it (a count alone raced it under CI's load).
    await page.getByText(/Data as of Nov 15, 2026, 11:22 PM EST/).first().waitFor();
  });

  it('draws the weekly volume chart as SVG, at most 8 lines (the two smallest services as one), with its text alternative', async () => {
    const svg = page.locator('figure .plot svg');
    await svg.waitFor({ timeout: 20_000 });
    await page.locator('figure .plot svg [aria-roledescription="line mark"]').first().waitFor();
    await expect(page.locator('figure .plot svg [aria-roledescription="line mark"]').count()).resolves.toBe(8);
    await expect(page.locator('figcaption').textContent()).resolves.toMatch(/Weekly cases opened for 9 services over 12 weeks/);
    await page.getByText('Show the data as a table').click();
    await expect(page.locator('figure details tbody tr').count()).resolves.toBe(9 * 12);
    await page.screenshot({ path: join(dir, 'overview.png'), fullPage: true });
  });

  it('has no accessibility violations (axe, WCAG 2.1 AA)', async () => {
    const results = await new AxeBuilder({ page }).withTags(AXE_TAGS).analyze();
    expect(results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
  });

  it('wrote the demo manifest beside the warehouse when it seeded the city', () => {
    const manifest = JSON.parse(readFileSync(join(dir, 'demo-manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ seed: 311, cases: 34448, rising_trend: { service_code: 'POTHOLE' }, slow_area: { district: 'District 6' } });
  });

  it('signs out: the session ends, and the overview sends the visitor back to sign in', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/signin$/);
    expect(await context.cookies(server.url)).toEqual([]);
    await page.goto(server.url + '/');
    await page.waitForURL(/\/signin\?next=/);
    const api = await page.request.get(server.url + '/api/kpis');
    expect(api.status()).toBe(401);
  });

  it('a wrong address gets a titled page that says so, with a way back and no accessibility violations', async () => {
    await page.goto(server.url + '/no-such-page');
    await page.getByRole('heading', { name: 'Page not found' }).waitFor();
    expect(await page.title()).toBe('Page not found · Civic Pulse');
    await expect(page.getByText('There is no page at /no-such-page.').count()).resolves.toBe(1);
    await expect(page.getByRole('link', { name: 'Back to the service overview' }).count()).resolves.toBe(1);
    const results = await new AxeBuilder({ page }).withTags(AXE_TAGS).analyze();
    expect(results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
  });

  it('logged no errors and fetched nothing from outside the server', () => {
    expect(problems).toEqual([]);
  });
});
