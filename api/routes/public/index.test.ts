// The public routes through app.inject() on the demo city: anonymous callers get
// disclosure-controlled tables with footnotes and methodology links; everything that would let a
// caller move the window, filter or cross service with area is a 400 naming the parameter.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { demoWarehouse } from '../../../test/demo-warehouse.ts';
import { testApp } from '../../../test/app-helper.ts';
import type { TempWarehouse } from '../../../test/helpers.ts';
import type { AppOptions } from '../../app.ts';

describe('GET /api/public/kpis and /api/public/trends', () => {
  let t: TempWarehouse;
  let fastify: FastifyInstance;
  let strict: FastifyInstance;
  beforeAll(async () => {
    t = await demoWarehouse();
    fastify = await testApp(t.wh);
    // A stricter configuration (disclosure.k, disclosure.sensitive_services), so that tables have suppressed cells.
    strict = await testApp(t.wh, { timezone: 'America/New_York', jurisdiction: 'Riverton (demo city)', disclosure: { k: 60, sensitive_services: ['Water Leak'] } } as AppOptions['config']);
  });
  afterAll(async () => {
    await fastify.close();
    await strict.close();
    t.cleanup();
  });

  it('answers without a token: the overall total by month, its window, rules, footnotes and methodology links', async () => {
    const res = await fastify.inject('/api/public/kpis');
    expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      jurisdiction: 'Riverton (demo city)',
      timezone: 'America/New_York',
      area_kind: 'district',
      period: 'month',
      by: [],
      methodology: { measures: '/api/measures', documentation: '/docs' },
      disclosure: { k: 10, min_denominator: 20, sensitive_services: [] },
    });
    expect(body.periods).toHaveLength(12);
    expect(body.tables).toEqual([{ by: [], rows: [expect.objectContaining({ suppressed: false, flags: {} })] }]);
    expect(body.tables[0].rows[0].opened).toBeGreaterThan(25_000);
    expect(body.measures.map((m: { name: string }) => m.name)).toEqual(['opened', 'median_hours_to_close', 'on_time_rate', 'csat_top2']);
    expect(body.measures[2]).toMatchObject({ denominator: 'on_time_denominator', min_denominator: 20 });
    expect(Object.keys(body.footnotes)).toEqual(expect.arrayContaining(['suppressed', 'too_few_cases', 'not_reached', 'not_available', 'area_not_published']));
    expect(body.disclosure.rules.join(' ')).toMatch(/1 to 10 requests are suppressed/);
    // The methodology link answers without a token too.
    expect((await fastify.inject('/api/measures')).statusCode).toBe(200);
  });

  it('by service and by area and the total in one response, never crossed; with weeks, the margins by week as well', async () => {
    const body = (await fastify.inject('/api/public/kpis?by=service,area,week')).json();
    expect(body.period).toBe('week');
    expect(body.tables.map((tb: { by: string[] }) => tb.by.join('×'))).toEqual(['service×week', 'area×week', 'week', 'service', 'area', '']);
    expect(body.tables[0].rows[0]).toMatchObject({ service_group: 'Clean City', service: 'Graffiti Removal', week: body.periods[0] });
    expect(body.tables[0].rows[0]).not.toHaveProperty('area');
    const groups = (await fastify.inject('/api/public/kpis?by=service_group&period=week')).json();
    expect(groups.tables[0].rows.map((r: { service_group: string }) => r.service_group)).toContain('Waste');
    expect(groups.tables[0].rows[0]).not.toHaveProperty('service');
  });

  it('suppressed cells are null, flagged and footnoted — never 0 — in JSON and in CSV', async () => {
    const body = (await strict.inject('/api/public/kpis?by=service,week')).json();
    expect(body.disclosure).toMatchObject({ k: 60, sensitive_services: ['Water Leak'] });
    const rows = body.tables[0].rows;
    const hidden = rows.filter((r: { suppressed: boolean }) => r.suppressed);
    expect(hidden.length).toBeGreaterThan(10);
    for (const r of hidden) expect(r).toMatchObject({ opened: null, flags: { opened: 'suppressed' } });
    for (const r of rows.filter((x: { suppressed: boolean }) => !x.suppressed)) expect(r.opened === 0 || r.opened > 60).toBe(true);

    const csv = await strict.inject('/api/public/kpis?by=service,week&format=csv');
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    const lines = csv.body.trim().split('\r\n');
    expect(lines[0]).toBe('service_group,service,week,opened,suppressed,median_hours_to_close,on_time_rate,csat_top2,notes');
    const hiddenLine = lines.find((l) => l.includes(',true,'))!;
    expect(hiddenLine).toMatch(/,,true,,,,opened: suppressed; median_hours_to_close: suppressed; on_time_rate: suppressed; csat_top2: suppressed$/);
  });

  it('trends: one series per service and per area, from the same release, with findings only where every period is published', async () => {
    const res = await strict.inject('/api/public/trends?by=service,area');
    expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
    const body = res.json();
    expect(body.period).toBe('week');
    // Nine services less Water Leak, which is sensitive and published nowhere.
    expect(body.series.filter((s: { service?: string }) => s.service).map((s: { service: string }) => s.service)).toHaveLength(8);
    expect(body.series.map((s: { service?: string }) => s.service)).not.toContain('Water Leak');
    expect(body.series.filter((s: { area?: string }) => s.area).map((s: { area: string }) => s.area)).toHaveLength(8);
    expect(body.series_tested + body.series_not_tested).toBe(body.series.length);
    for (const f of body.findings) expect(f.sentence).toMatch(/ a week over the 26 weeks from /);
    const csv = await strict.inject('/api/public/trends?by=area&period=month&format=csv');
    expect(csv.body.split('\r\n')[0]).toBe('service_group,service,area,month,opened,suppressed');
  });

  it.each([
    ['/api/public/kpis?as_of=2026-01-01T00:00:00Z', /as_of/],
    ['/api/public/kpis?from=2026-01-01', /from/],
    ['/api/public/kpis?service=Pothole%20Repair', /service/],
    ['/api/public/kpis?area_kind=district', /area_kind/],
    ['/api/public/kpis?by=day', /by "day" is not one of service_group, service, area, week, month/],
    ['/api/public/kpis?by=channel', /by "channel"/],
    ['/api/public/kpis?by=service,service_group', /service_group or service, not both/],
    ['/api/public/kpis?by=week&period=month', /by "week" does not match period "month"/],
    ['/api/public/kpis?period=day', /period/],
    ['/api/public/trends?by=week', /by "week"/],
    ['/api/public/trends?period=quarter', /period/],
  ])('refuses %s with a 400 naming the parameter', async (url, message) => {
    const res = await fastify.inject(url);
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().message).toMatch(message);
  });

  it('shows in the OpenAPI document as public routes', async () => {
    const doc = (await fastify.inject('/docs/json')).json();
    for (const path of ['/api/public/kpis', '/api/public/trends']) {
      expect(doc.paths[path].get.tags).toEqual(['public']);
      expect(doc.paths[path].get.security ?? []).toEqual([]);
    }
  });
});
