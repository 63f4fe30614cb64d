// The reports and alerts page as a manager uses it (issue 14): the scheduled reports with their
// next runs in their own zone, a run whose webhook failed shown as partly failed with each
// recipient's delivery and a retry for the failed one only, and an alert subscription made from
// the form. axe at both sizes; screenshots in test-results/screenshots/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../api/config.ts';
import { startServer, type RunningServer } from '../../api/server.ts';
import { createToken } from '../../warehouse/access/tokens.ts';
import { checkPage, CHROMIUM_ARGS, CHROMIUM_PATH, signIn, SIZES, watchForProblems } from './chromium.ts';

describe('the reports and alerts page', () => {
  let dir: string;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  let token: string;
  const problems: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'civic-reports-'));
    const config = parseConfig({
      port: 0,
      database: join(dir, 'civic.duckdb'),
      ingest: { inbox_dir: join(dir, 'inbox') },
      reports: {
        out_dir: join(dir, 'reports'),
        webhook_secret: 'a webhook secret long enough',
        // Port 9 (discard) refuses: the webhook delivery fails, the folder one succeeds.
        definitions: [{ id: 'district-6', title: 'District 6 weekly', views: ['summary'], filter: { area: 'District 6' }, period: 'week', formats: ['pdf', 'csv'], cron: '0 7 * * 1', timezone: 'America/Chicago', recipients: ['folder', 'http://127.0.0.1:9/hook'] }],
      },
    });
    server = await startServer(config, { logger: false });
    token = (await createToken(server.fastify.warehouse, { name: 'Morgan Manager', role: 'manager' })).token;
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

  it('shows the schedule, a partly failed run with each delivery, and retries only the failed one', async () => {
    const auth = { authorization: `Bearer ${token}` };
    const { run_id } = (await (await fetch(`${server.url}/api/reports/district-6/run`, { method: 'POST', headers: auth })).json()) as { run_id: string };
    for (let i = 0; i < 120; i++) {
      const run = (await (await fetch(`${server.url}/api/reports/runs/${run_id}`, { headers: auth })).json()) as { status: string };
      if (run.status !== 'running') break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    await page.goto(server.url + '/reports');
    const row = page.getByRole('row', { name: /District 6 weekly/ }).first();
    await row.waitFor();
    await page.getByRole('row', { name: /partly failed/ }).waitFor();
    await expect(row.textContent()).resolves.toMatch(/0 7 \* \* 1 \(America\/Chicago\).*AM CST/);
    await expect(page.getByRole('row', { name: /partly failed/ }).count()).resolves.toBe(1);
    await page.getByRole('button', { name: /^District 6 weekly$/ }).click();
    const deliveries = page.getByRole('table', { name: 'Deliveries' });
    await deliveries.waitFor();
    await expect.poll(() => deliveries.getByRole('row', { name: /^folder folder .*sent/ }).count(), { timeout: 10_000 }).toBe(1);
    await expect(deliveries.getByRole('row', { name: /127\.0\.0\.1:9.*failed.*4/ }).count()).resolves.toBe(1);
    await checkPage(page, 'reports-and-alerts');
    await page.getByRole('button', { name: 'Retry the failed' }).click();
    await page.getByRole('status').first().waitFor();
    await expect.poll(() => page.getByRole('status').first().textContent(), { timeout: 10_000 }).toMatch(/resending only to http:\/\/127\.0\.0\.1:9\/hook/);
    expect(problems).toEqual([]);
  }, 240_000);

  it('subscribes to findings from the form', async () => {
    await page.goto(server.url + '/reports');
    await page.getByRole('button', { name: 'Subscribe' }).waitFor();
    await page.getByLabel('Service').selectOption({ label: 'Pothole Repair' });
    await page.getByLabel('unusual volume').uncheck();
    await page.getByLabel('E-mail address').fill('morgan@riverton.example');
    await page.getByRole('button', { name: 'Subscribe' }).click();
    await page.getByRole('status').first().waitFor();
    await page.getByRole('row', { name: /service POTHOLE/ }).waitFor();
    await expect.poll(() => page.getByRole('status').first().textContent(), { timeout: 10_000 }).toMatch(/^Subscribed: service POTHOLE — trend, below_target to morgan@riverton\.example/);
    await expect(page.getByRole('row', { name: /service POTHOLE.*morgan@riverton\.example/ }).count()).resolves.toBe(1);
  }, 60_000);
});
