// The public pages and embeds through app.inject() on the demo city, read as a reader without
// JavaScript reads them: the HTML itself holds the tables, every figure equals the public API's
// cell, withheld figures say so, and the embeds' framing and signed staff links behave.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { parse, type HTMLElement } from 'node-html-parser';
import { demoWarehouse } from '../../../test/demo-warehouse.ts';
import { bearer, testApp } from '../../../test/app-helper.ts';
import type { TempWarehouse } from '../../../test/helpers.ts';
import type { AppOptions } from '../../app.ts';
import { embedKey, signEmbedToken, type EmbedClaims } from '../../embed-token.ts';
import { MEASURES } from '../../../warehouse/queries/measures.ts';

const SECRET = 'a test session secret of at least 32 characters';
const BASE = { timezone: 'America/New_York', jurisdiction: 'Riverton (demo city)', auth: { session_secret: SECRET } } as AppOptions['config'];

/** A table's body rows as [row header, ...cells] texts, found by its caption. */
function tableRows(doc: HTMLElement, caption: string): string[][] {
  const t = doc.querySelectorAll('table').find((x) => x.querySelector('caption')?.text.trim() === caption);
  if (!t) throw new Error(`no table "${caption}"; tables: ${doc.querySelectorAll('caption').map((c) => c.text).join(' | ')}`);
  return t.querySelectorAll('tbody tr').map((tr) => tr.querySelectorAll('th, td').map((c) => c.text.trim()));
}

