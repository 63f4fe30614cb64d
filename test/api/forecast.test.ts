// GET /api/forecast on the demo city (issue 12 items 4 and 6): the window and weeks every analysis
// uses, its shape and the backtest behind each series, CSV, scope, and 400s for bad parameters.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { parse } from 'csv-parse/sync';
import { demoWarehouse } from '../demo-warehouse.ts';
import { injectAs, testApp, type Inject } from '../app-helper.ts';
import type { ForecastResult } from '../../warehouse/analytics/forecast.ts';

const TZ_CONFIG = { timezone: 'America/New_York', jurisdiction: 'Riverton (demo city)' };
const SANITATION_SERVICES = ['Bulky Item Pickup', 'Illegal Dumping', 'Missed Trash Pickup'];

describe('GET /api/forecast on the demo city', () => {
  let t: Awaited<ReturnType<typeof demoWarehouse>>;
  let fastify: FastifyInstance;
  let planner: Inject;
  let all: ForecastResult;
  let byService: ForecastResult;

  beforeAll(async () => {
    t = await demoWarehouse();
    fastify = await testApp(t.wh, TZ_CONFIG);
    planner = await injectAs(fastify, t.wh, 'planner');
    const a = await planner('/api/forecast');
    expect(a.statusCode, a.body).toBe(200);
    all = a.json();
    const s = await planner('/api/forecast?by=service&horizon=6');
    expect(s.statusCode, s.body).toBe(200);
    byService = s.json();
  });
  afterAll(async () => {
    await fastify?.close();
    t?.cleanup();
  });

  it('states its window (all of the demo year: less than the default 156 weeks), as-of, zone and area kind; one series by default', () => {
    expect(all).toMatchObject({ timezone: 'America/New_York', area_kind: 'district', by: [], horizon: 4, filter: {}, series_total: 1, max_series: 40 });
    expect(all.from).toBe(t.manifest.start);
    expect(all.series).toHaveLength(1);
    const s = all.series[0];
    expect(s.service).toBeUndefined();
    expect(s.season).toBeNull(); // one year: no 52-week season
    expect(s.history.length).toBeGreaterThanOrEqual(51);
    expect(s.total).toBe(s.history.reduce((a, h) => a + h.count, 0));
  });

  it('history is whole local weeks, Monday to Sunday, that count what /api/kpis counts for the same days', async () => {
    const s = all.series[0];
    const first = s.history[0].week;
    const last = s.history[s.history.length - 1].week;
    expect(new Date(`${first}T00:00:00Z`).getUTCDay()).toBe(1);
    const sunday = new Date(Date.parse(`${last}T00:00:00Z`) + 6 * 86_400_000).toISOString().slice(0, 10);
    expect(sunday <= all.to).toBe(true);
    const kpi = await planner(`/api/kpis?from=${first}&to=${sunday}&as_of=${all.as_of}`);
    expect(kpi.json().rows[0].opened).toBe(s.total);
  });

  it('forecast weeks follow the history, intervals are nested and never negative, the backtest is stated', () => {
    for (const s of byService.series) {
      const last = s.history[s.history.length - 1].week;
      expect(s.forecast.map((f) => f.week)[0]).toBe(new Date(Date.parse(`${last}T00:00:00Z`) + 7 * 86_400_000).toISOString().slice(0, 10));
      expect(s.forecast).toHaveLength(6);
      for (const f of s.forecast) {
        expect(0 <= f.lower95 && f.lower95 <= f.lower80 && f.lower80 <= f.mean && f.mean <= f.upper80 && f.upper80 <= f.upper95, JSON.stringify(f)).toBe(true);
      }
      expect(['ets', 'naive']).toContain(s.method);
      const b = s.backtest!;
      expect(b).toMatchObject({ origins: 8, calibration_origins: 8, points: 48 });
      // The published method is whichever did better in the backtest, and the reason says it.
      if (s.method === 'ets') expect(b.mase_model!).toBeLessThan(b.mase_seasonal_naive!);
      else expect(b.mase_model!).toBeGreaterThanOrEqual(b.mase_seasonal_naive!);
      expect(b.mase).toBe(Math.min(b.mase_model!, b.mase_seasonal_naive!));
      expect(s.reason).toMatch(s.method === 'ets' ? /^ETS without a season beat naive/ : /^Naive \(last week's count\): ETS without a season did not beat it/);
    }
    const sum = byService.summary;
    expect(sum.series).toBe(byService.series.length);
    expect(sum.model_used + sum.seasonal_naive_used).toBe(sum.series);
    expect(sum.judged).toBe(sum.series);
    expect(sum.coverage95!).toBeGreaterThan(0.8);
    expect(sum.sentence).toMatch(/^Across \d+ series, \d+ backtested: median MASE \d\.\d\d/);
    // The busiest first.
    const totals = byService.series.map((s) => s.total);
    expect(totals).toEqual([...totals].sort((a, b) => b - a));
  });

  it('CSV: every series’ history and forecast weeks as one table', async () => {
    const res = await planner('/api/forecast?by=service&horizon=6&format=csv');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    const rows = parse(res.body, { columns: true }) as Record<string, string>[];
    expect(Object.keys(rows[0])).toEqual(['service', 'area', 'week', 'kind', 'count', 'mean', 'lower80', 'upper80', 'lower95', 'upper95', 'method', 'backtest_mase', 'backtest_coverage95']);
    const s = byService.series[0];
    const mine = rows.filter((r) => r.service === s.service);
    expect(mine.filter((r) => r.kind === 'history').map((r) => Number(r.count))).toEqual(s.history.map((h) => h.count));
    expect(mine.filter((r) => r.kind === 'forecast').map((r) => Number(r.upper95))).toEqual(s.forecast.map((f) => f.upper95));
  });

  it('an agency-scoped caller forecasts only its agency’s services, as an unscoped caller filtering to it', async () => {
    const sanitation = await injectAs(fastify, t.wh, 'planner', ['Sanitation']);
    const mine = (await sanitation('/api/forecast?by=service&horizon=6')).json() as ForecastResult;
    expect(mine.series.map((s) => s.service).sort()).toEqual(SANITATION_SERVICES);
    const filtered = (await planner('/api/forecast?by=service&horizon=6&agency=Sanitation')).json() as ForecastResult;
    expect(mine.series).toEqual(filtered.series);
    for (const s of mine.series) expect(s).toEqual(byService.series.find((x) => x.service === s.service));
  });

  it('400 for a horizon outside 1–8, an unknown grouping or service; 401 without a credential', async () => {
    for (const q of ['horizon=9', 'horizon=0', 'horizon=2.5', 'by=week', 'service=Nope', 'weeks=0']) {
      const res = await planner(`/api/forecast?${q}`);
      expect(res.statusCode, q).toBe(400);
    }
    expect((await planner('/api/forecast?horizon=9')).json().message).toMatch(/horizon/);
    expect((await fastify.inject({ url: '/api/forecast' })).statusCode).toBe(401);
  });
});
