// What the browser tests share: how they start Debian's Chromium (see ../shared/STACK.md:
// headless, no sandbox because the CI container runs as root, nothing fetched from the network),
// how a page is watched for errors, signed in, and checked — every panel drawn, axe's WCAG 2.1 AA
// rules at a laptop's and a phone's size, a screenshot of each (test-results/screenshots/, for a
// person to look at), and nothing wider than the phone's screen.
import { expect } from 'vitest';
import type { Page } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
export const CHROMIUM_PATH = '/usr/bin/chromium';
export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
export const SIZES = { desktop: { width: 1440, height: 900 }, phone: { width: 390, height: 844 } } as const;
export const SHOTS = join(process.cwd(), 'test-results', 'screenshots');

/** Collects what would be a defect on any page: console errors, page errors, requests outside the server, API errors. */
export function watchForProblems(page: Page, serverUrl: string, problems: string[]): void {
  // A refused request before signing in is expected: the browser logs a 401 as a console error.
  page.on('console', (m) => m.type() === 'error' && !/status of 401/.test(m.text()) && problems.push(m.text()));
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('requestfailed', (r) => r.failure()?.errorText !== 'net::ERR_ABORTED' && problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
  page.on('request', (r) => !r.url().startsWith(serverUrl) && problems.push(`outside request: ${r.url()}`));
  page.on('response', (r) => r.url().includes('/api/') && r.status() >= 400 && r.status() !== 401 && problems.push(`${r.status()} from ${r.url()}`));
}

export async function signIn(page: Page, serverUrl: string, token: string): Promise<void> {
  await page.goto(serverUrl + '/signin');
  await page.getByLabel('Access token').fill(token);
  await page.getByRole('button', { name: /sign in/i }).click();
  await page.waitForURL(serverUrl + '/');
}

/** Every panel drawn (no placeholder left), then axe, a screenshot and the width at both sizes. */
export async function checkPage(page: Page, name: string, timeout = 60_000): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.waitForFunction(() => document.querySelectorAll('[aria-busy="true"], .placeholder').length === 0 && !document.body.innerText.includes('Loading…'), undefined, { timeout });
  for (const [size, viewport] of Object.entries(SIZES)) {
    await page.setViewportSize(viewport);
    await page.waitForTimeout(200);
    const results = await new AxeBuilder({ page }).withTags(AXE_TAGS).analyze();
    expect(results.violations.map((v) => `${name} ${size} ${v.id}: ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`)).toEqual([]);
    await page.screenshot({ path: join(SHOTS, `${name}-${size}.png`), fullPage: true });
    // Nothing wider than the screen except inside a scrolling region.
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth), `${name} at ${size} is wider than the screen`).toBeLessThanOrEqual(1);
  }
  await page.setViewportSize(SIZES.desktop);
}
