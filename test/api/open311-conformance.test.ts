// Open311 GeoReport v2 conformance (issue 13 item 5), written from the spec
// (../shared/data/real/open311/spec/GeoReport_v2_index.md and GeoReport_v2_Extensions.md) for
// what existing validators leave out — GET requests: dates with and without offsets, across the
// jurisdiction's DST changes, milliseconds, the 90-day window, the 1000 cap, paging without gaps or
// repeats, empty parameters, error codes and bodies, JSON/XML equivalence — plus the community JSON
// Schemas, the public-field rules (no address, points generalised, sensitive services absent), and
// our own ingest reading our own output back with the same counts.
//
// Expectations are computed independently of the route: from the warehouse's cases with plain SQL
// here, and local times with the platform's Intl (not DuckDB's ICU, which the route uses).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { cellToLatLng, latLngToCell } from 'h3-js';
import fc from 'fast-check';
import app, { FASTIFY_OPTIONS, type AppOptions } from '../../api/app.ts';
import { demoWarehouse } from '../demo-warehouse.ts';
import { tempWarehouse, type TempWarehouse } from '../helpers.ts';
import { ingestFile } from '../../ingest/load.ts';
import { loadProfile } from '../../ingest/profile.ts';

// The community schemas, copied from ../shared/data/real/open311/schema/ (a fresh clone has no ../shared).
const SPEC = join(import.meta.dirname, '../fixtures/open311');
const SENSITIVE = { code: 'NOISE', name: 'Noise Complaint' };
const BASE = '/open311/v2';

type Req = Record<string, unknown> & { service_request_id: string; status: string; service_code: string; requested_datetime: string; lat?: number; long?: number; notes?: Record<string, string>[] };
type Errors = { code: number; description: string }[];

/** Every field the spec's request has that we may return (no address, address_id, zipcode, description, media_url, service_notice) + the trail extension. */
const PUBLIC_FIELDS = new Set([
  'service_request_id', 'status', 'status_notes', 'service_name', 'service_code', 'agency_responsible',
  'requested_datetime', 'updated_datetime', 'expected_datetime', 'lat', 'long', 'notes',
]);

const xmlParser = new XMLParser({ parseTagValue: false, isArray: (name) => ['service', 'request', 'error', 'note'].includes(name) });

/** The JSON form as the XML must carry it: every value a string, the trail as <notes><note>…, an empty list as an empty element. */
function asXmlValues(rows: object[]): unknown[] {
  return rows.map((r) =>
    Object.fromEntries(
      Object.entries(r).map(([k, v]) => [k, k === 'notes' ? ((v as object[]).length ? { note: asXmlValues(v as object[]) } : '') : String(v)]),
    ),
  );
}
function xmlList(body: string, root: string, item: string): unknown[] {
  expect(body.startsWith('<?xml version="1.0" encoding="utf-8"?>')).toBe(true);
  const doc = xmlParser.parse(body) as Record<string, Record<string, unknown[]> | ''>;
  expect(Object.keys(doc).filter((k) => k !== '?xml')).toEqual([root]);
  const container = doc[root];
  return container === '' ? [] : (container[item] ?? []);
}

