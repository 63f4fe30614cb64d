// The public crawler (issue 13 item 2): an anonymous reader's every page, download and route —
// the transparency pages and embeds, each link they hold, every combination the public API takes,
// and Open311 — fetched and read back as a scraper would, then held against disclosure control:
//   1. no count 1..k anywhere, and a withheld figure reads "suppressed" / null, never 0;
//   2. every count seen is the release's cell, published exactly where the release publishes it,
//      and the LP audit over what the crawler saw finds every withheld cell's range ≥ k wide;
//      2b. with Open311 beside the tables, every published total is exactly the requests Open311
//      lists (this crawler found totals holding a sensitive service's withheld count, recoverable
//      as total − Open311; sensitive services are now left out of every public figure);
//   3. coarse geography only (no point but Open311's H3 r8 cell centres, no address);
//   4. the sensitive service published nowhere (tables, totals, pages, Open311);
//   5. no time finer than the day outside Open311 (the JSON's as_of is a local day);
//   6. no case identifier outside Open311.
// On the demo city (k 60 and Water Leak sensitive, so cells are withheld) and on the LA export with
// both of its boundary files (k 10, Homeless Encampment sensitive).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { cellToLatLng, latLngToCell } from 'h3-js';
import app, { FASTIFY_OPTIONS, type AppOptions } from '../../api/app.ts';
import { ingestFile } from '../../ingest/load.ts';
import { loadProfile } from '../../ingest/profile.ts';
import { loadAreasGeoJson } from '../../ingest/areas.ts';
import { assignPlaces } from '../../ingest/places.ts';
import { publicKpis, publicReleaseForAudit } from '../../warehouse/analytics/public-kpis.ts';
import { computeKpis, resolveWindow } from '../../warehouse/analytics/kpis.ts';
import { areaPhrase } from '../../warehouse/analytics/format.ts';
import type { Release } from '../../warehouse/privacy/release.ts';
import { auditSuppression } from '../../warehouse/privacy/lp-audit.ts';
import { DEFAULT_POLICY, type DisclosurePolicy, type PublicPeriod } from '../../warehouse/privacy/policy.ts';
import { COMPLEMENTARY, PUBLISHED } from '../../warehouse/privacy/suppress.ts';
import { demoWarehouse } from '../demo-warehouse.ts';
import { fixture, LA311_CSV, tempWarehouse, type TempWarehouse } from '../helpers.ts';
import {
  apiCounts,
  CLOCK,
  crawlOpen311,
  crawlSite,
  decode,
  findIds,
  get,
  htmlCounts,
  open311CountsByService,
  parseCsv,
  pointsIn,
  text,
  xmlItems,
  type Crawl,
  type Fetched,
  type Open311Crawl,
  type Seen,
} from './public-crawler.ts';

const PERIODS: PublicPeriod[] = ['week', 'month'];
const EMBEDS = ['headline', 'trend', 'services', 'areas', 'map'];
/** The label pages give the sensitive services' row of a table by area (api/public-site/pages.ts). */
/** What an Open311 request may carry (the spec's fields less address, address_id, zipcode, description, media_url; plus the trail extension). */
const OPEN311_FIELDS = new Set(['service_request_id', 'status', 'status_notes', 'service_name', 'service_code', 'agency_responsible', 'requested_datetime', 'updated_datetime', 'expected_datetime', 'lat', 'long', 'notes']);

/** Every combination the public API takes: rows (none, group, service) × area or not × period or not, each release, JSON and CSV; trends likewise. */
function apiUrls(): string[] {
  const urls = ['/api/public/kpis', '/api/public/trends'];
  for (const period of PERIODS) {
    for (const rows of ['', 'service_group', 'service']) {
      for (const area of ['', 'area']) {
        for (const withPeriod of [false, true]) {
          const by = [rows, area, withPeriod ? period : ''].filter(Boolean).join(',');
          for (const csv of [false, true]) urls.push(`/api/public/kpis?by=${encodeURIComponent(by)}&period=${period}${csv ? '&format=csv' : ''}`);
        }
        const by = [rows, area].filter(Boolean).join(',');
        for (const csv of [false, true]) urls.push(`/api/public/trends?by=${encodeURIComponent(by)}&period=${period}${csv ? '&format=csv' : ''}`);
      }
    }
  }
  return urls;
}

