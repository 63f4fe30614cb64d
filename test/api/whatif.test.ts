// GET /api/whatif on the demo city (issue 12 items 5 and 6): District 6 is slow (its cases take 2.2
// times as long), so a planner asks what two more Pothole Repair crews there would do. Checked: the
// move lowers District 6's projected backlog and raises District 2's, crews are conserved, the
// projection is the model's arithmetic on the fitted figures, the fitted figures are the KPIs', the
// backtest is reported, crews from configuration / request / crew-equivalents, 400s, scope, CSV.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { parse } from 'csv-parse/sync';
import { demoWarehouse } from '../demo-warehouse.ts';
import { injectAs, testApp, type Inject } from '../app-helper.ts';
import type { AppOptions } from '../../api/app.ts';
import { parseConfig } from '../../api/config.ts';
import { WHATIF_CSV_COLUMNS, type WhatIfResult } from '../../warehouse/analytics/whatif.ts';

const TZ_CONFIG = { timezone: 'America/New_York', jurisdiction: 'Riverton (demo city)' };
const MOVE = '/api/whatif?service=POTHOLE&move=D2:D6:2&crews=D2:4,D6:3';

describe('GET /api/whatif on the demo city', () => {
  let t: Awaited<ReturnType<typeof demoWarehouse>>;
  let fastify: FastifyInstance;
  let configured: FastifyInstance;
  let planner: Inject;
  let r: WhatIfResult;

  beforeAll(async () => {
    t = await demoWarehouse();
    fastify = await testApp(t.wh, TZ_CONFIG);
    configured = await testApp(t.wh, { ...TZ_CONFIG, crews: { 'Pothole Repair': { D2: 4, 'District 6': 3 } } } as AppOptions['config']);
    planner = await injectAs(fastify, t.wh, 'planner');
    const res = await planner(MOVE);
    expect(res.statusCode, res.body).toBe(200);
    r = res.json();
  });
  afterAll(async () => {
    await fastify?.close();
    await configured?.close();
    t?.cleanup();
  });

  const last = <T>(xs: T[]) => xs[xs.length - 1];
  const area = (name: string) => r.areas.find((a) => a.area === name)!;
  const fit = (name: string) => r.model.fitted.find((a) => a.area === name)!;

  it('states the service, the fitting window (26 weeks), as-of, zone, area kind and the moves', () => {
    expect(r).toMatchObject({ service: 'Pothole Repair', service_code: 'POTHOLE', area_kind: 'district', timezone: 'America/New_York', horizon: 4, moves: [{ from: 'District 2', to: 'District 6', crews: 2 }] });
    expect(r.to).toBe('2026-11-15');
    expect((Date.parse(r.to) - Date.parse(r.from)) / 86_400_000 + 1).toBe(26 * 7);
    expect(new Date(`${r.start}T00:00:00Z`).getUTCDay()).toBe(1);
    expect(r.areas.map((a) => a.area)).toEqual(['District 2', 'District 6']);
    expect(r.model.assumptions.length).toBeGreaterThanOrEqual(5);
    expect(r.model.sla_hours).toBe(72);
  });

  it('moving crews toward slow District 6 lowers its projected backlog and raises District 2\'s; crews are conserved', () => {
    const d6 = area('District 6');
    const d2 = area('District 2');
    expect([d6.crews_before, d6.crews_after, d2.crews_before, d2.crews_after]).toEqual([3, 5, 4, 2]);
    expect(d6.crews_before + d2.crews_before).toBe(d6.crews_after + d2.crews_after);
    expect(last(d6.scenario).backlog).toBeLessThan(last(d6.baseline).backlog);
    expect(last(d2.scenario).backlog).toBeGreaterThan(last(d2.baseline).backlog);
    expect(last(d6.scenario).on_time_rate!).toBeGreaterThan(last(d6.baseline).on_time_rate!);
    expect(last(d2.scenario).on_time_rate!).toBeLessThan(last(d2.baseline).on_time_rate!);
    expect(r.sentence).toMatch(/^Moving 2 crews from District 2 to District 6 for Pothole Repair would bring District 6's backlog from \d+ to about [\d.]+ in 4 weeks \(about [\d.]+ without the move\), while District 2's would go from \d+ to about [\d.]+ \(about [\d.]+ without\); on time in week 4: District 6 \d+% \(\d+% without\), District 2 \d+% \(\d+% without\)\.$/);
  });

  it('the projection is the model on the fitted figures: capacity = crews × throughput per crew, backlog = max(0, backlog + arrivals − capacity)', () => {
    for (const a of r.areas) {
      const f = fit(a.area);
      expect(f.crews_source).toBe('request');
      expect(f.crews).toBe(a.crews_before);
      for (const [weeks, crews] of [[a.baseline, a.crews_before], [a.scenario, a.crews_after]] as const) {
        expect(weeks).toHaveLength(4);
        let b = a.backlog_now;
        let lo = a.backlog_now;
        let hi = a.backlog_now;
        for (const w of weeks) {
          expect(w.capacity).toBeCloseTo(crews * f.throughput_per_crew!, 1);
          // Unrounded arrivals and capacity are used inside: allow the rounding.
          b = Math.max(0, b + w.arrivals - w.capacity);
          lo = Math.max(0, lo + w.arrivals_lower80 - w.capacity);
          hi = Math.max(0, hi + w.arrivals_upper80 - w.capacity);
          expect(Math.abs(w.backlog - b)).toBeLessThan(0.2);
          expect(Math.abs(w.backlog_low - lo)).toBeLessThan(0.2);
          expect(Math.abs(w.backlog_high - hi)).toBeLessThan(0.2);
          expect(w.backlog_low).toBeLessThanOrEqual(w.backlog);
          expect(w.backlog).toBeLessThanOrEqual(w.backlog_high);
          expect(w.on_time_low!).toBeLessThanOrEqual(w.on_time_rate!);
          expect(w.on_time_rate!).toBeLessThanOrEqual(w.on_time_high!);
        }
      }
      // The baseline's capacity is what the area closed in a busy week.
      expect(a.baseline[0].capacity).toBeGreaterThan(0);
    }
  });

  it('fits on the KPI figures: the backlog now is /api/kpis backlog at that time; arrivals and closures are the KPI counts of the whole weeks', async () => {
    const d6 = fit('District 6');
    const asOf = Date.parse(`${r.start}T05:00:00Z`) < Date.parse(r.as_of) ? `${r.start}T05:00:00Z` : r.as_of;
    const k = (await planner(`/api/kpis?service=POTHOLE&area=District 6&as_of=${asOf}`)).json();
    expect(d6.backlog_now).toBe(k.rows[0].backlog);
    const weeks = (Date.parse(r.start) - Date.parse(r.from)) / (7 * 86_400_000);
    const sunday = new Date(Date.parse(r.start) - 86_400_000).toISOString().slice(0, 10);
    // r.from is a Monday here (26 weeks back from a Sunday), so the whole weeks are the window up to the last Sunday.
    expect(new Date(`${r.from}T00:00:00Z`).getUTCDay()).toBe(1);
    const w = (await planner(`/api/kpis?service=POTHOLE&area=District 6&from=${r.from}&to=${sunday}&as_of=${r.as_of}&columns=all`)).json().rows[0];
    expect(d6.arrivals_per_week).toBeCloseTo(w.opened / weeks, 2);
    expect(d6.closures_per_week).toBeCloseTo(w.closed_in_period / weeks, 2);
    // District 6 is the slow one: Little's law puts its time in the system well above District 2's.
    expect(d6.time_in_system_hours!).toBeGreaterThan(1.5 * fit('District 2').time_in_system_hours!);
  });

  it("reports the baseline's error on the last 12 observed weeks (fitted on the 14 before), per area and pooled", () => {
    expect(r.model.backtest).toMatchObject({ weeks: 12, fit_weeks: 14, areas: 2 });
    expect(r.model.backtest.mae_backlog).toBeGreaterThanOrEqual(0);
    expect(r.model.backtest.mae_on_time).toBeGreaterThanOrEqual(0);
    expect(Math.abs(r.model.backtest.bias!)).toBeLessThanOrEqual(r.model.backtest.mae_backlog!);
    for (const a of r.areas) {
      expect(a.backtest).toHaveLength(12);
      const f = fit(a.area);
      const mae = a.backtest.reduce((s, w) => s + Math.abs(w.projected_backlog - w.actual_backlog), 0) / 12;
      expect(f.backtest!.mae_backlog!).toBeCloseTo(mae, 0);
      expect(f.backtest_reason).toMatch(/^Fitted on the 14 weeks from /);
      expect(last(a.backtest).week).toBe(new Date(Date.parse(r.start) - 7 * 86_400_000).toISOString().slice(0, 10));
      // The replay's last week ends with the backlog the projection starts from.
      expect(last(a.backtest).actual_backlog).toBe(a.backlog_now);
    }
  });

  it('the same arrivals forecast as /api/forecast for that service and area', async () => {
    const f = (await planner('/api/forecast?service=POTHOLE&by=area')).json();
    const d6 = f.series.find((s: { area: string }) => s.area === 'District 6');
    expect(area('District 6').baseline.map((w) => w.arrivals)).toEqual(d6.forecast.map((x: { mean: number }) => x.mean));
    expect(area('District 6').baseline.map((w) => w.week)).toEqual(d6.forecast.map((x: { week: string }) => x.week));
    expect(fit('District 6').forecast_method).toBe(d6.method);
  });

  it('crews from the configuration (by service name, area id or name), and a request that contradicts it is a 400', async () => {
    const as = await injectAs(configured, t.wh, 'planner');
    const c = await as('/api/whatif?service=POTHOLE&move=District 2:District 6:2');
    expect(c.statusCode, c.body).toBe(200);
    const body: WhatIfResult = c.json();
    expect(body.model.fitted.map((f) => [f.area, f.crews, f.crews_source])).toEqual([['District 2', 4, 'configuration'], ['District 6', 3, 'configuration']]);
    expect(body.areas.map((a) => last(a.scenario).backlog)).toEqual(r.areas.map((a) => last(a.scenario).backlog));
    const bad = await as('/api/whatif?service=POTHOLE&move=D2:D6:2&crews=D2:5');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/crews gives District 2 5 crews, but the configuration \(crews\.Pothole Repair\) says 4/);
  });

  it('without crew counts: crew-equivalents, said plainly', async () => {
    const res = await planner('/api/whatif?service=Pothole Repair&move=D2:D6:0.5');
    expect(res.statusCode, res.body).toBe(200);
    const b: WhatIfResult = res.json();
    expect(b.model.fitted.every((f) => f.crews_source === 'crew-equivalents')).toBe(true);
    expect(b.model.crew_equivalent!.basis).toMatch(/median area's closures in a busy week/);
    expect(b.model.assumptions.join(' ')).toMatch(/crew-equivalents/);
    expect(b.sentence).toMatch(/^Moving 0\.5 crew-equivalents from District 2 to District 6/);
    const sum = (x: WhatIfResult) => x.areas.reduce((s, a) => s + a.crews_after, 0) - x.areas.reduce((s, a) => s + a.crews_before, 0);
    expect(Math.abs(sum(b))).toBeLessThan(0.02);
  });

  it('no move: the baseline of every district, scenario = baseline', async () => {
    const res = await planner('/api/whatif?service=POTHOLE&horizon=2');
    expect(res.statusCode, res.body).toBe(200);
    const b: WhatIfResult = res.json();
    expect(b.areas.length).toBeGreaterThanOrEqual(6);
    for (const a of b.areas) {
      expect(a.scenario).toEqual(a.baseline);
      expect(a.baseline).toHaveLength(2);
    }
    expect(b.sentence).toMatch(/^With no move, Pothole Repair's backlog would rise in 2 weeks in \d+ of \d+ areas/);
  });

  it('400s: more crews than an area has, unknown or malformed areas, a move to itself, no service, area=, horizon', async () => {
    const cases: [string, RegExp][] = [
      ['/api/whatif?service=POTHOLE&move=D2:D6:5&crews=D2:4,D6:3', /move D2?.*takes 5 crews from District 2, which has 4/],
      ['/api/whatif?service=POTHOLE&move=D2:D6:3,D2:D1:2&crews=D2:4,D6:3', /which has 1 after the moves before it/],
      ['/api/whatif?service=POTHOLE&move=D2:District 99:1', /move "D2:District 99:1": "District 99" is not an area of kind "district"; closest: /],
      ['/api/whatif?service=POTHOLE&move=D2-D6-2', /move "D2-D6-2" is not from:to:crews/],
      ['/api/whatif?service=POTHOLE&move=D2:D6:two', /"two" is not a number of crews above 0/],
      ['/api/whatif?service=POTHOLE&move=D2:D2:1&crews=D2:4', /to itself/],
      ['/api/whatif?service=POTHOLE&crews=D2:-1', /is not from:to|"-1" is not a number of crews/],
      ['/api/whatif?move=D2:D6:1', /service/],
      ['/api/whatif?service=Potholes&move=D2:D6:1', /service "Potholes" is not a service code or name/],
      ['/api/whatif?service=POTHOLE&area=D2', /takes its areas from `move`/],
      ['/api/whatif?service=POTHOLE&horizon=9', /horizon/],
    ];
    for (const [url, message] of cases) {
      const res = await planner(url);
      expect(res.statusCode, url).toBe(400);
      expect(res.json().message, url).toMatch(message);
    }
  });

  it("scope: another agency's service is a 400; its own service is the same answer an unscoped caller gets", async () => {
    const sanitation = await injectAs(fastify, t.wh, 'planner', ['Sanitation']);
    const other = await sanitation(MOVE);
    expect(other.statusCode).toBe(400);
    expect(other.json().message).toMatch(/service "POTHOLE" is not a service code or name/);
    const mine = await sanitation('/api/whatif?service=TRASH&move=D1:D6:1&crews=D1:3,D6:3');
    const all = await planner('/api/whatif?service=TRASH&move=D1:D6:1&crews=D1:3,D6:3');
    expect(mine.statusCode, mine.body).toBe(200);
    expect(mine.json()).toEqual(all.json());
  });

  it('CSV: each area\'s backtest, baseline and scenario weeks as one table', async () => {
    const res = await planner(`${MOVE}&format=csv`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    const rows = parse(res.body, { columns: true }) as Record<string, string>[];
    expect(Object.keys(rows[0])).toEqual([...WHATIF_CSV_COLUMNS]);
    expect(rows).toHaveLength(2 * (12 + 4 + 4));
    const d6 = rows.filter((x) => x.area === 'District 6' && x.kind === 'scenario');
    expect(d6.map((x) => Number(x.backlog))).toEqual(area('District 6').scenario.map((w) => w.backlog));
    expect(d6.every((x) => x.crews === '5')).toBe(true);
  });

  it('configuration crews are validated with the key named', () => {
    expect(() => parseConfig({ crews: { POTHOLE: { D2: -1 } } }, '/tmp')).toThrow('Configuration key "crews.POTHOLE.D2": must be >= 0');
    expect(() => parseConfig({ crews: { POTHOLE: { D2: 'four' } } }, '/tmp')).toThrow('Configuration key "crews.POTHOLE.D2": must be number');
    expect(parseConfig({ crews: { POTHOLE: { D2: 4 } } }, '/tmp').crews).toEqual({ POTHOLE: { D2: 4 } });
    expect(parseConfig({}, '/tmp').crews).toEqual({});
  });
});