/** The instant's local wall time and offset in `tz`, by Intl: the independent reference for every datetime the API writes. */
function localW3c(ms: number, tz: string): string {
  const f = new Intl.DateTimeFormat('en-US', {
    timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'longOffset',
  });
  const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  const frac = ms % 1000 === 0 ? '' : `.${String(((ms % 1000) + 1000) % 1000).padStart(3, '0')}`;
  const offset = p.timeZoneName === 'GMT' ? '+00:00' : p.timeZoneName.slice(3);
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}${frac}${offset}`;
}

describe('Open311 GeoReport v2 conformance (demo city)', () => {
  let t: TempWarehouse;
  let fastify: FastifyInstance;
  let tz: string;

  const get = async (url: string, headers: Record<string, string> = {}) => fastify.inject({ url, headers });
  const json = async <T = Req[]>(url: string, status = 200): Promise<T> => {
    const r = await get(url);
    expect([url, r.statusCode]).toEqual([url, status]);
    expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
    return r.json() as T;
  };
  /** Every page of a query, in order, until a short page. */
  const allPages = async (query: string, pageSize = 1000): Promise<Req[][]> => {
    const pages: Req[][] = [];
    for (let page = 1; ; page++) {
      const rows = await json(`${BASE}/requests.json?${query}${query ? '&' : ''}page=${page}&page_size=${pageSize}`);
      pages.push(rows);
      if (rows.length < pageSize) return pages;
      expect(page, 'paging must end').toBeLessThan(100);
    }
  };
  /** The 90 local days 2026-08-01 to 2026-10-29, every page: walked once, read by several tests below. */
  const WINDOW_90 = 'start_date=2026-08-01&end_date=2026-10-29';
  let window90: Promise<Req[]> | undefined;
  const walk90 = () => (window90 ??= allPages(WINDOW_90).then((pages) => pages.flat()));
  /** What the warehouse holds for a window of instants, sensitive service excluded: case id → status and opening (epoch ms). */
  const expected = async (fromIso: string, toIso: string) =>
    t.wh.all<{ case_id: string; status: string; service_code: string; opened_ms: number; h3_r8: string; lat: number; lon: number; opened_day: string }>(
      `SELECT case_id, status, service_code, epoch_ms(opened_at)::DOUBLE AS opened_ms, h3_r8, lat, lon, strftime(opened_day, '%Y-%m-%d') AS opened_day
       FROM cases WHERE opened_at >= $from::TIMESTAMPTZ AND opened_at <= $to::TIMESTAMPTZ AND service_code <> $sens
       ORDER BY opened_at DESC, case_id`,
      { from: fromIso, to: toIso, sens: SENSITIVE.code },
    );

  beforeAll(async () => {
    t = await demoWarehouse();
    fastify = Fastify({ logger: false, ...FASTIFY_OPTIONS });
    // The configuration a city would write: the noise complaints withheld from everything public.
    const config = { timezone: null, jurisdiction: null, disclosure: { sensitive_services: [SENSITIVE.name] } } as unknown as AppOptions['config'];
    await fastify.register(app, { warehouse: t.wh, config, dashboardDir: '/nonexistent', limits: { public_per_minute: 100_000 } });
    await fastify.ready();
    tz = (await fastify.jurisdiction()).timezone;
  });
  afterAll(async () => {
    await fastify.close();
    t.cleanup();
  });

  it('the demo city is a jurisdiction with DST changes inside its data (or these tests prove little)', async () => {
    expect(tz).toBe('America/New_York');
    const span = (await t.wh.one<{ first: string; last: string }>(`SELECT min(opened_at)::VARCHAR AS first, max(opened_at)::VARCHAR AS last FROM cases`))!;
    expect(span.first < '2026-03-08' && span.last > '2026-11-02').toBe(true);
  });

  describe('GET services', () => {
    it('lists every catalogue service but the sensitive one, as the spec and the community schema have it', async () => {
      const services = await json<Record<string, unknown>[]>(`${BASE}/services.json`);
      const catalogue = await t.wh.all<{ service_code: string; name: string; service_group: string; agency: string }>(`SELECT service_code, name, service_group, agency FROM services ORDER BY service_code`);
      expect(services.map((s) => s.service_code)).toEqual(catalogue.map((c) => c.service_code).filter((c) => c !== SENSITIVE.code));
      for (const s of services) {
        const c = catalogue.find((x) => x.service_code === s.service_code)!;
        expect(s).toMatchObject({ service_name: c.name, group: c.service_group, metadata: false, type: 'realtime' });
        // Made of what the catalogue says, nothing invented: its name, group and agency.
        expect(s.description).toContain(c.name);
        expect(s.description).toContain(c.agency);
        expect(s.keywords).toBe([...new Set([c.service_group, c.agency])].join(', '));
      }
      expect(JSON.stringify(services)).not.toContain(SENSITIVE.name);
      const xml = await get(`${BASE}/services.xml`);
      expect(xml.headers['content-type']).toBe('text/xml; charset=utf-8');
      expect(xmlList(xml.body, 'services', 'service')).toEqual(asXmlValues(services));
    });
  });

  describe('GET requests: window', () => {
    it('defaults to the 90 days up to the newest request (not up to now), newest first, at most 1000', async () => {
      const newest = (await t.wh.one<{ t: string; start: string }>(
        `SELECT strftime(max(opened_at), '%Y-%m-%dT%H:%M:%S.%fZ') AS t, strftime(timezone($tz, (max(opened_at) AT TIME ZONE $tz) - INTERVAL 90 DAY), '%Y-%m-%dT%H:%M:%S.%fZ') AS start
         FROM cases WHERE service_code <> $sens`,
        { tz, sens: SENSITIVE.code },
      ))!;
      const first = await json(`${BASE}/requests.json`);
      expect(first).toHaveLength(1000);
      expect(Date.parse(first[0].requested_datetime)).toBe(Date.parse(newest.t));
      const want = await expected(newest.start, newest.t);
      expect(want.length).toBeGreaterThan(5000); // several pages, so the cap and paging are exercised
      const pages = await allPages('');
      expect(pages[0]).toEqual(first);
      expect(pages.flat().map((r) => r.service_request_id)).toEqual(want.map((w) => w.case_id));
    });

    it('reads the same instant the same way with Z, with an offset, without one (local time) and with milliseconds', async () => {
      // A window around the spring-forward change: 2026-03-08 02:00 EST did not happen (clocks went to 03:00 EDT).
      const forms = [
        ['2026-03-07T12:00:00Z', '2026-03-08T12:00:00Z'],
        ['2026-03-07T07:00:00-05:00', '2026-03-08T08:00:00-04:00'],
        ['2026-03-07T13:00:00+01:00', '2026-03-08T13:00:00+0100'],
        ['2026-03-07T07:00:00', '2026-03-08T08:00:00'], // local: EST, then EDT
        ['2026-03-07T07:00:00.000-05:00', '2026-03-08T12:00:00.000Z'],
        ['2026-03-07T07:00-05:00', '2026-03-08T08:00-04:00'], // W3C hh:mm without seconds
      ];
      const want = (await expected('2026-03-07T12:00:00Z', '2026-03-08T12:00:00Z')).map((w) => w.case_id);
      expect(want.length).toBeGreaterThan(50);
      for (const [s, e] of forms) {
        const got = await json(`${BASE}/requests.json?start_date=${encodeURIComponent(s)}&end_date=${encodeURIComponent(e)}`);
        expect([s, e, got.map((r) => r.service_request_id)]).toEqual([s, e, want]);
      }
      // A "+" a client forgot to escape arrives as a space; it still means +hh:mm.
      const unescaped = await json(`${BASE}/requests.json?start_date=2026-03-07T13:00:00+01:00&end_date=2026-03-08T13:00:00+01:00`);
      expect(unescaped.map((r) => r.service_request_id)).toEqual(want);
    });

    it('bounds are inclusive to the millisecond', async () => {
      const [r] = await json(`${BASE}/requests.json?start_date=2026-03-07T00:00:00&end_date=2026-03-07T23:59:59&page_size=1`);
      const at = Date.parse(r.requested_datetime);
      const iso = (ms: number) => encodeURIComponent(localW3c(ms, tz));
      const ids = async (from: number, to: number) => (await json(`${BASE}/requests.json?start_date=${iso(from)}&end_date=${iso(to)}`)).map((x) => x.service_request_id);
      expect(await ids(at, at)).toContain(r.service_request_id);
      expect(await ids(at - 1, at - 1)).not.toContain(r.service_request_id);
      expect(await ids(at + 1, at + 1000)).not.toContain(r.service_request_id);
      expect(await ids(at - 1, at + 1)).toContain(r.service_request_id);
      expect(iso(at - 1)).toMatch(/\.999/);
    });

    it('a local day is the jurisdiction\'s day, on the 23-hour and the 25-hour days of DST', async () => {
      for (const day of ['2026-03-08', '2026-11-01']) {
        const want = (await t.wh.all<{ case_id: string }>(
          `SELECT case_id FROM cases WHERE opened_day = $day::DATE AND service_code <> $sens ORDER BY opened_at DESC, case_id`,
          { day, sens: SENSITIVE.code },
        )).map((w) => w.case_id);
        expect(want.length).toBeGreaterThan(10);
        const byDate = await json(`${BASE}/requests.json?start_date=${day}&end_date=${day}`);
        const byLocal = await json(`${BASE}/requests.json?start_date=${day}T00:00:00&end_date=${day}T23:59:59.999`);
        expect(byDate.map((r) => r.service_request_id)).toEqual(want);
        expect(byLocal.map((r) => r.service_request_id)).toEqual(want);
        for (const r of byDate) expect(r.requested_datetime.slice(0, 10)).toBe(day);
      }
    });

    it('writes every datetime in the jurisdiction\'s zone with the offset of its instant, DST included', async () => {
      const rows = [
        ...(await json(`${BASE}/requests.json?start_date=2026-03-07&end_date=2026-03-09&extensions=true`)),
        ...(await json(`${BASE}/requests.json?start_date=2026-10-31&end_date=2026-11-02&extensions=true`)),
      ];
      const db = new Map([...(await expected('2026-03-07T00:00:00Z', '2026-03-10T12:00:00Z')), ...(await expected('2026-10-31T00:00:00Z', '2026-11-03T12:00:00Z'))].map((w) => [w.case_id, w]));
      const offsets = new Set<string>();
      for (const r of rows) {
        expect(localW3c(db.get(r.service_request_id)!.opened_ms, tz)).toBe(r.requested_datetime);
        for (const v of [r.requested_datetime, r.updated_datetime, r.expected_datetime, ...(r.notes ?? []).map((n) => n.datetime)]) {
          if (v === undefined) continue;
          expect(v).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?[+-]\d{2}:\d{2}$/);
          expect(localW3c(Date.parse(v as string), tz)).toBe(v);
          offsets.add((v as string).slice(-6));
        }
      }
      expect(offsets).toEqual(new Set(['-05:00', '-04:00']));
      expect(rows.some((r) => /\.\d{3}-/.test(String(r.updated_datetime)))).toBe(true); // milliseconds are written where they exist
    });

    it('refuses more than 90 days apart with the spec\'s error body (JSON and XML); 90 local days across a DST change are fine', async () => {
      // 2026-08-15 → 2026-11-13 local: 90 calendar days, 2,161 hours (the fall-back hour).
      for (const [s, e, ok] of [
        ['2026-08-15T00:00:00', '2026-11-13T00:00:00', true],
        ['2026-08-15T00:00:00', '2026-11-13T00:00:01', false],
        ['2026-08-15T04:00:00Z', '2026-11-13T05:00:00Z', true],
        ['2026-08-15T04:00:00Z', '2026-11-13T05:00:00.001Z', false],
        // 2026-01-01 → 2026-04-01 local: 90 days, 2,159 hours (the spring-forward hour).
        ['2026-01-01T00:00:00-05:00', '2026-04-01T00:00:00-04:00', true],
        ['2026-01-01T00:00:00-05:00', '2026-04-01T00:00:00-05:00', false],
        ['2026-01-01', '2026-03-31', true],
        ['2026-01-01', '2026-04-01', false],
      ] as const) {
        const url = `${BASE}/requests.json?start_date=${encodeURIComponent(s)}&end_date=${encodeURIComponent(e)}&page_size=1`;
        const r = await get(url);
        expect([s, e, r.statusCode]).toEqual([s, e, ok ? 200 : 400]);
        if (!ok) expect(r.json()).toEqual([{ code: 400, description: expect.stringMatching(/more than 90 days apart/) }]);
      }
      const d91 = await get(`${BASE}/requests.xml?start_date=2026-01-01T00:00:00Z&end_date=2026-04-02T00:00:00Z`);
      expect(d91.statusCode).toBe(400);
      expect(d91.headers['content-type']).toBe('text/xml; charset=utf-8');
      expect(xmlList(d91.body, 'errors', 'error')).toEqual([{ code: '400', description: expect.stringMatching(/more than 90 days apart/) }]);
      // Given alone, a start means the 90 days after it, an end the 90 days before it.
      const startOnly = await json(`${BASE}/requests.json?start_date=2026-01-01`);
      const both = await json(`${BASE}/requests.json?start_date=2026-01-01&end_date=2026-04-01T00:00:00`);
      expect(startOnly).toEqual(both);
      const endOnly = await json(`${BASE}/requests.json?end_date=2026-04-01T00:00:00`);
      expect(endOnly).toEqual(both);
    });
  });

  describe('GET requests: the 1000 cap and paging', () => {
    it('returns at most 1000 and refuses a larger page', async () => {
      expect(await json(`${BASE}/requests.json?page_size=1000`)).toHaveLength(1000);
      const r = await get(`${BASE}/requests.json?page_size=1001`);
      expect(r.statusCode).toBe(400);
      expect(r.json()).toEqual([{ code: 400, description: 'page_size must be <= 1000' }]);
      // A list of ids is a list of those requests.
      const ids = (await json(`${BASE}/requests.json?page_size=200`)).map((x) => x.service_request_id);
      expect(await json(`${BASE}/requests.json?service_request_id=${ids.join(',')}`)).toHaveLength(200);
    });

    it('walking the pages of a window gives exactly the one-query answer: no gaps, no repeats, same order', async () => {
      const window = 'start_date=2026-10-20T00:00:00&end_date=2026-10-26T23:59:59';
      const one = await json(`${BASE}/requests.json?${window}`);
      expect(one.length).toBeGreaterThan(300);
      expect(one.length).toBeLessThan(1000);
      for (const size of [97, 250]) {
        const pages = await allPages(window, size);
        const ids = pages.flat().map((r) => r.service_request_id);
        expect(new Set(ids).size).toBe(ids.length);
        expect(pages.flat()).toEqual(one);
      }
      // Past the end: an empty list, not an error.
      expect(await json(`${BASE}/requests.json?${window}&page=99&page_size=50`)).toEqual([]);
    });

    it('orders newest first, ties by id, so a page boundary inside equal times neither skips nor repeats', async () => {
      const all = await walk90();
      for (let i = 1; i < all.length; i++) {
        const a = Date.parse(all[i - 1].requested_datetime);
        const b = Date.parse(all[i].requested_datetime);
        expect(a > b || (a === b && all[i - 1].service_request_id < all[i].service_request_id)).toBe(true);
      }
    });
  });

  describe('GET requests: parameters', () => {
    it('an empty parameter is the same as no parameter', async () => {
      const none = await get(`${BASE}/requests.json`);
      const empty = await get(`${BASE}/requests.json?service_request_id=&service_code=&start_date=&end_date=&status=&page=&page_size=&extensions=&jurisdiction_id=`);
      expect(empty.statusCode).toBe(200);
      expect(empty.body).toBe(none.body);
      expect((await get(`${BASE}/services.json?jurisdiction_id=`)).body).toBe((await get(`${BASE}/services.json`)).body);
    });

    it('status: open, closed (a cancelled request is closed, and says so), or both', async () => {
      const window = 'start_date=2026-09-01&end_date=2026-09-07';
      const all = await json(`${BASE}/requests.json?${window}`);
      expect(all.length).toBeLessThan(1000);
      const open = await json(`${BASE}/requests.json?${window}&status=open`);
      const closed = await json(`${BASE}/requests.json?${window}&status=closed`);
      expect(open.every((r) => r.status === 'open') && closed.every((r) => r.status === 'closed')).toBe(true);
      expect(open.length + closed.length).toBe(all.length);
      expect(await json(`${BASE}/requests.json?${window}&status=open,closed`)).toEqual(all);
      expect(await json(`${BASE}/requests.json?${window}&status=open&status=closed`)).toEqual(all); // "declared multiple times"
      const db = new Map((await t.wh.all<{ case_id: string; status: string }>(`SELECT case_id, status FROM cases`)).map((c) => [c.case_id, c.status]));
      const cancelled = closed.filter((r) => db.get(r.service_request_id) === 'cancelled');
      expect(cancelled.length).toBeGreaterThan(0);
      for (const r of cancelled) expect(r.status_notes).toBe('Cancelled');
      for (const r of open) expect(db.get(r.service_request_id)).toBe('open');
      const bad = await get(`${BASE}/requests.json?status=pending`);
      expect([bad.statusCode, bad.json()]).toEqual([400, [{ code: 400, description: expect.stringContaining('status "pending"') }]]);
    });

    it('service_code: one, or a comma list (the union)', async () => {
      const window = 'start_date=2026-09-01&end_date=2026-09-20';
      const pot = await json(`${BASE}/requests.json?${window}&service_code=POTHOLE`);
      const tree = await json(`${BASE}/requests.json?${window}&service_code=TREE`);
      const both = await json(`${BASE}/requests.json?${window}&service_code=POTHOLE,TREE`);
      expect(pot.length).toBeGreaterThan(0);
      expect(tree.length).toBeGreaterThan(0);
      expect(pot.every((r) => r.service_code === 'POTHOLE')).toBe(true);
      expect(new Set(both.map((r) => r.service_request_id))).toEqual(new Set([...pot, ...tree].map((r) => r.service_request_id)));
      expect(await json(`${BASE}/requests.json?${window}&service_code=NO_SUCH`)).toEqual([]);
    });

    it('service_request_id overrides every other argument; unknown ids are just not listed', async () => {
      const some = (await json(`${BASE}/requests.json?start_date=2026-05-01&end_date=2026-05-02&status=closed`)).slice(0, 3);
      const ids = some.map((r) => r.service_request_id);
      const got = await json(`${BASE}/requests.json?service_request_id=${ids.join(',')},nope&start_date=2025-01-01&end_date=2025-01-02&status=open&service_code=TREE&page=7`);
      expect(got).toEqual(some);
      const many = Array.from({ length: 1001 }, (_, i) => (i + 36 * 36).toString(36).slice(1)).join(','); // 1001 distinct two-character ids: under the URL limit
      const r = await get(`${BASE}/requests.json?service_request_id=${many}`);
      expect([r.statusCode, r.json()]).toEqual([400, [{ code: 400, description: expect.stringContaining('at most 1000') }]]);
    });

    it('error codes and bodies: 400 for a bad parameter, 404 for what does not exist — the spec\'s list in JSON and XML', async () => {
      const cases: [string, number, RegExp][] = [
        [`${BASE}/requests.FMT?start_date=yesterday`, 400, /start_date "yesterday" is not a W3C datetime/],
        [`${BASE}/requests.FMT?start_date=2026-02-30T00:00:00Z`, 400, /start_date "2026-02-30T00:00:00Z" is not a W3C datetime/],
        [`${BASE}/requests.FMT?end_date=2026-03-08T25:00:00Z`, 400, /end_date/],
        [`${BASE}/requests.FMT?start_date=2026-03-08&end_date=2026-03-01`, 400, /end_date \(2026-03-01\) is before start_date/],
        [`${BASE}/requests.FMT?page=0`, 400, /page must be >= 1/],
        [`${BASE}/requests.FMT?page_size=ten`, 400, /page_size/],
        [`${BASE}/requests.FMT?extensions=maybe`, 400, /extensions/],
        [`${BASE}/requests.FMT?sevice_code=TREE`, 400, /sevice_code is not a parameter here \(did you mean "service_code"\?\)/],
        [`${BASE}/requests/no-such-request.FMT`, 404, /No service request "no-such-request"/],
        [`${BASE}/services/POTHOLE.FMT`, 404, /No resource GET/],
        [`/open311/v3/requests.FMT`, 404, /No resource GET/],
      ];
      for (const [template, status, description] of cases) {
        const j = await get(template.replace('FMT', 'json'));
        expect([template, j.statusCode]).toEqual([template, status]);
        expect(j.headers['content-type']).toBe('application/json; charset=utf-8');
        const errors = j.json() as Errors;
        expect(errors).toEqual([{ code: status, description: expect.stringMatching(description) }]);
        const x = await get(template.replace('FMT', 'xml'));
        expect([template, x.statusCode, x.headers['content-type']]).toEqual([template, status, 'text/xml; charset=utf-8']);
        expect(xmlList(x.body, 'errors', 'error')).toEqual([{ code: String(status), description: expect.stringMatching(description) }]);
        // The same words, but for the path's own format.
        const path = (f: string) => template.replace('FMT', f).split('?')[0];
        expect((xmlList(x.body, 'errors', 'error')[0] as { description: string }).description).toBe(errors[0].description.replace(path('json'), path('xml')));
      }
    });

    it('answers without a token; a bad token is still refused (401)', async () => {
      expect((await get(`${BASE}/services.json`)).statusCode).toBe(200);
      expect((await get(`${BASE}/services.json`, { authorization: 'Bearer not-a-token' })).statusCode).toBe(401);
    });
  });

  describe('public fields only', () => {
    let window: Req[];
    beforeAll(async () => {
      window = await walk90();
    });

    it('no address, description, media or anything outside the public fields', () => {
      expect(window.length).toBeGreaterThan(5000);
      for (const r of window) for (const k of Object.keys(r)) expect(PUBLIC_FIELDS.has(k), k).toBe(true);
    });

    it('every point is the centre of the request\'s own H3 resolution-8 cell, never the point itself', async () => {
      const db = new Map((await expected('2026-07-31T00:00:00Z', '2026-10-31T00:00:00Z')).map((w) => [w.case_id, w]));
      let moved = 0;
      for (const r of window) {
        const c = db.get(r.service_request_id)!;
        expect(typeof r.lat === 'number' && typeof r.long === 'number').toBe(true);
        const cell = latLngToCell(r.lat!, r.long!, 8);
        expect(cell).toBe(c.h3_r8);
        const [lat, lng] = cellToLatLng(cell);
        expect(r.lat).toBeCloseTo(lat, 6);
        expect(r.long).toBeCloseTo(lng, 6);
        if (Math.abs(r.lat! - c.lat) > 1e-5 || Math.abs(r.long! - c.lon) > 1e-5) moved++;
      }
      // Generalised: all but the rare point that happens to lie within a metre of its cell's centre.
      expect(moved).toBeGreaterThan(0.99 * window.length);
    });

    it('the sensitive service does not exist here: not listed, not filterable, its requests 404 like unknown ones', async () => {
      expect(window.some((r) => r.service_code === SENSITIVE.code || r.service_name === SENSITIVE.name)).toBe(false);
      const sensitive = (await t.wh.all<{ case_id: string }>(`SELECT case_id FROM cases WHERE service_code = $c LIMIT 3`, { c: SENSITIVE.code })).map((c) => c.case_id);
      expect(sensitive).toHaveLength(3);
      expect(await json(`${BASE}/requests.json?service_code=${SENSITIVE.code}`)).toEqual(await json(`${BASE}/requests.json?service_code=NO_SUCH`));
      expect(await json(`${BASE}/requests.json?service_request_id=${sensitive.join(',')}`)).toEqual([]);
      for (const id of sensitive) {
        const r = await get(`${BASE}/requests/${encodeURIComponent(id)}.json`);
        expect([r.statusCode, r.json()]).toEqual([404, [{ code: 404, description: `No service request "${id}"` }]]);
      }
    });

    it('extensions=true adds the public trail: event types and times only, in order, never a note', async () => {
      const types = new Set<string>();
      const db = new Map((await t.wh.all<{ case_id: string; status: string }>(`SELECT case_id, status FROM cases`)).map((c) => [c.case_id, c.status]));
      const trail = (await allPages('start_date=2026-10-01&end_date=2026-10-29&extensions=true')).flat();
      expect(trail.map(({ notes, ...r }) => (expect(notes).toBeDefined(), r))).toEqual(window.filter((r) => r.requested_datetime >= '2026-10-01'));
      let openSeen = 0;
      for (const r of trail) {
        const notes = r.notes!;
        expect(notes[0].type).toBe('opened');
        expect(notes[0].datetime).toBe(r.requested_datetime);
        for (let i = 1; i < notes.length; i++) expect(Date.parse(notes[i].datetime)).toBeGreaterThanOrEqual(Date.parse(notes[i - 1].datetime));
        for (const n of notes) {
          expect(Object.keys(n).sort()).toEqual(['datetime', 'description', 'type']);
          types.add(n.type);
        }
        if (db.get(r.service_request_id) === 'cancelled') expect(notes.at(-1)!.type).toBe('cancelled');
        if (r.status === 'closed' && r.status_notes === undefined) expect(notes.filter((n) => n.type === 'closed').at(-1)!.datetime).toBe(r.updated_datetime);
        // An open request was last updated by its last public event, never by a note's time.
        if (r.status === 'open') {
          expect(notes.at(-1)!.datetime).toBe(r.updated_datetime);
          openSeen++;
        }
      }
      expect(openSeen).toBeGreaterThan(0);
      expect([...types].every((x) => ['opened', 'acknowledged', 'assigned', 'status_changed', 'closed', 'reopened', 'cancelled'].includes(x))).toBe(true);
      expect(types).toContain('reopened');
      const plain = await json(`${BASE}/requests.json?page_size=5`);
      expect(plain.every((r) => !('notes' in r))).toBe(true);
    });
  });

  describe('formats and schemas', () => {
    it('XML carries exactly what JSON does: services, requests with their trail, one request, errors', async () => {
      for (const q of ['requests.FMT?start_date=2026-03-07&end_date=2026-03-09&extensions=true', 'requests.FMT?page_size=300', 'requests.FMT?service_code=NO_SUCH']) {
        const j = await json(`${BASE}/${q.replace('FMT', 'json')}`);
        const x = await get(`${BASE}/${q.replace('FMT', 'xml')}`);
        expect(x.statusCode).toBe(200);
        expect(x.headers['content-type']).toBe('text/xml; charset=utf-8');
        expect(xmlList(x.body, 'service_requests', 'request')).toEqual(asXmlValues(j));
      }
      const [one] = await json(`${BASE}/requests.json?page_size=1&extensions=true`);
      const id = encodeURIComponent(one.service_request_id);
      expect(await json(`${BASE}/requests/${id}.json?extensions=true`)).toEqual([one]);
      const x = await get(`${BASE}/requests/${id}.xml?extensions=true`);
      expect(xmlList(x.body, 'service_requests', 'request')).toEqual(asXmlValues([one]));
    });

    it('validates against the Open311 community JSON Schemas', async () => {
      const ajv = new Ajv({ strict: false, allErrors: true });
      addFormats(ajv);
      for (const f of ['request.json', 'requests.json', 'service.json', 'services.json']) ajv.addSchema(JSON.parse(readFileSync(join(SPEC, 'schema', f), 'utf8')), f);
      const check = (schema: string, body: unknown) => {
        const ok = ajv.validate(schema, body);
        expect(ok ? [] : ajv.errors).toEqual([]);
      };
      check('services.json', await json(`${BASE}/services.json`));
      check('requests.json', await json(`${BASE}/requests.json`));
      check('requests.json', await json(`${BASE}/requests.json?start_date=2026-11-01&end_date=2026-11-01&extensions=true`));
      const [one] = await json(`${BASE}/requests.json?status=closed&page_size=1`);
      check('requests.json', await json(`${BASE}/requests/${encodeURIComponent(one.service_request_id)}.json`));
      // And the schema is not a rubber stamp: a request without its required fields fails it.
      expect(ajv.validate('requests.json', [{ ...one, status: 'cancelled' }])).toBe(false);
    });

    it('the spec\'s own example response validates too (the schemas are what the spec says)', () => {
      const ajv = new Ajv({ strict: false });
      addFormats(ajv);
      ajv.addSchema(JSON.parse(readFileSync(join(SPEC, 'schema', 'request.json'), 'utf8')), 'request.json');
      expect(ajv.validate('request.json', { service_request_id: '638344', status: 'closed', service_code: '006', requested_datetime: '2010-04-14T06:37:38-08:00' })).toBe(true);
    });
  });

  it('round trip: our own requests.json, read back by our own ingest (open311 profile), has the same cases and counts', async () => {
    const out = await walk90();
    expect(out.length).toBeGreaterThan(5000);
    const fresh = await tempWarehouse();
    try {
      const file = fresh.write('requests.json', JSON.stringify(out));
      const r = await ingestFile(fresh.wh, file, loadProfile('open311'));
      expect(r).toMatchObject({ read: out.length, loaded: out.length, rejected: 0 });
      const countsOf = (rows: { service_code: string; status: string }[]) => {
        const m: Record<string, { open: number; closed: number }> = {};
        for (const x of rows) (m[x.service_code] ??= { open: 0, closed: 0 })[x.status === 'open' ? 'open' : 'closed']++;
        return m;
      };
      const back = await fresh.wh.all<{ source_case_id: string; service_code: string; status: string; opened_ms: number; closed_ms: number | null }>(
        `SELECT source_case_id, service_code, status, epoch_ms(opened_at)::DOUBLE AS opened_ms, epoch_ms(closed_at)::DOUBLE AS closed_ms FROM cases`,
      );
      // The warehouse we served from, for the same window: closed and cancelled are both Open311's closed.
      const source = await t.wh.all<{ service_code: string; status: string }>(
        `SELECT service_code, status FROM cases WHERE opened_day BETWEEN '2026-08-01' AND '2026-10-29' AND service_code <> $sens`,
        { sens: SENSITIVE.code },
      );
      expect(back).toHaveLength(out.length);
      expect(source).toHaveLength(out.length);
      expect(countsOf(back)).toEqual(countsOf(out));
      expect(countsOf(back)).toEqual(countsOf(source));
      // Case by case: the same opening instant, and a closed request closed when we said.
      const served = new Map(out.map((o) => [o.service_request_id, o]));
      for (const b of back) {
        const o = served.get(b.source_case_id)!;
        expect(b.opened_ms).toBe(Date.parse(o.requested_datetime));
        if (o.status === 'closed') expect(b.closed_ms).toBe(Date.parse(o.updated_datetime as string));
      }
    } finally {
      fresh.cleanup();
    }
  });

  it('200 generated requests with odd values: never a 5xx, every error in the spec\'s shape, every answer in its format', async () => {
    const PARAMS = ['service_request_id', 'service_code', 'start_date', 'end_date', 'status', 'page', 'page_size', 'extensions', 'jurisdiction_id', 'bogus'];
    const value = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.string({ unit: 'binary', maxLength: 20 }),
      fc.constantFrom('', ' ', '0', '-1', '1e309', '1001', 'true', 'open,closed,', ',', '9999-12-31T23:59:59+14:59', '1900-01-01', '2026-03-08T02:30:00', '2026-11-01T01:30:00', '2026-13-01', '2026-03-08T01:59:59.9999999-05:00', "'; DROP TABLE cases; --", '%', '<x>&amp;'),
    );
    const request = fc.record({
      path: fc.constantFrom('services', 'requests', 'requests/demo:RVT-0000001', 'requests/%ZZ', 'requests/<a>', 'requests/..'),
      format: fc.constantFrom('json', 'xml'),
      query: fc.array(fc.tuple(fc.constantFrom(...PARAMS), value), { maxLength: 4 }),
    });
    for (const r of fc.sample(request, { numRuns: 200, seed: 311 })) {
      // Small pages unless the case is about page_size: the point here is the odd values, not 1000-request answers.
      const query = r.query.some(([k]) => k === 'page_size') ? r.query : [...r.query, ['page_size', '3']];
      const qs = query.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
      const url = `${BASE}/${r.path}.${r.format}${qs ? `?${qs}` : ''}`;
      const res = await get(url);
      expect([url, res.statusCode < 500]).toEqual([url, true]);
      // Refused before any route is found, as everywhere: a URL over limits.max_url_length (414), a
      // path that is not valid percent-encoding (Fastify's router: FST_ERR_BAD_URL).
      if (res.statusCode === 414 || (res.statusCode === 400 && res.body.includes('FST_ERR_BAD_URL'))) continue;
      expect([url, res.headers['content-type']]).toEqual([url, r.format === 'xml' ? 'text/xml; charset=utf-8' : 'application/json; charset=utf-8']);
      const body = r.format === 'xml' ? xmlList(res.body, res.statusCode === 200 ? (r.path === 'services' ? 'services' : 'service_requests') : 'errors', res.statusCode === 200 ? (r.path === 'services' ? 'service' : 'request') : 'error') : res.json();
      if (res.statusCode >= 400) expect([url, body]).toEqual([url, [{ code: r.format === 'xml' ? String(res.statusCode) : res.statusCode, description: expect.any(String) }]]);
    }
  });

  it('the public rate limit covers /open311/ and answers in the spec\'s error shape', async () => {
    const limited = Fastify({ logger: false, ...FASTIFY_OPTIONS });
    await limited.register(app, { warehouse: t.wh, config: { timezone: 'America/New_York', jurisdiction: null }, dashboardDir: '/nonexistent', limits: { public_per_minute: 2 } });
    await limited.ready();
    try {
      for (let i = 0; i < 2; i++) expect((await limited.inject(`${BASE}/services.json`)).statusCode).toBe(200);
      const r = await limited.inject(`${BASE}/services.xml`);
      expect(r.statusCode).toBe(429);
      expect(xmlList(r.body, 'errors', 'error')).toEqual([{ code: '429', description: expect.stringMatching(/Too many requests/) }]);
    } finally {
      await limited.close();
    }
  });
});