interface CitySetup {
  label: string;
  open: () => Promise<TempWarehouse>;
  timezone: string;
  jurisdiction: string;
  disclosure: DisclosurePolicy;
  /** The sensitive service, by code and name (the configuration names it by one of them). */
  sensitive: { code: string; name: string };
  /** Pages the crawl must find at least (besides every area's page). */
  areaPages: number;
}

interface Found {
  crawl: Crawl;
  open311: Open311Crawl;
  /** Every response of the crawl outside /open311/, by URL. */
  all: Map<string, Fetched>;
  releases: Record<PublicPeriod, Release>;
  areaKind: string;
  seen: Seen[];
  problems: string[];
}

/** The last day of a period that starts on `start`. */
function periodEnd(period: PublicPeriod, start: string): string {
  const d = new Date(`${start}T00:00:00Z`);
  const end = period === 'week' ? new Date(d.getTime() + 6 * 86_400_000) : new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0));
  return end.toISOString().slice(0, 10);
}

/** The crawler's view of a release: each cell's values as read (null: withheld), and what does not match the release. */
function viewOf(release: Release, seen: readonly Seen[]) {
  const { cube, values, protection } = release;
  const [rowsAxis, timeAxis] = cube.axes;
  const view = new Map<number, Set<number | null>>();
  const unplaced: string[] = [];
  for (const s of seen) {
    const r =
      s.service !== undefined ? rowsAxis.find([s.group ?? '', s.service], 'service')
      : s.group !== undefined ? rowsAxis.find([s.group], 'service')
      : s.area !== undefined ? rowsAxis.find([s.area], 'area')
      : 0;
    const tt = s.time === null ? 0 : timeAxis.find([s.time]);
    if (r === undefined || tt === undefined) {
      unplaced.push(`${s.url} ${s.where}: ${JSON.stringify(s)}`);
      continue;
    }
    const cell = cube.index([r, tt]);
    if (!view.has(cell)) view.set(cell, new Set());
    view.get(cell)!.add(s.value);
  }
  const unseen: string[] = [];
  const wrong: string[] = [];
  for (let i = 0; i < cube.size; i++) {
    const got = view.get(i);
    const want = protection.state[i] === PUBLISHED ? values.opened[i] : null;
    if (!got) unseen.push(JSON.stringify(cube.describe(i)));
    else if (got.size !== 1 || !got.has(want)) wrong.push(`${JSON.stringify(cube.describe(i))}: seen ${JSON.stringify([...got])}, the release ${want === null ? 'withholds it' : `publishes ${want}`}`);
  }
  return { view, unplaced, unseen, wrong };
}

/**
 * The LP audit from the crawler's side: the cells it saw published are constants at the value it
 * read, every cell it saw withheld (or never saw) is a variable, and every line of the release
 * (each total = the sum of each of its splits) binds them.
 */
function auditAsSeen(release: Release, view: Map<number, Set<number | null>>, k: number) {
  const { cube, values } = release;
  const shown = (i: number) => [...(view.get(i) ?? [])].find((v) => v !== null) ?? null;
  const asSeen = Float64Array.from({ length: cube.size }, (_, i) => shown(i) ?? values.opened[i]);
  return auditSuppression(cube, asSeen, (i) => shown(i) === null, { k });
}

