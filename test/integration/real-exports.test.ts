// The foundation on real exports, tried as a new user would: LA with both of its boundary files
// (council districts and neighbourhood councils overlap each other), NYC and SF with only the
// area names their rows carry. Every surface agrees which area a case is in, compares areas of
// one kind at a time, follows the export's own dates, and never prints "Infinity" or "NaN".
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { ingestFile } from '../../ingest/load.ts';
import { loadProfile } from '../../ingest/profile.ts';
import { loadAreasGeoJson } from '../../ingest/areas.ts';
import { assignPlaces } from '../../ingest/places.ts';
import { createToken } from '../../warehouse/access/tokens.ts';
import { getReport } from '../../reports/definitions.ts';
import { testApp } from '../app-helper.ts';
import { fixture, LA311_CSV, tempWarehouse, type TempWarehouse } from '../helpers.ts';

/** Every JSON or text output a user can reach, scanned for numbers that are not numbers. */
const NOT_A_NUMBER = /Infinity|NaN/;

async function outputs(fastify: FastifyInstance, token: string, kinds: string[]): Promise<[string, string][]> {
  const urls = [
    '/api/dimensions', '/api/measures', '/api/kpis', '/api/kpis?by=service', '/api/kpis?by=service,week', '/api/kpis?by=agency,channel',
    '/api/kpis?by=service_group&format=csv&columns=all', '/api/trends?by=service', '/api/trends?by=service,area', '/api/trends?by=service&period=day', '/api/equity', '/api/equity?min_cases=1',
    ...kinds.flatMap((k) => [`/api/kpis?by=area&area_kind=${k}`, `/api/equity?area_kind=${k}&min_cases=1`, `/api/trends?by=area&area_kind=${k}`]),
  ];
  const out: [string, string][] = [];
  for (const url of urls) {
    const res = await fastify.inject({ url, headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode, `${url}: ${res.body.slice(0, 300)}`).toBe(200);
    out.push([url, res.body]);
  }
  const hot = await fastify.inject({ url: '/api/hotspots', headers: { authorization: `Bearer ${token}` } });
  expect(hot.statusCode, hot.body.slice(0, 300)).toBe(200);
  out.push(['/api/hotspots', hot.body]);
  return out;
}

describe('Los Angeles: the MyLA311 export with council districts and neighbourhood councils', () => {
  let t: TempWarehouse;
  let fastify: FastifyInstance;
  let token: string;
  const TZ = 'America/Los_Angeles';
  beforeAll(async () => {
    t = await tempWarehouse();
    await ingestFile(t.wh, LA311_CSV, loadProfile('myla311'));
    await loadAreasGeoJson(t.wh, fixture('la311/la_council_districts_2012.geojson'), { kind: 'council_district', idProperty: 'external_id', nameProperty: 'name' });
    await loadAreasGeoJson(t.wh, fixture('la311/la_neighborhood_councils_2019.geojson'), { kind: 'neighborhood_council', idProperty: 'nc_id', nameProperty: 'name' });
    await assignPlaces(t.wh);
    token = (await createToken(t.wh, { name: 'p', role: 'planner' })).token;
    fastify = await testApp(t.wh, { timezone: TZ, jurisdiction: 'City of Los Angeles' });
  });
  afterAll(async () => {
    await fastify.close();
    t.cleanup();
  });

  it('lists both boundary kinds and the source names, with one default', async () => {
    const d = (await fastify.inject({ url: '/api/dimensions', headers: { authorization: `Bearer ${token}` } })).json();
    expect(d.area_kinds.map((k: { kind: string }) => k.kind)).toEqual(['council_district', 'neighborhood_council', 'source']);
    expect(d.area_kinds.filter((k: { default: boolean }) => k.default)).toEqual([expect.objectContaining({ kind: 'council_district', areas: 15 })]);
    // Natural order: council district 2 before 10.
    const cds = d.areas.filter((a: { kind: string }) => a.kind === 'council_district').map((a: { name: string }) => a.name);
    expect(cds).toEqual(Array.from({ length: 15 }, (_, i) => String(i + 1)));
    expect(d.last_request.slice(0, 10)).toBe('2018-01-01'); // 31 Dec 2017 23:59 in Los Angeles
  });

  it('windows follow the export: the last day is its last request, not a close weeks later', async () => {
    const k = (await fastify.inject({ url: '/api/kpis', headers: { authorization: `Bearer ${token}` } })).json();
    expect(k.to).toBe('2017-12-31');
    expect(k.rows[0].opened).toBe(9999);
    const content = await getReport('weekly-summary').build(t.wh, { jurisdiction: 'City of Los Angeles', timezone: TZ });
    expect(content.period).toBe('2017-12-25_2017-12-31');
    expect(content.csv.rows.reduce((s, r) => s + Number(r.opened), 0)).toBeGreaterThan(5000);
  });

  it('KPIs, equity and trend series agree which area a case is in, for each kind', async () => {
    for (const kind of ['council_district', 'neighborhood_council', 'source']) {
      const kpi = (await fastify.inject({ url: `/api/kpis?by=area&area_kind=${kind}`, headers: { authorization: `Bearer ${token}` } })).json();
      expect(kpi.area_kind).toBe(kind);
      const opened = new Map<string, number>(kpi.rows.map((r: { area: string; opened: number }) => [r.area, r.opened]));
      expect([...opened.values()].reduce((a, b) => a + b, 0)).toBe(9999);
      const eq = (await fastify.inject({ url: `/api/equity?area_kind=${kind}&min_cases=1`, headers: { authorization: `Bearer ${token}` } })).json();
      expect(eq.area_kind).toBe(kind);
      for (const a of eq.areas) expect(a.cases, `${kind} ${a.area}`).toBe(opened.get(a.area));
      // Equity ranks areas of the one kind only.
      expect(eq.areas.every((a: { area: string }) => opened.has(a.area) && a.area !== '(no area)')).toBe(true);
      expect(eq.areas.length + eq.areas_too_small).toBe(opened.size - (opened.has('(no area)') ? 1 : 0));
    }
    const cd = (await fastify.inject({ url: '/api/kpis?by=area&area_kind=council_district', headers: { authorization: `Bearer ${token}` } })).json().rows;
    expect(cd.length).toBeLessThanOrEqual(16);
  });

  it('never prints Infinity or NaN, in any output', async () => {
    for (const [url, body] of await outputs(fastify, token, ['council_district', 'neighborhood_council', 'source'])) {
      expect(NOT_A_NUMBER.test(body), `${url}: ${body.match(/.{0,80}(Infinity|NaN).{0,80}/)?.[0]}`).toBe(false);
    }
  });

  it('five days of data are not a trend nor a year of anomalies', async () => {
    const tr = (await fastify.inject({ url: '/api/trends?by=service', headers: { authorization: `Bearer ${token}` } })).json();
    expect(tr.anomalies).toEqual([]);
    expect(tr.trends).toEqual([]);
  });
});

describe.each([
  ['NYC', 'nyc311/nyc311_2011_sample_2000.csv', 'nyc311', 'America/New_York'],
  ['SF', 'sf311/sf311_cases_sample_10000.csv', 'sf311', 'America/Los_Angeles'],
])('%s: the area names the rows carry, no boundary file', (_city, file, profile, tz) => {
  let t: TempWarehouse;
  let fastify: FastifyInstance;
  let token: string;
  beforeAll(async () => {
    t = await tempWarehouse();
    await ingestFile(t.wh, fixture(file), loadProfile(profile));
    token = (await createToken(t.wh, { name: 'p', role: 'planner' })).token;
    fastify = await testApp(t.wh, { timezone: tz, jurisdiction: _city });
  });
  afterAll(async () => {
    await fastify.close();
    t.cleanup();
  });

  it('groups by the source names (not every case under "(no area)")', async () => {
    const k = (await fastify.inject({ url: '/api/kpis?by=area&weeks=520', headers: { authorization: `Bearer ${token}` } })).json();
    expect(k.area_kind).toBe('source');
    const named = k.rows.filter((r: { area: string }) => r.area !== '(no area)');
    expect(named.length).toBeGreaterThan(5);
    expect(named.reduce((s: number, r: { opened: number }) => s + r.opened, 0)).toBeGreaterThan(0.9 * k.rows.reduce((s: number, r: { opened: number }) => s + r.opened, 0));
  });

  it('never prints Infinity or NaN, in any output', async () => {
    for (const [url, body] of await outputs(fastify, token, ['source'])) {
      expect(NOT_A_NUMBER.test(body), `${url}: ${body.match(/.{0,80}(Infinity|NaN).{0,80}/)?.[0]}`).toBe(false);
    }
  });
});
