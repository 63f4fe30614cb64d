// One definition per measure: the same measure for the same cases, window and as-of reads the
// same to the last digit on every surface — the KPI API (JSON and CSV), equity, the trend series
// and the weekly report — and every output states its window, as-of and area kind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { parse } from 'csv-parse/sync';
import { demoWarehouse } from '../demo-warehouse.ts';
import { injectAs, testApp, type Inject } from '../app-helper.ts';
import { countSeries } from '../../warehouse/analytics/findings.ts';
import { resolveSelection } from '../../warehouse/analytics/dimensions.ts';
import { getReport } from '../../reports/definitions.ts';

const TZ = 'America/New_York';
const WINDOW = 'from=2026-09-01&to=2026-09-30&as_of=2026-10-03T00:00:00Z';
const SAME = ['opened', 'median_hours_to_close', 'on_time_rate', 'csat_top2'] as const;

describe('one definition on every surface (demo city, September 2026, as of 3 October)', () => {
  let t: Awaited<ReturnType<typeof demoWarehouse>>;
  let fastify: FastifyInstance;
  let staff: Inject;
  let byArea: Record<string, Record<string, number | null>>;
  beforeAll(async () => {
    t = await demoWarehouse();
    fastify = await testApp(t.wh);
    staff = await injectAs(fastify, t.wh, 'planner');
    const res = await staff(`/api/kpis?by=area&${WINDOW}`);
    expect(res.statusCode).toBe(200);
    byArea = Object.fromEntries(res.json().rows.map((r: Record<string, number | null> & { area: string }) => [r.area, r]));
  });
  afterAll(async () => {
    await fastify.close();
    t.cleanup();
  });

  it('states its window, as-of and area kind', async () => {
    const body = (await staff(`/api/kpis?by=area&${WINDOW}`)).json();
    expect(body).toMatchObject({ from: '2026-09-01', to: '2026-09-30', as_of: '2026-10-03T00:00:00.000Z', timezone: TZ, area_kind: 'district', by: ['area'] });
    // Natural order: District 2 before District 10 would come after it; 8 districts here.
    expect(body.rows.map((r: { area: string }) => r.area)).toEqual(Array.from({ length: 8 }, (_, i) => `District ${i + 1}`));
  });

  it('KPI CSV carries the JSON figures exactly', async () => {
    const csv = (await staff(`/api/kpis?by=area&${WINDOW}&format=csv&columns=all`)).body;
    const rows = parse(csv, { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(8);
    for (const r of rows) {
      for (const m of SAME) {
        const json = byArea[r.area][m];
        expect(r[m] === '' ? null : Number(r[m]), `${r.area} ${m}`).toBe(json);
      }
    }
  });

  it('equity shows the KPIs of each area, to the last digit (CSAT counts only answers given by the as-of time)', async () => {
    const res = await staff(`/api/equity?${WINDOW}&min_cases=1`);
    expect(res.statusCode).toBe(200);
    const eq = res.json();
    expect(eq).toMatchObject({ from: '2026-09-01', to: '2026-09-30', as_of: '2026-10-03T00:00:00.000Z', area_kind: 'district' });
    expect(eq.areas).toHaveLength(8);
    for (const a of eq.areas) {
      const k = byArea[a.area];
      expect([a.cases, a.median_hours_to_close, a.on_time_rate, a.csat_top2], a.area).toEqual([k.opened, k.median_hours_to_close, k.on_time_rate, k.csat_top2]);
    }
    expect(eq.sentence).not.toMatch(/Infinity|NaN/);
  });

  it('the trend series counts the same cases, day by day', async () => {
    const sel = await resolveSelection(t.wh, { from: '2026-09-01', to: '2026-09-30', as_of: '2026-10-03T00:00:00Z', timezone: TZ }, {});
    const series = await countSeries(t.wh, ['area'], 'day', sel);
    expect(series).toHaveLength(8);
    for (const s of series) expect(s.counts.reduce((a, b) => a + b, 0), s.area).toBe(byArea[s.area!].opened);
  });

  it('the weekly report shows the KPI API figures for its week', async () => {
    const content = await getReport('weekly-summary').build(t.wh, { jurisdiction: 'Riverton (demo city)', timezone: TZ, as_of: '2026-10-03T00:00:00Z' });
    expect(content.period).toBe('2026-09-21_2026-09-27');
    const api = (await staff('/api/kpis?by=service&from=2026-09-21&to=2026-09-27&as_of=2026-10-03T00:00:00Z')).json().rows as Record<string, number | string | null>[];
    expect(content.csv.rows).toHaveLength(api.length);
    for (const r of content.csv.rows) {
      const a = api.find((x) => x.service === r.service)!;
      for (const m of SAME) expect(r[m], `${String(r.service)} ${m}`).toBe(a[m]);
    }
  });

  it('hot-spots count the same cases as the KPIs, and honour as_of', async () => {
    const early = 'from=2026-09-01&to=2026-09-30&as_of=2026-09-15T12:00:00Z';
    const { createToken } = await import('../../warehouse/access/tokens.ts');
    const token = (await createToken(t.wh, { name: 'p', role: 'planner' })).token;
    const geo = (await staff({ url: `/api/hotspots?${early}`, headers: { authorization: `Bearer ${token}` } })).json();
    expect(geo.properties).toMatchObject({ from: '2026-09-01', to: '2026-09-30', as_of: '2026-09-15T12:00:00.000Z', area_kind: 'district' });
    const cells = geo.features.reduce((s: number, f: { properties: { count: number } }) => s + f.properties.count, 0);
    const overall = (await staff(`/api/kpis?${early}`)).json().rows[0];
    expect(cells).toBe(overall.opened);
    expect(overall.opened).toBeLessThan(byArea['District 1'].opened! * 8);
  });

  it('trends honour as_of: nothing after it is counted, and the series end at its last whole week', async () => {
    const body = (await staff('/api/trends?by=&from=2026-05-04&to=2026-11-15&as_of=2026-09-01T00:00:00Z')).json();
    expect(body).toMatchObject({ as_of: '2026-09-01T00:00:00.000Z', area_kind: 'district', period: 'week' });
    // Weeks after the as-of time are not zeros: no invented fall.
    expect(body.trends.filter((f: { direction: string }) => f.direction === 'falling')).toEqual([]);
    const sel = await resolveSelection(t.wh, { from: '2026-05-04', to: '2026-11-15', as_of: '2026-09-01T00:00:00Z', timezone: TZ }, {});
    const [all] = await countSeries(t.wh, [], 'week', sel);
    expect(all.periods.at(-1)).toBe('2026-08-24');
    expect(Math.min(...all.counts)).toBeGreaterThan(0);
  });

  it('hot-spots of one area: the study area is that area, not the whole city', async () => {
    const { createToken } = await import('../../warehouse/access/tokens.ts');
    const headers = { authorization: `Bearer ${(await createToken(t.wh, { name: 'p2', role: 'planner' })).token}` };
    const city = (await staff({ url: `/api/hotspots?${WINDOW}`, headers })).json();
    const one = (await staff({ url: `/api/hotspots?${WINDOW}&area=District%201`, headers })).json();
    expect(one.features.length).toBeLessThan(city.features.length / 4);
    const hotInCity = new Set(city.features.filter((f: { properties: { bin: number } }) => f.properties.bin >= 2).map((f: { id: string }) => f.id));
    const hotInOne = one.features.filter((f: { properties: { bin: number } }) => f.properties.bin >= 2);
    // Not the artefact of a whole district "hot" against a city of zeros.
    expect(hotInOne.length).toBeLessThan(one.features.length / 3);
    expect(hotInCity.size).toBeGreaterThan(0);
  });
});

describe('overall row, dimensions and unknown names', () => {
  let t: Awaited<ReturnType<typeof demoWarehouse>>;
  let fastify: FastifyInstance;
  let staff: Inject;
  beforeAll(async () => {
    t = await demoWarehouse();
    fastify = await testApp(t.wh);
    staff = await injectAs(fastify, t.wh, 'planner');
  });
  afterAll(async () => {
    await fastify.close();
    t.cleanup();
  });

  it('by omitted or empty gives one overall row that is the sum of the split', async () => {
    for (const url of ['/api/kpis', '/api/kpis?by=']) {
      const body = (await staff(url)).json();
      expect(body.by).toEqual([]);
      expect(body.rows).toHaveLength(1);
    }
    const overall = (await staff('/api/kpis')).json().rows[0];
    const split = (await staff('/api/kpis?by=service')).json().rows as { opened: number; backlog: number }[];
    expect(split.reduce((s, r) => s + r.opened, 0)).toBe(overall.opened);
    expect(split.reduce((s, r) => s + r.backlog, 0)).toBe(overall.backlog);
  });

  it('GET /api/dimensions lists what the data can be cut by, and the span of requests', async () => {
    const d = (await staff('/api/dimensions')).json();
    expect(d.services).toHaveLength(9);
    expect(d.agencies.length).toBeGreaterThan(1);
    expect(d.channels.length).toBeGreaterThanOrEqual(4);
    expect(d.area_kinds.find((k: { default: boolean }) => k.default)).toMatchObject({ kind: 'district', method: 'polygons', areas: 8 });
    expect(d.areas.filter((a: { kind: string }) => a.kind === 'district').map((a: { name: string }) => a.name)).toEqual(Array.from({ length: 8 }, (_, i) => `District ${i + 1}`));
    expect(d.first_request < d.last_request).toBe(true);
    expect(d.no_area_label).toBe('(no area)');
  });

  it('an unknown service, agency, channel, area or area kind is a 400 naming it and suggesting the closest', async () => {
    const cases: [string, RegExp][] = [
      ['/api/kpis?service=Pothole%20Repiar', /^querystring\/service "Pothole Repiar" is not a service code or name; closest: "Pothole Repair"/],
      ['/api/kpis?agency=Nope', /^querystring\/agency "Nope" is not an agency; closest: /],
      ['/api/kpis?channel=fax', /^querystring\/channel "fax" is not a channel; closest: /],
      ['/api/kpis?by=area&area=District%2099', /^querystring\/area "District 99" is not an area of kind "district"; closest: "District 9?/],
      ['/api/equity?area_kind=ward', /^querystring\/area_kind "ward" is not a loaded area kind; closest: .*"district"/],
      ['/api/trends?service=Graffiti', /^querystring\/service "Graffiti" is not a service code or name; closest: "Graffiti Removal"/],
    ];
    for (const [url, message] of cases) {
      const res = await staff(url);
      expect(res.statusCode, url).toBe(400);
      expect(res.json().message, url).toMatch(message);
    }
  });

  it('enum errors read as a sentence listing the allowed values', async () => {
    const res = await staff('/api/kpis?format=xlsx');
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toBe('querystring/format must be one of "json", "csv" (got "xlsx")');
    const p = await staff('/api/trends?period=month');
    expect(p.json().message).toBe('querystring/period must be one of "week", "day" (got "month")');
  });

  it('GET /api/measures: every measure with its definition, and a methodology generated from them', async () => {
    const body = (await staff('/api/measures')).json();
    const names = body.measures.map((m: { name: string }) => m.name);
    expect(names).toContain('closed_without_due_time');
    const kpiRow = (await staff('/api/kpis')).json().rows[0];
    // The KPI row has exactly the registry's measures.
    expect(Object.keys(kpiRow).sort()).toEqual([...names].sort());
    for (const m of body.measures) expect(m.definition.length, m.name).toBeGreaterThan(20);
    expect(body.methodology.flatMap((c: { measures: unknown[] }) => c.measures)).toHaveLength(names.length);
  });
});

describe('unknown parameters', () => {
  let t: Awaited<ReturnType<typeof demoWarehouse>>;
  let fastify: FastifyInstance;
  let staff: Inject;
  beforeAll(async () => {
    t = await demoWarehouse();
    fastify = await testApp(t.wh);
    staff = await injectAs(fastify, t.wh, 'planner');
  });
  afterAll(async () => {
    await fastify.close();
    t.cleanup();
  });

  it('are a 400 naming them (a typo must not answer for every case)', async () => {
    const res = await staff('/api/kpis?servce=Pothole%20Repair');
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/^querystring\/servce is not a parameter here \(did you mean "service"\?\); parameters: from, to, weeks, as_of, service, /);
  });
});

describe('labels the outputs show are filters too', () => {
  let t: Awaited<ReturnType<typeof demoWarehouse>>;
  let fastify: FastifyInstance;
  let staff: Inject;
  beforeAll(async () => {
    t = await demoWarehouse();
    fastify = await testApp(t.wh);
    staff = await injectAs(fastify, t.wh, 'planner');
  });
  afterAll(async () => {
    await fastify.close();
    t.cleanup();
  });

  it('"(no area)" and "(unknown agency)" filter to exactly the rows so labelled', async () => {
    for (const [dim, label] of [['area', '(no area)'], ['agency', '(unknown agency)'], ['channel', '(unknown channel)']]) {
      const res = await staff(`/api/kpis?${dim}=${encodeURIComponent(label)}`);
      expect(res.statusCode, `${dim}: ${res.body.slice(0, 200)}`).toBe(200);
      const split = (await staff(`/api/kpis?by=${dim}`)).json().rows.find((r: Record<string, unknown>) => r[dim] === label);
      expect(res.json().rows[0].opened).toBe(split?.opened ?? 0);
    }
  });
});