function crawlerSuite(city: CitySetup) {
  describe(`public crawler: ${city.label}`, () => {
    let t: TempWarehouse;
    let fastify: FastifyInstance;
    let found: Found;
    const k = city.disclosure.k;

    beforeAll(async () => {
      t = await city.open();
      fastify = Fastify({ logger: false, ...FASTIFY_OPTIONS });
      const config = { timezone: city.timezone, jurisdiction: city.jurisdiction, disclosure: city.disclosure } as unknown as AppOptions['config'];
      // The rate limit of the public routes is not under test here; the crawl makes a few hundred requests.
      await fastify.register(app, { warehouse: t.wh, config, dashboardDir: '/nonexistent', limits: { public_per_minute: 1_000_000 } });
      await fastify.ready();

      const started = Date.now();
      const crawl = await crawlSite(fastify, ['/public', ...EMBEDS.map((v) => `/embed/${v}`)]);
      const all = new Map(crawl.fetched);
      for (const url of apiUrls()) if (!all.has(url)) all.set(url, await get(fastify, url));
      const open311 = await crawlOpen311(fastify);

      const policy = { ...DEFAULT_POLICY, ...city.disclosure };
      const releases = {} as Record<PublicPeriod, Release>;
      let areaKind = '';
      for (const period of PERIODS) {
        const r = await publicReleaseForAudit(t.wh, { period, policy, timezone: city.timezone });
        releases[period] = r.release!;
        areaKind = r.area_kind;
      }
      // A table without links (an embed) names its areas by label. A reader learns each label's
      // area from the linked tables of the other pages; the rows without a page ("(no area)", the
      // sensitive services' row) read as the area's own phrase, whatever its capitals.
      const areaByLabel = new Map<string, string>();
      for (const f of crawl.fetched.values()) {
        if (!f.type.startsWith('text/html')) continue;
        for (const m of f.body.matchAll(/<a href="(\/public\/area\?[^"]*)">([\s\S]*?)<\/a>/g)) {
          const area = new URL(decode(m[1]), 'http://x').searchParams.get('area');
          if (area) areaByLabel.set(text(m[2]), area);
        }
      }
      const rowsAxis = releases.month.cube.axes[0];
      const byPhrase = new Map<string, string>();
      for (const i of rowsAxis.atDepth(1, 'area')) {
        const key = rowsAxis.nodes[i].key;
        byPhrase.set(areaPhrase(key, areaKind).toLowerCase(), key);
      }
      const areaOf = (label: string) => areaByLabel.get(label) ?? byPhrase.get(label.toLowerCase());
      const seen: Seen[] = [];
      const problems: string[] = [];
      for (const f of all.values()) {
        if (f.status !== 200) continue;
        if (f.type.startsWith('text/html')) {
          const h = htmlCounts(f.url, f.body, areaOf);
          seen.push(...h.seen);
          problems.push(...h.problems);
        } else if (f.url.startsWith('/api/public/')) {
          const d = apiCounts(f);
          seen.push(...d.seen);
          problems.push(...d.problems);
        }
      }
      found = { crawl, open311, all, releases, areaKind, seen, problems };
      const count = (p: (f: Fetched) => boolean) => [...all.values()].filter(p).length;
      console.log(
        `${city.label}: crawled in ${((Date.now() - started) / 1000).toFixed(1)} s — ${count((f) => f.type.startsWith('text/html'))} HTML pages ` +
          `(${count((f) => f.url.startsWith('/public/area'))} area pages, ${count((f) => f.url.startsWith('/embed/'))} embeds), ` +
          `${count((f) => f.type.startsWith('text/css'))} stylesheet, ${count((f) => f.type.startsWith('text/csv'))} CSV and ${count((f) => f.type.startsWith('application/json'))} JSON answers of the public API ` +
          `(${[...crawl.fetched.keys()].filter((u) => u.startsWith('/api/public/')).length} of them linked from pages), ` +
          `${open311.fetched.length} Open311 answers holding ${open311.requests.length} JSON and ${open311.xmlRequests.length} XML requests; ${seen.length} published counts read`,
      );
    });
    afterAll(async () => {
      await fastify?.close();
      t?.cleanup();
    });

    const pages = () => [...found.all.values()].filter((f) => f.type.startsWith('text/html'));
    /** Everything public outside Open311 that carries data: pages, CSV and JSON. */
    const dataBodies = () => [...found.all.values()].filter((f) => !f.type.startsWith('text/css') && !f.url.startsWith('/open311/'));

    it('reaches every public page, download and route anonymously; each page is 200 text/html with lang, and links to no staff page', async () => {
      const urls = [...found.crawl.fetched.keys()];
      for (const must of ['/public', '/public/methodology', '/public/open-data', '/public/style.css', ...EMBEDS.map((v) => `/embed/${v}`)]) expect(urls).toContain(must);
      // Every area of the release has its page, reached through a link.
      const areaPages = urls.filter((u) => u.startsWith('/public/area?'));
      expect(areaPages.length).toBeGreaterThanOrEqual(city.areaPages);
      // The map shadings, the CSV downloads beside the tables and Open311's link were all followed.
      expect(urls.filter((u) => u.startsWith('/public?map=')).length).toBe(2);
      expect(urls.filter((u) => u.startsWith('/api/public/kpis?') && u.includes('format=csv')).length).toBeGreaterThanOrEqual(5);
      expect(urls).toContain('/open311/v2/services.json');

      for (const f of pages()) {
        expect([f.url, f.status]).toEqual([f.url, 200]);
        expect([f.url, f.type]).toEqual([f.url, 'text/html; charset=utf-8']);
        expect(f.body, f.url).toMatch(/^<!doctype html>\s*<html lang="en">/i);
      }
      for (const f of found.all.values()) {
        expect([f.url, f.status]).toEqual([f.url, 200]);
        if (f.url.includes('format=csv')) expect([f.url, f.type]).toEqual([f.url, 'text/csv; charset=utf-8']);
        else if (f.url.startsWith('/api/')) expect([f.url, f.type]).toEqual([f.url, 'application/json; charset=utf-8']);
      }
      expect(found.all.get('/public/style.css')!.type).toBe('text/css; charset=utf-8');
      for (const f of found.open311.fetched) expect([f.url, f.status]).toEqual([f.url, 200]);

      expect(found.crawl.staffLinks).toEqual([]);
      if (found.crawl.external.length) console.log(`${city.label}: links leaving the site: ${JSON.stringify(found.crawl.external.slice(0, 10))}`);
    });

    it('1. no count of 1..k anywhere, and a withheld count reads "suppressed" / null with its whole row, never 0', () => {
      expect(found.problems).toEqual([]);
      const small = found.seen.filter((s) => s.value !== null && s.value > 0 && s.value <= k);
      expect(small.map((s) => `${s.url} ${s.where}: ${s.value}`)).toEqual([]);
      // The configuration withholds cells, so the check has something to look at in every medium.
      const withheld = found.seen.filter((s) => s.value === null);
      expect(withheld.filter((s) => !s.url.startsWith('/api/')).length, 'withheld counts on the pages').toBeGreaterThan(0);
      expect(withheld.filter((s) => s.url.includes('format=csv')).length, 'withheld counts in the CSV').toBeGreaterThan(0);
      expect(withheld.filter((s) => s.url.startsWith('/api/') && !s.url.includes('format=csv')).length, 'withheld counts in the JSON').toBeGreaterThan(0);
      // The pages' tables were read: the city's trend, services, groups, areas and each area's own.
      const html = found.seen.filter((s) => !s.url.startsWith('/api/'));
      expect(html.length).toBeGreaterThan(100);
    });

    it('2. every count seen is its cell of the release, published exactly where the release publishes it; the LP audit over what was seen finds every withheld cell ≥ k wide', async () => {
      for (const period of PERIODS) {
        const release = found.releases[period];
        const { cube, protection } = release;
        const v = viewOf(release, found.seen.filter((x) => x.period === period));
        expect(v.unplaced, `${period}: counts that are no cell of the release`).toEqual([]);
        // The public API's combinations reach every cell: the crawler's view is the whole release.
        expect(v.unseen, `${period}: cells of the release the crawl never saw`).toEqual([]);
        expect(v.wrong, `${period}: cells seen otherwise than the release has them`).toEqual([]);
        const audit = await auditAsSeen(release, v.view, k);
        expect(audit.narrow.map((r) => `${JSON.stringify(cube.describe(r.index))}: ${r.lo}..${r.hi}`), `${period}: withheld cells narrower than k`).toEqual([]);
        console.log(`${city.label} ${period} release: ${cube.size} cells, ${audit.suppressed} withheld (${protection.stats.primary} primary, ${protection.stats.complementary} complementary), ${audit.solves} LP solves, none narrower than ${k}`);
      }
      expect(found.releases.week.protection.stats.primary + found.releases.month.protection.stats.primary).toBeGreaterThan(0);
    });

    it('2b. shown together with Open311, the totals hide no remainder: every published period total is exactly the requests Open311 lists for its days', async () => {
      // Open311 lists every published request one by one, by the local day it was made. A total
      // that held anything Open311 leaves out (a sensitive service) would give that count away as
      // total − Open311's requests: found by this crawler, and closed by leaving sensitive
      // services out of every public figure.
      const recovered: string[] = [];
      let tried = 0;
      let otherWithheld = 0;
      let otherRecovered = 0;
      for (const period of PERIODS) {
        const release = found.releases[period];
        const { cube, values, protection } = release;
        const [rowsAxis, timeAxis] = cube.axes;
        const serviceNodes = rowsAxis.atDepth(2, 'service');
        expect(serviceNodes.map((i) => rowsAxis.nodes[i].key)).not.toContain(city.sensitive.name);
        for (const ti of timeAxis.atDepth(1)) {
          const start = timeAxis.nodes[ti].key;
          const withheld = (c: number) => protection.state[c] !== PUBLISHED;
          const totalCell = cube.index([0, ti]);
          const others = serviceNodes.filter((i) => withheld(cube.index([i, ti])));
          if (withheld(totalCell) && others.length === 0) continue;
          const { counts } = await open311CountsByService(fastify, start, periodEnd(period, start));
          // How many withheld counts of the services Open311 gives back by counting its requests (reported, not failed: Open311 lists those requests by design).
          for (const i of others) {
            otherWithheld++;
            if ((counts.get(rowsAxis.nodes[i].key) ?? 0) === values.opened[cube.index([i, ti])]) otherRecovered++;
          }
          if (withheld(totalCell)) continue;
          tried++;
          const listed = [...counts.values()].reduce((a, b) => a + b, 0);
          const remainder = values.opened[totalCell] - listed;
          if (remainder !== 0) recovered.push(`${period} ${start}: /api/public/kpis?by=${period}&period=${period} publishes ${values.opened[totalCell]} requests and /open311/v2/requests.json?start_date=${start}&end_date=${periodEnd(period, start)} lists ${listed}: ${remainder} requests hidden in the total`);
        }
      }
      console.log(
        `${city.label}: ${tried} published period totals held against Open311; ${recovered.length} hide a remainder. ` +
          `Other services: ${otherRecovered} of ${otherWithheld} withheld service × period counts equal the requests Open311 lists for them.`,
      );
      if (recovered.length) console.log(recovered.slice(0, 5).join('\n'));
      expect(recovered).toEqual([]);
    });

    it('the checks have teeth: a page showing one withheld cell, a 0 for a withheld count, an exact point or a case id would be caught', async () => {
      // A page that published a complementary cell it was given to withhold: the comparison names
      // it, and the audit over that view pins a withheld count down (for some such cell).
      const month = found.releases.month;
      const seenMonth = found.seen.filter((x) => x.period === 'month');
      const complementary = [...month.protection.state.keys()].filter((i) => month.protection.state[i] === COMPLEMENTARY);
      expect(complementary.length).toBeGreaterThan(0);
      let pinned = 0;
      for (const c of complementary) {
        const v = viewOf(month, seenMonth);
        v.view.set(c, new Set([month.values.opened[c]]));
        if ((await auditAsSeen(month, v.view, k)).narrow.length > 0) pinned++;
      }
      expect(pinned).toBeGreaterThan(0);
      // A withheld count shown as 0 on a page.
      const page = pages().find((f) => htmlCounts(f.url, f.body, () => undefined).seen.some((s) => s.value === null && s.period === 'month'))!;
      expect(page).toBeDefined();
      const doctored = page.body.replace(/(<td class="num">)<span class="flag">suppressed<\/span>/, (_m, td: string) => `${td}0`);
      const d = htmlCounts(page.url, doctored, () => undefined);
      expect(d.problems.length + viewOf(month, [...seenMonth.filter((s) => s.url !== page.url), ...d.seen.filter((s) => s.period === 'month')]).wrong.length).toBeGreaterThan(0);
      // A request's own point where Open311 gives its cell's centre.
      const p = (await t.wh.one<{ lat: number; lon: number; case_id: string }>('SELECT lat, lon, case_id FROM cases WHERE lat IS NOT NULL ORDER BY case_id LIMIT 1'))!;
      const [clat, clon] = cellToLatLng(latLngToCell(p.lat, p.lon, 8));
      expect(Math.abs(clat - p.lat) > 1e-6 || Math.abs(clon - p.lon) > 1e-6).toBe(true);
      expect(pointsIn(`<td>${p.lat}, ${p.lon}</td>`, { latMin: p.lat - 1, latMax: p.lat + 1, lonMin: p.lon - 1, lonMax: p.lon + 1 })).toHaveLength(1);
      // A case id or a time on a page.
      expect(findIds(`${page.body}<p>${p.case_id}</p>`, new Set([p.case_id]), [p.case_id.length])).toEqual([p.case_id]);
      expect(`${page.body}<p>opened at 14:05</p>`.match(CLOCK)).toEqual(['14:05']);
    });

    it('3. coarse geography only: no point on the pages, in the CSV or JSON; Open311 points are H3 r8 cell centres; no address anywhere', async () => {
      const b = (await t.wh.one<{ latMin: number; latMax: number; lonMin: number; lonMax: number }>(
        'SELECT min(lat) AS "latMin", max(lat) AS "latMax", min(lon) AS "lonMin", max(lon) AS "lonMax" FROM cases WHERE lat IS NOT NULL',
      ))!;
      const bounds = { latMin: b.latMin - 0.5, latMax: b.latMax + 0.5, lonMin: b.lonMin - 0.5, lonMax: b.lonMax + 0.5 };
      for (const f of dataBodies()) expect([f.url, pointsIn(f.body, bounds)]).toEqual([f.url, []]);
      // No field of the public API names a place finer than an area.
      for (const f of dataBodies().filter((x) => x.url.startsWith('/api/public/'))) {
        const keys = f.url.includes('format=csv') ? Object.keys(parseCsv(f.body)[0] ?? {}) : [...f.body.matchAll(/"([a-z_]+)":/g)].map((m) => m[1]);
        expect([f.url, keys.filter((x) => /^(lat|lon|long|latitude|longitude|x|y|h3.*|address.*|zip.*|point|location)$/.test(x))]).toEqual([f.url, []]);
      }

      const { requests, xmlRequests } = found.open311;
      const located = requests.filter((r) => r.lat !== undefined);
      expect(located.length).toBeGreaterThan(100);
      const centre = (lat: number, long: number) => cellToLatLng(latLngToCell(lat, long, 8));
      const off: string[] = [];
      for (const r of requests) {
        expect([r.service_request_id, Object.keys(r).filter((x) => !OPEN311_FIELDS.has(x))]).toEqual([r.service_request_id, []]);
        if (r.lat === undefined && r.long === undefined) continue;
        const [clat, clong] = centre(r.lat!, r.long!);
        // Written to six decimals (about 0.1 m); an exact point is up to ~460 m from its centre.
        if (Math.abs(clat - r.lat!) > 1e-6 || Math.abs(clong - r.long!) > 1e-6) off.push(`${r.service_request_id}: ${r.lat},${r.long} (centre ${clat},${clong})`);
      }
      for (const r of xmlRequests) {
        expect([r.service_request_id, Object.keys(r).filter((x) => !OPEN311_FIELDS.has(x))]).toEqual([r.service_request_id, []]);
        if (r.lat === undefined) continue;
        const [clat, clong] = centre(Number(r.lat), Number(r.long));
        if (Math.abs(clat - Number(r.lat)) > 1e-6 || Math.abs(clong - Number(r.long)) > 1e-6) off.push(`XML ${String(r.service_request_id)}: ${String(r.lat)},${String(r.long)}`);
      }
      expect(off.slice(0, 10)).toEqual([]);
      for (const f of found.open311.fetched) expect([f.url, /address|zipcode|<description>|media_url/i.test(f.url.includes('/services.') ? '' : f.body)]).toEqual([f.url, false]);
    });

    it('4. the sensitive service is published nowhere — no table, total, page or Open311 — and the totals are the other services\' staff count', async () => {
      const { code, name } = city.sensitive;
      // It is in the data (else this proves nothing) …
      const inData = (await t.wh.one<{ n: number }>('SELECT count(*)::INTEGER AS n FROM cases WHERE service_name = $name', { name }))!.n;
      expect(inData).toBeGreaterThan(0);
      // … but no published count is labelled with it, and no count by area carries a service.
      expect(found.seen.filter((s) => s.service === name)).toEqual([]);
      expect(found.seen.filter((s) => s.area !== undefined && (s.service !== undefined || s.group !== undefined))).toEqual([]);
      // No page shows it but to say it is left out (the methodology and the footnotes name it).
      for (const f of pages()) {
        const body = text(f.body);
        const mentions = body.split(name).length - 1;
        const explained = (body.match(/not published at all/g) ?? []).length;
        expect([f.url, mentions <= explained]).toEqual([f.url, true]);
      }
      // The overall count is the staff count less the sensitive service's.
      const pub = await publicKpis(t.wh, [], { period: 'month', policy: { ...DEFAULT_POLICY, ...city.disclosure }, timezone: city.timezone });
      const window = await resolveWindow(t.wh, { from: pub.from!, to: pub.to!, as_of: pub.as_of }, city.timezone);
      const staff = (await computeKpis(t.wh, ['service'], window, {}, {})).rows;
      expect(pub.tables[0].rows[0].opened).toBe(staff.filter((r) => r.service !== name).reduce((sum, r) => sum + r.opened, 0));

      // Open311: not a service, none of its requests listed, asked for or found by id.
      const svc = found.open311.services;
      expect(svc.length).toBeGreaterThan(3);
      expect(svc.filter((s) => s.service_code === code || s.service_name === name)).toEqual([]);
      const xmlServices = xmlItems(found.open311.fetched.find((f) => f.url.endsWith('/services.xml'))!.body, 'services', 'service');
      expect(xmlServices.filter((s) => s.service_code === code || s.service_name === name)).toEqual([]);
      expect(found.open311.requests.filter((r) => r.service_code === code || r.service_name === name)).toEqual([]);
      expect(found.open311.xmlRequests.filter((r) => r.service_code === code || r.service_name === name)).toEqual([]);
      const ids = (await t.wh.all<{ case_id: string }>('SELECT case_id FROM cases WHERE service_name = $name ORDER BY case_id LIMIT 3', { name })).map((r) => r.case_id);
      expect(ids.length).toBe(3);
      for (const id of ids) {
        for (const ext of ['json', 'xml']) expect((await get(fastify, `/open311/v2/requests/${encodeURIComponent(id)}.${ext}`)).status).toBe(404);
      }
      const byId = await get(fastify, `/open311/v2/requests.json?service_request_id=${encodeURIComponent(ids.join(','))}`);
      expect([byId.status, JSON.parse(byId.body)]).toEqual([200, []]);
      const byCode = await get(fastify, `/open311/v2/requests.json?service_code=${encodeURIComponent(code)}`);
      if (byCode.status === 200) expect(JSON.parse(byCode.body)).toEqual([]);
      else expect(byCode.status).toBe(400);
    });

    it('5. no time finer than the day outside Open311, the data\'s as-of included', async () => {
      const finer: string[] = [];
      const asOf = new Set<string>();
      for (const f of dataBodies()) {
        if (f.type.startsWith('application/json')) {
          const walk = (v: unknown, path: string): void => {
            if (typeof v === 'string') {
              if (path.endsWith('.as_of')) asOf.add(v);
              if (v.match(CLOCK) || /\d{4}-\d{2}-\d{2}T/.test(v)) finer.push(`${f.url} ${path}: ${v}`);
            } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${path}[${i}]`));
            else if (v && typeof v === 'object') for (const [key, x] of Object.entries(v)) walk(x, `${path}.${key}`);
          };
          walk(JSON.parse(f.body), '$');
        } else {
          for (const m of f.body.matchAll(CLOCK)) finer.push(`${f.url}: …${f.body.slice(Math.max(0, m.index! - 40), m.index! + 20)}…`);
          if (/\d{4}-\d{2}-\d{2}T\d/.test(f.body)) finer.push(`${f.url}: an ISO instant`);
        }
      }
      expect(finer.slice(0, 20)).toEqual([]);
      // The as-of is the local day of the newest event (its exact time was once published: the
      // instant of one request's close).
      expect([...asOf]).toHaveLength(1);
      expect([...asOf][0]).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    });

    it('6. no case identifier (nor any other record id) outside Open311', async () => {
      const rows = await t.wh.all<{ id: string }>(
        `SELECT case_id AS id FROM cases UNION SELECT source_case_id FROM cases UNION SELECT event_id FROM case_events
         UNION SELECT interaction_id FROM interactions UNION SELECT citizen_key FROM interactions WHERE citizen_key IS NOT NULL`,
      );
      const ids = new Set(rows.map((r) => r.id));
      expect(ids.size).toBeGreaterThan(1000);
      // An id as short as a count would be found in every page; none is that short.
      expect([...ids].filter((x) => x.length < 6)).toEqual([]);
      const lengths = [...new Set([...ids].map((x) => x.length))];
      const leaks: string[] = [];
      for (const f of dataBodies()) {
        const hit = findIds(f.body, ids, lengths);
        if (hit.length) leaks.push(`${f.url}: ${hit.slice(0, 5).join(', ')}${hit.length > 5 ? ` and ${hit.length - 5} more` : ''}`);
      }
      expect(leaks).toEqual([]);
      // The check can see an id where one is: Open311 gives them.
      const o = found.open311.fetched.find((f) => f.url.includes('/requests.json'))!;
      expect(findIds(o.body, ids, lengths).length).toBeGreaterThan(0);
    });
  });
}

crawlerSuite({
  label: 'demo city',
  open: demoWarehouse,
  timezone: 'America/New_York',
  jurisdiction: 'Riverton (demo city)',
  // k 60 withholds weekly counts and some monthly ones by area; Water Leak is never by area.
  disclosure: { k: 60, min_denominator: 20, sensitive_services: ['Water Leak'] },
  sensitive: { code: 'WATERLEAK', name: 'Water Leak' },
  areaPages: 8,
});

crawlerSuite({
  label: 'LA export',
  open: async () => {
    const t = await tempWarehouse();
    await ingestFile(t.wh, LA311_CSV, loadProfile('myla311'));
    await loadAreasGeoJson(t.wh, fixture('la311/la_council_districts_2012.geojson'), { kind: 'council_district', idProperty: 'external_id', nameProperty: 'name' });
    await loadAreasGeoJson(t.wh, fixture('la311/la_neighborhood_councils_2019.geojson'), { kind: 'neighborhood_council', idProperty: 'nc_id', nameProperty: 'name' });
    await assignPlaces(t.wh);
    return t;
  },
  timezone: 'America/Los_Angeles',
  jurisdiction: 'City of Los Angeles',
  disclosure: { k: 10, min_denominator: 20, sensitive_services: ['Homeless Encampment'] },
  sensitive: { code: 'Homeless Encampment', name: 'Homeless Encampment' },
  areaPages: 15,
});
