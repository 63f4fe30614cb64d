// The planners' API on the demo city (issue 12 items 1–3): the map layers (their figures are
// /api/kpis' and /api/hotspots' own, GeoJSON valid: closed rings in [lng, lat]), equity with
// intervals per service group, and repeat locations — shapes, CSV, 400s.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { parse } from 'csv-parse/sync';
import { booleanPointInPolygon } from '@turf/turf';
import { cellToLatLng, latLngToCell } from 'h3-js';
import { demoWarehouse } from '../demo-warehouse.ts';
import { injectAs, testApp, type Inject } from '../app-helper.ts';
import { wilsonInterval } from '../../warehouse/stats/wilson.ts';

const TZ_CONFIG = { timezone: 'America/New_York', jurisdiction: 'Riverton (demo city)' };
const WINDOW = 'from=2026-09-01&to=2026-09-30&as_of=2026-10-03T00:00:00Z';

type Feature = { type: string; id: string; properties: Record<string, unknown>; geometry: { type: string; coordinates: number[][][] | number[][][][] } };
type Layer = { type: string; features: Feature[]; properties: Record<string, unknown> };

/** Every ring closed, with at least four positions, each [lng, lat] inside the demo city's box (lng about −77.3, lat about 41.2). */
function expectValidGeometry(f: Feature) {
  const polygons = f.geometry.type === 'MultiPolygon' ? (f.geometry.coordinates as number[][][][]) : [f.geometry.coordinates as number[][][]];
  expect(['Polygon', 'MultiPolygon']).toContain(f.geometry.type);
  for (const poly of polygons) for (const ring of poly) {
    expect(ring.length).toBeGreaterThanOrEqual(4);
    expect(ring[0]).toEqual(ring[ring.length - 1]);
    for (const [lng, lat] of ring) {
      expect(lng).toBeGreaterThan(-78);
      expect(lng).toBeLessThan(-76.5);
      expect(lat).toBeGreaterThan(40.8);
      expect(lat).toBeLessThan(41.6);
    }
  }
}