describe('public pages', () => {
  let t: TempWarehouse;
  let app: FastifyInstance;
  let strict: FastifyInstance;
  beforeAll(async () => {
    t = await demoWarehouse();
    app = await testApp(t.wh, BASE);
    // k 60 and a sensitive service: the demo city's tables then have withheld cells.
    strict = await testApp(t.wh, { ...BASE, disclosure: { k: 60, sensitive_services: ['Water Leak'] }, embed: { frame_ancestors: ['https://www.riverton.gov'] } } as AppOptions['config']);
  });
  afterAll(async () => {
    await app.close();
    await strict.close();
    t.cleanup();
  });

  it('the overview is HTML with its tables in the page, in English, without a token, and links only to public places', async () => {
    const res = await app.inject('/public');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    const doc = parse(res.body);
    expect(doc.querySelector('html')!.getAttribute('lang')).toBe('en');
    expect(doc.querySelector('h1')!.text).toContain('Riverton (demo city)');
    expect(doc.querySelectorAll('script')).toHaveLength(0);
    for (const caption of ['Requests and service, by month', 'By service group, whole period', 'By service, whole period', 'By district, whole period']) expect(tableRows(doc, caption).length).toBeGreaterThan(0);
    // Every column header has its scope, every row its header cell.
    for (const th of doc.querySelectorAll('thead th')) expect(th.getAttribute('scope')).toBe('col');
    for (const tr of doc.querySelectorAll('tbody tr')) expect(tr.querySelector('th')?.getAttribute('scope')).toBe('row');
    const links = doc.querySelectorAll('a').map((a) => a.getAttribute('href')!);
    for (const l of links) expect(l, l).toMatch(/^(#|\/public|\/api\/public\/|\/open311\/)/);
    // A chart is drawn as SVG inside one image with its sentence.
    const chart = doc.querySelector('.chart-svg')!;
    expect(chart.getAttribute('role')).toBe('img');
    expect(chart.getAttribute('aria-label')).toMatch(/^Requests each month/);
    expect(chart.querySelector('svg')).not.toBeNull();
    // Its icon is the dashboard's, served under /public (without one a browser asks for /favicon.ico: a 404).
    const icon = doc.querySelector('link[rel="icon"]')!.getAttribute('href')!;
    expect(icon).toMatch(/^\/public\//);
    const got = await app.inject(icon);
    expect([got.statusCode, got.headers['content-type']]).toEqual([200, 'image/svg+xml']);
    expect(got.body).toMatch(/^<svg /);
  });

  it('every figure of the service-group table is the public API cell (same release, same rounding)', async () => {
    const doc = parse((await app.inject('/public')).body);
    const api = (await app.inject('/api/public/kpis?by=service_group')).json();
    const rows = api.tables.find((x: { by: string[] }) => x.by.join() === 'service_group').rows as { service_group: string; opened: number; on_time_rate: number | null }[];
    const html = tableRows(doc, 'By service group, whole period');
    expect(html.map((r) => r[0])).toEqual(rows.map((r) => r.service_group));
    for (const [i, r] of rows.entries()) {
      expect(html[i][1]).toBe(r.opened.toLocaleString('en-US'));
      expect(html[i][3]).toBe(r.on_time_rate === null ? 'too few cases' : `${Math.round(r.on_time_rate * 100)}%`);
    }
    // The CSV the table links to holds the same counts.
    const csvHref = doc.querySelectorAll('a[download]').map((a) => a.getAttribute('href')!).find((h) => h.includes('by=service_group'))!;
    const csv = await app.inject(csvHref.replaceAll('&amp;', '&'));
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    for (const r of rows) expect(csv.body).toContain(`${r.service_group},,${r.opened},`);
  });

  it('withheld figures read "suppressed", never as a number, and a sensitive service is shown nowhere', async () => {
    const doc = parse((await strict.inject('/public')).body);
    const api = (await strict.inject('/api/public/kpis?by=area,month')).json();
    const byArea = api.tables.find((x: { by: string[] }) => x.by.join() === 'area').rows as { area: string; opened: number | null; suppressed: boolean }[];
    const html = tableRows(doc, 'By district, whole period');
    expect(html.length).toBe(byArea.length);
    for (const [i, r] of byArea.entries()) expect(html[i][1]).toBe(r.suppressed ? 'suppressed' : r.opened!.toLocaleString('en-US'));
    const monthly = tableRows(doc, 'Requests and service, by month');
    const requests = [...monthly, ...html].map((r) => r[1]).filter((x) => /^[\d,]+$/.test(x)).map((x) => Number(x.replaceAll(',', '')));
    for (const n of requests) expect(n === 0 || n > 60, `count ${n}`).toBe(true);
    // The sensitive service is published nowhere: not by service, not in any total.
    expect(tableRows(doc, 'By service, whole period').map((r) => r[0])).not.toContain('Water Leak');
    for (const t of doc.querySelectorAll('table')) expect(t.text).not.toContain('Water Leak');
  });

  it('an area page shows the area beside the whole city; an unknown area or page is an HTML 404, a bad parameter an HTML 400', async () => {
    const res = await app.inject('/public/area?area=District%203');
    expect(res.statusCode).toBe(200);
    const doc = parse(res.body);
    expect(doc.querySelector('h1')!.text).toBe('District 3');
    const rows = tableRows(doc, 'District 3 beside the whole city, whole period');
    expect(rows.map((r) => r[0])).toEqual(['District 3', 'Whole city']);
    expect(tableRows(doc, 'District 3, by month')).toHaveLength(12);
    // Tracking parameters of a shared link are ignored, not refused.
    expect((await app.inject('/public/area?area=District%203&utm_source=newsletter&fbclid=x')).statusCode).toBe(200);
    for (const [url, status, text] of [
      ['/public/area?area=Atlantis', 404, 'There is no page for an area named “Atlantis”'],
      ['/public/nothing-here', 404, 'There is no public page at /public/nothing-here'],
      ['/public?map=population', 400, 'querystring/map must be one of "opened", "median_hours_to_close", "on_time_rate" (got "population")'],
      ['/embed/everything', 404, 'There is no embeddable view named “everything”'],
    ] as const) {
      const r = await app.inject(url);
      expect(r.statusCode, url).toBe(status);
      expect(r.headers['content-type'], url).toMatch(/^text\/html/);
      expect(parse(r.body).querySelector('main')!.text, url).toContain(text);
    }
  });

  it('the methodology page states every measure of the registry, the disclosure rules, the sources and the known issues', async () => {
    const doc = parse((await app.inject('/public/methodology')).body);
    const measures = tableRows(doc, 'Measures and their definitions');
    expect(measures.map((r) => r[0])).toEqual(MEASURES.map((m) => m.label));
    expect(measures.filter((r) => r[3] === 'public').map((r) => r[0])).toEqual(['Opened', 'Median time to close', 'On time', 'CSAT (top-2 box)']);
    expect(doc.querySelectorAll('#rules-h + ol li')).toHaveLength(5);
    // Sources by kind, without row counts (they cover every service, sensitive ones too).
    const sources = doc.querySelector('#sources-h')!.parentNode.querySelectorAll('li').map((li) => li.text);
    expect(sources.some((x) => /^demo: cases \(format demo-city\), one load, the last on /.test(x))).toBe(true);
    expect(doc.querySelector('#sources-h')!.parentNode.text).not.toMatch(/34,448/);
    expect(doc.querySelector('#quality-h')).not.toBeNull();
  });

  it('embeds may be framed by the configured sites; every other page only by this server', async () => {
    const embed = await strict.inject('/embed/trend');
    expect(embed.statusCode).toBe(200);
    expect(embed.headers['content-security-policy']).toContain('frame-ancestors https://www.riverton.gov');
    expect(embed.headers['x-frame-options']).toBeUndefined();
    expect((await app.inject('/embed/headline')).headers['content-security-policy']).toContain('frame-ancestors *');
    const page = await strict.inject('/public');
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'self'");
    expect(page.headers['x-frame-options']).toBe('SAMEORIGIN');
  });
});

describe('staff embeds: signed, expiring links', () => {
  let t: TempWarehouse;
  let app: FastifyInstance;
  const key = embedKey(SECRET);
  beforeAll(async () => {
    t = await demoWarehouse();
    app = await testApp(t.wh, BASE);
  });
  afterAll(async () => {
    await app.close();
    t.cleanup();
  });

  const issue = async (role: 'manager' | 'planner' | 'admin', body: object, agencies?: string[]) =>
    app.inject({ method: 'POST', url: '/api/embed-tokens', headers: await bearer(t.wh, role, agencies), payload: body });
  const opened = (html: string) => parse(html).querySelectorAll('.card').find((c) => c.querySelector('h2')!.text === 'Opened')!.querySelector('.figure')!.text;

  it('a manager issues a link; the frame shows the same figure the overview API gives for that window and filter', async () => {
    const res = await issue('manager', { view: 'staff-overview', weeks: 8, service: 'Pothole Repair' });
    expect(res.statusCode, res.body).toBe(200);
    const { url, expires_at, agencies } = res.json();
    expect(agencies).toBeNull();
    expect(Date.parse(expires_at) - Date.now()).toBeGreaterThan(29 * 86_400_000);
    const page = await app.inject(url);
    expect(page.statusCode).toBe(200);
    expect(page.headers['cache-control']).toBe('private, no-store');
    const api = (await app.inject({ url: '/api/overview?weeks=8&service=Pothole%20Repair', headers: await bearer(t.wh, 'manager') })).json();
    expect(opened(page.body)).toBe(api.headline.find((h: { name: string }) => h.name === 'opened').value.toLocaleString('en-US'));
    // A rate's change reads in percentage points, as on the dashboard's card.
    const onTime = parse(page.body).querySelectorAll('.card').find((c) => c.querySelector('h2')!.text === 'On time')!;
    expect(onTime.querySelector('.note')!.text).toMatch(/^(up|down) \d+\.\d percentage points?; target 85\.0% — (below|meets) target$|^no change/);
  });

  it('carries the issuer\'s agency scope, never wider, and refuses an agency outside it', async () => {
    const res = await issue('manager', { view: 'staff-overview' }, ['Streets']);
    expect(res.json().agencies).toEqual(['Streets']);
    const scoped = opened((await app.inject(res.json().url)).body);
    const all = opened((await app.inject((await issue('manager', { view: 'staff-overview' })).json().url)).body);
    expect(Number(scoped.replaceAll(',', ''))).toBeLessThan(Number(all.replaceAll(',', '')));
    const api = (await app.inject({ url: '/api/overview', headers: await bearer(t.wh, 'manager', ['Streets']) })).json();
    expect(scoped).toBe(api.headline.find((h: { name: string }) => h.name === 'opened').value.toLocaleString('en-US'));
    const outside = await issue('manager', { view: 'staff-overview', agency: 'Water' }, ['Streets']);
    expect(outside.statusCode).toBe(400);
    expect(outside.json().message).toContain('outside your scope');
  });

  it('planners and anonymous callers cannot issue links', async () => {
    expect((await issue('planner', { view: 'staff-overview' })).statusCode).toBe(403);
    expect((await app.inject({ method: 'POST', url: '/api/embed-tokens', payload: { view: 'staff-overview' } })).statusCode).toBe(401);
  });

  it('a tampered, expired, other-view or missing token is a plain 403 page that says which', async () => {
    const good = (await issue('manager', { view: 'staff-overview', weeks: 4 })).json().token as string;
    const [body, sig] = good.split('.');
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString()) as EmbedClaims;
    const widened = Buffer.from(JSON.stringify({ ...claims, agencies: null, exp: claims.exp + 86_400 * 365 })).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const expired = signEmbedToken({ ...claims, iat: now - 7200, exp: now - 3600 }, key);
    const otherView = signEmbedToken({ ...claims, view: 'staff-cases' }, key);
    const foreign = signEmbedToken(claims, embedKey('another secret that is also 32 characters long'));
    for (const [token, text] of [
      [`${widened}.${sig}`, 'changed since it was issued'],
      [`${body}.${sig.slice(0, -2)}AA`, 'changed since it was issued'],
      [foreign, 'changed since it was issued'],
      [expired, 'expired on'],
      [otherView, 'issued for another view'],
      ['not-a-token', 'incomplete or damaged'],
      [null, 'needs the signed link'],
    ] as const) {
      const r = await app.inject(`/embed/staff-overview${token === null ? '' : `?token=${encodeURIComponent(token)}`}`);
      expect(r.statusCode, String(token)).toBe(403);
      expect(r.headers['content-type']).toMatch(/^text\/html/);
      expect(parse(r.body).querySelector('main')!.text).toContain(text);
      expect(r.body).not.toContain('Pothole');
    }
  });
});