describe('planner API on the demo city', () => {
  let t: Awaited<ReturnType<typeof demoWarehouse>>;
  let fastify: FastifyInstance;
  let strict: FastifyInstance;
  let planner: Inject;
  let kpiByArea: Map<string, Record<string, number | null>>;

  beforeAll(async () => {
    t = await demoWarehouse();
    fastify = await testApp(t.wh, TZ_CONFIG);
    // display.min_denominator above any area's cases: every rate and median is "too few cases".
    strict = await testApp(t.wh, { ...TZ_CONFIG, display: { min_denominator: 1_000_000 } } as never);
    planner = await injectAs(fastify, t.wh, 'planner');
    const k = await planner(`/api/kpis?by=area&${WINDOW}`);
    expect(k.statusCode).toBe(200);
    kpiByArea = new Map(k.json().rows.map((r: Record<string, number | null> & { area: string }) => [r.area, r]));
  });
  afterAll(async () => {
    await fastify?.close();
    await strict?.close();
    t?.cleanup();
  });

  describe('GET /api/map/areas', () => {
    it('is GeoJSON of the eight districts whose on-time rates, numerators and denominators are /api/kpis?by=area\'s, classed by natural breaks', async () => {
      const res = await planner(`/api/map/areas?${WINDOW}&measure=on_time_rate`);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/geo\+json/);
      const layer = res.json() as Layer;
      expect(layer.type).toBe('FeatureCollection');
      expect(layer.features).toHaveLength(8);
      expect(layer.properties).toMatchObject({
        measure: { name: 'on_time_rate', label: 'On time', unit: 'share', cohort: 'opened', definition: expect.stringMatching(/^Opened cohort: closed by the due time/) },
        window: { from: '2026-09-01', to: '2026-09-30', as_of: '2026-10-03T00:00:00.000Z', timezone: 'America/New_York' },
        area_kind: 'district', classified_by: 'value', min_denominator: 20, too_few_areas: [], cases_in_no_area: 0, features: 8,
      });
      const values: number[] = [];
      for (const f of layer.features) {
        expectValidGeometry(f);
        const p = f.properties;
        const k = kpiByArea.get(p.name as string)!;
        expect([p.value, p.numerator, p.denominator, p.opened], p.name as string).toEqual([k.on_time_rate, k.on_time, k.on_time_denominator, k.opened]);
        expect(f.id).toBe(p.area_id);
        values.push(p.value as number);
      }
      const breaks = layer.properties.breaks as { class: number; lower: number; upper: number }[];
      expect(breaks).toHaveLength(Math.min(5, new Set(values).size));
      for (const f of layer.features) {
        const b = breaks[f.properties.class as number];
        expect(f.properties.value as number).toBeGreaterThanOrEqual(b.lower);
        expect(f.properties.value as number).toBeLessThanOrEqual(b.upper);
      }
      // The slow district (District 6) is in the lowest on-time class.
      expect(layer.features.find((f) => f.properties.name === 'District 6')!.properties.class).toBe(0);
    });

    it('counts per 1,000 residents where every area has a population; the median carries its 95% interval', async () => {
      const populations = new Map((await t.wh.all<{ area_id: string; population: number }>(`SELECT area_id, population FROM areas WHERE kind = 'district'`)).map((r) => [r.area_id, Number(r.population)]));
      const opened = (await planner(`/api/map/areas?${WINDOW}&measure=opened`)).json() as Layer;
      expect(opened.properties.classified_by).toBe('per_1000');
      for (const f of opened.features) {
        const p = f.properties;
        expect(p.value).toBe(kpiByArea.get(p.name as string)!.opened);
        expect(p.population).toBe(populations.get(p.area_id as string));
        expect(p.per_1000).toBeCloseTo(((p.value as number) / (p.population as number)) * 1000, 10);
        expect([p.numerator, p.denominator]).toEqual([null, null]);
      }
      const median = (await planner(`/api/map/areas?${WINDOW}&measure=median_hours_to_close&format=json`)).json();
      expect(median.rows).toHaveLength(8);
      for (const r of median.rows) {
        const k = kpiByArea.get(r.name)!;
        expect([r.value, r.ci_lower, r.ci_upper, r.denominator], r.name).toEqual([k.median_hours_to_close, k.median_hours_ci_lower, k.median_hours_ci_upper, k.closed]);
        expect(r.per_1000).toBeNull();
      }
      expect(median.measure.unit).toBe('hours');
    });

    it('under the minimum denominator: no value, no class, the area listed; counts are still shown', async () => {
      const inject = await injectAs(strict, t.wh, 'planner');
      const layer = (await inject(`/api/map/areas?${WINDOW}&measure=on_time_rate`)).json() as Layer;
      expect(layer.properties.min_denominator).toBe(1_000_000);
      expect((layer.properties.too_few_areas as string[]).length).toBe(8);
      expect(layer.properties.breaks).toEqual([]);
      for (const f of layer.features) expect([f.properties.value, f.properties.class, f.properties.too_few]).toEqual([null, null, true]);
      const counts = (await inject(`/api/map/areas?${WINDOW}&measure=opened`)).json() as Layer;
      expect(counts.features.every((f) => f.properties.too_few === false && typeof f.properties.value === 'number')).toBe(true);
    });

    it('CSV is the table of the layer; filters narrow it as they do the KPIs; bad measures and area kinds are 400s', async () => {
      const csv = await planner(`/api/map/areas?${WINDOW}&measure=on_time_rate&service=Pothole Repair&format=csv`);
      expect(csv.headers['content-type']).toMatch(/^text\/csv/);
      const rows = parse(csv.body, { columns: true }) as Record<string, string>[];
      expect(Object.keys(rows[0])).toEqual(['area_id', 'name', 'kind', 'value', 'numerator', 'denominator', 'ci_lower', 'ci_upper', 'opened', 'population', 'per_1000', 'too_few', 'class']);
      const pot = new Map((await planner(`/api/kpis?by=area&${WINDOW}&service=Pothole Repair`)).json().rows.map((r: { area: string; on_time_denominator: number }) => [r.area, r.on_time_denominator]));
      for (const r of rows) expect(Number(r.denominator), r.name).toBe(pot.get(r.name) ?? 0);
      const mix = await planner('/api/map/areas?measure=channel_mix');
      expect(mix.statusCode).toBe(400);
      expect(mix.json().message).toMatch(/^querystring\/measure "channel_mix" is not a measure the map can show; one of: opened, closed/);
      const source = await planner('/api/map/areas?area_kind=source');
      expect(source.statusCode).toBe(400);
      expect(source.json().message).toMatch(/area kind "source"/);
    });
  });

  describe('GET /api/map/hotspots', () => {
    it('the cells of /api/hotspots (same z, p, bins), closed [lng, lat] hexagons, each named by the district its centre lies in', async () => {
      const url = 'service=DUMPING&resolution=8&k=1';
      const layerRes = await planner(`/api/map/hotspots?${url}`);
      expect(layerRes.statusCode, layerRes.body).toBe(200);
      expect(layerRes.headers['content-type']).toMatch(/^application\/geo\+json/);
      const layer = layerRes.json() as Layer;
      const base = (await planner(`/api/hotspots?${url}`)).json() as Layer;
      expect(layer.features.map((f) => [f.id, f.properties.count, f.properties.z, f.properties.p, f.properties.bin]))
        .toEqual(base.features.map((f) => [f.id, f.properties.count, f.properties.z, f.properties.p, f.properties.bin]));
      expect(layer.properties).toMatchObject({
        resolution: 8, k: 1, fdr: true, area_kind: 'district', study_area: 'areas', naming: 'centre_in_polygon', filter: { service: 'DUMPING' },
        alpha: [{ bin: 3, alpha: 0.01, confidence: '99%' }, { bin: 2, alpha: 0.05, confidence: '95%' }, { bin: 1, alpha: 0.1, confidence: '90%' }],
        window: { from: base.properties.from, to: base.properties.to, as_of: base.properties.as_of, timezone: 'America/New_York' },
      });
      expect(layer.properties.hot as number).toBeGreaterThan(0);
      const districts = ((await planner('/api/map/areas')).json() as Layer).features;
      for (const f of layer.features.slice(0, 200)) {
        expectValidGeometry(f);
        const [lat, lng] = cellToLatLng(f.id);
        expect(f.properties.centre).toEqual([lng, lat]);
        const inside = districts.find((d) => booleanPointInPolygon([lng, lat], d.geometry as never));
        expect(f.properties.area ?? null, f.id).toBe(inside?.properties.name ?? null);
        expect(f.properties.confidence).toBe(f.properties.bin === 0 ? 'not significant' : `${(f.properties.bin as number) > 0 ? 'hot' : 'cold'} spot, ${{ 3: '99%', 2: '95%', 1: '90%' }[Math.abs(f.properties.bin as number)]} confidence`);
      }
      const hot = layer.features.filter((f) => (f.properties.bin as number) === 3);
      expect(new Set(hot.map((f) => f.properties.area))).toContain(t.manifest.hotspot.district);
    });

    it('the study area is the filtered area alone, or the cells near the data without polygons: each kept apart', async () => {
      // The polygons' cells are kept per data version (analytics/hotspots.ts): the whole city's
      // must not stand in for one district's, nor either for an area kind without polygons.
      const cells = async (q: string) => (await planner(`/api/hotspots?service=DUMPING&resolution=8&k=1${q}`)).json() as Layer;
      const city = await cells('');
      const district = await cells(`&area=${encodeURIComponent(t.manifest.hotspot.district)}`);
      const source = await cells('&area_kind=source');
      expect([city.properties.study_area, district.properties.study_area, source.properties.study_area]).toEqual(['areas', 'areas', 'cells_with_data']);
      expect(district.features.length).toBeLessThan(city.features.length / 2);
      expect(new Set(city.features.map((f) => f.id))).toEqual(new Set([...district.features.map((f) => f.id), ...city.features.map((f) => f.id)]));
      expect(source.features.map((f) => f.id)).not.toEqual(city.features.map((f) => f.id));
      // Asked again, the same cells.
      expect((await cells('')).features.map((f) => f.id)).toEqual(city.features.map((f) => f.id));
    });

    it('cells=significant keeps the hot and cold cells; CSV has the centre as two columns and no geometry', async () => {
      const sig = (await planner('/api/map/hotspots?service=DUMPING&cells=significant')).json() as Layer;
      expect(sig.features.length).toBe((sig.properties.hot as number) + (sig.properties.cold as number));
      expect(sig.features.every((f) => f.properties.bin !== 0)).toBe(true);
      const csv = parse((await planner('/api/map/hotspots?service=DUMPING&cells=significant&format=csv')).body, { columns: true }) as Record<string, string>[];
      expect(Object.keys(csv[0])).toEqual(['h3', 'count', 'z', 'p', 'bin', 'confidence', 'cluster', 'area_id', 'area', 'centre_lng', 'centre_lat']);
      expect(csv.map((r) => r.h3)).toEqual(sig.features.map((f) => f.id));
      expect((await planner('/api/map/hotspots?resolution=10')).statusCode).toBe(400);
    });
  });

  describe('GET /api/equity', () => {
    it('each area: the KPI median with its 95% interval, on-time and CSAT with Wilson intervals, worst first; period stated', async () => {
      const eq = (await planner(`/api/equity?${WINDOW}&min_cases=1`)).json();
      expect(eq.period).toBe('cases opened 2026-09-01 to 2026-09-30 (America/New_York), as of 2026-10-03T00:00:00.000Z');
      expect(eq).toMatchObject({ sort: 'median_hours_to_close', min_denominator: 20 });
      expect(eq.areas[0].area).toBe('District 6');
      for (let i = 1; i < eq.areas.length; i++) expect(eq.areas[i - 1].median_hours_to_close).toBeGreaterThanOrEqual(eq.areas[i].median_hours_to_close);
      for (const a of eq.areas) {
        const k = kpiByArea.get(a.area)!;
        expect([a.median_hours_to_close, a.median_hours_ci_lower, a.median_hours_ci_upper, a.closed], a.area).toEqual([k.median_hours_to_close, k.median_hours_ci_lower, k.median_hours_ci_upper, k.closed]);
        const ot = wilsonInterval(a.on_time, a.on_time_denominator)!;
        expect([a.on_time_ci_lower, a.on_time_ci_upper]).toEqual([ot.lower, ot.upper]);
        expect(a.on_time_ci_lower).toBeLessThanOrEqual(a.on_time_rate);
        expect(a.on_time_ci_upper).toBeGreaterThanOrEqual(a.on_time_rate);
        expect(a.csat_top2_count).toBe(k.csat_top2_count);
        const cs = wilsonInterval(a.csat_top2_count, a.csat_responses);
        expect([a.csat_ci_lower, a.csat_ci_upper]).toEqual(cs ? [cs.lower, cs.upper] : [null, null]);
        expect(a.area_id).toMatch(/^D\d$/);
        expect(a.too_few).toEqual({ time_to_close: k.closed! < 20, on_time: k.on_time_denominator! < 20, csat: k.csat_responses! < 20 });
      }
      const byOnTime = (await planner(`/api/equity?${WINDOW}&min_cases=1&sort=on_time_rate`)).json();
      expect(byOnTime.areas[0].area).toBe('District 6');
      for (let i = 1; i < byOnTime.areas.length; i++) expect(byOnTime.areas[i - 1].on_time_rate).toBeLessThanOrEqual(byOnTime.areas[i].on_time_rate);
      // The spread and test are the same whatever the order.
      expect([byOnTime.time_to_close, byOnTime.on_time, byOnTime.satisfaction, byOnTime.sentence]).toEqual([eq.time_to_close, eq.on_time, eq.satisfaction, eq.sentence]);
    });

    it('per service group: the figures of /api/kpis?by=area&service_group=…, the sentence names the group; CSV one row per area', async () => {
      const eq = (await planner(`/api/equity?${WINDOW}&min_cases=1&service_group=Waste`)).json();
      expect(eq.filter).toEqual({ service_group: 'Waste' });
      expect(eq.sentence).toMatch(/^Waste requests \(areas of kind district, opened 2026-09-01 to 2026-09-30\)/);
      const k = new Map((await planner(`/api/kpis?by=area&${WINDOW}&service_group=Waste`)).json().rows.map((r: { area: string }) => [r.area, r]));
      expect(eq.areas.length).toBeGreaterThan(1);
      for (const a of eq.areas) {
        const r = k.get(a.area) as Record<string, number>;
        expect([a.cases, a.median_hours_to_close, a.on_time_rate, a.csat_top2], a.area).toEqual([r.opened, r.median_hours_to_close, r.on_time_rate, r.csat_top2]);
      }
      const csv = await planner(`/api/equity?${WINDOW}&min_cases=1&service_group=Waste&format=csv`);
      expect(csv.headers['content-type']).toMatch(/^text\/csv/);
      const rows = parse(csv.body, { columns: true }) as Record<string, string>[];
      expect(rows.map((r) => r.area)).toEqual(eq.areas.map((a: { area: string }) => a.area));
      expect(Number(rows[0].on_time_ci_lower)).toBe(eq.areas[0].on_time_ci_lower);
      expect(Object.keys(rows[0])).toContain('too_few_csat');
    });
  });

  describe('GET /api/repeat-locations', () => {
    it('lists places as cells with their centre and area, never a point; CSV and GeoJSON of the same places', async () => {
      const res = await planner('/api/repeat-locations?weeks=52&days=30');
      expect(res.statusCode, res.body).toBe(200);
      const r = res.json();
      expect(r).toMatchObject({ days: 30, resolution: 10, area_kind: 'district', timezone: 'America/New_York', limit: 500, requests_without_point: 0 });
      expect(r.places_total).toBeGreaterThan(10);
      expect(r.sentence).toMatch(/^[\d,]+ requests \(opened \d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d \(America\/New_York\), as of .+\) repeated a request of the same service at the same place within 30 days of its close/);
      for (const p of r.places.slice(0, 50)) {
        expect(Object.keys(p).sort()).toEqual(['area', 'centre', 'first_request', 'h3', 'last_repeat', 'last_request', 'repeat_share', 'repeats', 'requests', 'service']);
        expect(p.h3).toBe(latLngToCell(p.centre[1], p.centre[0], 10));
        expect(p.area).toMatch(/^District \d$/);
        expect(p.repeats).toBeLessThanOrEqual(p.requests);
        expect(p.repeat_share).toBe(p.repeats / p.requests);
      }
      const csv = await planner('/api/repeat-locations?weeks=52&days=30&format=csv');
      const rows = parse(csv.body, { columns: true }) as Record<string, string>[];
      expect(Object.keys(rows[0])).toEqual(['h3', 'centre_lng', 'centre_lat', 'area', 'service', 'requests', 'repeats', 'repeat_share', 'first_request', 'last_request', 'last_repeat']);
      expect(rows).toHaveLength(r.places.length);
      const geo = await planner('/api/repeat-locations?weeks=52&days=30&format=geojson');
      expect(geo.headers['content-type']).toMatch(/^application\/geo\+json/);
      const layer = geo.json() as Layer;
      expect(layer.features.length).toBe(new Set(r.places.map((p: { h3: string }) => p.h3)).size);
      for (const f of layer.features) expectValidGeometry(f);
      expect(layer.properties).toMatchObject({ days: 30, resolution: 10, places_total: r.places_total });
    });

    it('a longer N finds more repeats; resolution 11 is finer; bad parameters are 400s', async () => {
      const short = (await planner('/api/repeat-locations?weeks=52&days=7')).json();
      const long = (await planner('/api/repeat-locations?weeks=52&days=60')).json();
      expect(long.repeats_total).toBeGreaterThan(short.repeats_total);
      const fine = (await planner('/api/repeat-locations?weeks=52&resolution=11&limit=5')).json();
      expect(fine.places).toHaveLength(5);
      expect(fine.places.every((p: { h3: string }) => p.h3.startsWith('8b'))).toBe(true);
      for (const q of ['resolution=9', 'days=0', 'days=366', 'limit=0', 'format=xml']) expect((await planner(`/api/repeat-locations?${q}`)).statusCode, q).toBe(400);
    });
  });
});
