// The HTTP API through app.inject(): real app, real DuckDB seeded with the demo city.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoWarehouse } from '../demo-warehouse.ts';
import type { FastifyInstance } from 'fastify';
import { injectAs, testApp, type Inject } from '../app-helper.ts';
import { createToken } from '../../warehouse/access/tokens.ts';
import { tempWarehouse, type TempWarehouse } from '../helpers.ts';

describe('HTTP API', () => {
  let t: TempWarehouse;
  let fastify: FastifyInstance;
  let staff: Inject;
  beforeAll(async () => {
    t = await demoWarehouse();
    fastify = await testApp(t.wh);
    staff = await injectAs(fastify, t.wh, 'manager');
  });
  afterAll(async () => {
    await fastify.close();
    t.cleanup();
  });

  it('GET /api/health says how fresh the data is', async () => {
    const res = await fastify.inject('/api/health');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'ok', data_as_of: '2026-11-16T04:22:21.163000Z', cases: 34448, timezone: 'America/New_York' });
  });

  it('GET /api/kpis?by=service gives one row per service over the default 12 weeks', async () => {
    const res = await staff('/api/kpis?by=service');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ from: '2026-08-24', to: '2026-11-15', timezone: 'America/New_York', by: ['service'] });
    expect(body.rows).toHaveLength(9);
    for (const r of body.rows) {
      expect(r.opened).toBeGreaterThan(0);
      expect(r.median_hours_to_close).toBeGreaterThan(0);
      expect(r.on_time_rate).toBeGreaterThan(0);
      expect(r.on_time_rate).toBeLessThan(1);
    }
  });

  it('the weekly breakdown adds up to the service totals', async () => {
    const [svc, wk] = await Promise.all([
      staff('/api/kpis?by=service&from=2026-10-05&to=2026-11-01'),
      staff('/api/kpis?by=service,week&from=2026-10-05&to=2026-11-01'),
    ]);
    const weekly = wk.json().rows as { service: string; week: string; opened: number }[];
    expect(new Set(weekly.map((r) => r.week))).toEqual(new Set(['2026-10-05', '2026-10-12', '2026-10-19', '2026-10-26']));
    for (const s of svc.json().rows as { service: string; opened: number }[]) {
      expect(weekly.filter((r) => r.service === s.service).reduce((a, r) => a + r.opened, 0)).toBe(s.opened);
    }
  });

  it('answers CSV with ?format=csv', async () => {
    const res = await staff('/api/kpis?by=week&from=2026-11-02&to=2026-11-15&format=csv');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    const lines = res.body.trim().split('\r\n');
    expect(lines[0]).toBe('week,opened,closed,cancelled,median_hours_to_close,median_hours_ci_lower,median_hours_ci_upper,p90_hours_to_close,on_time_rate,on_time,on_time_denominator,pending,excluded_data_errors,closed_without_due_time');
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(['2026-11-02', '2026-11-09']);
  });

  it.each([
    ['/api/kpis?from=2026-02-30', /^querystring\/from "2026-02-30" is not a calendar date \(YYYY-MM-DD\)$/],
    ['/api/kpis?to=yesterday', /^querystring\/to "yesterday" is not a calendar date \(YYYY-MM-DD\)$/],
    ['/api/kpis?by=district', /querystring\/by "district" is not one of service, service_group, agency, channel, area, day, week, month, quarter/],
    ['/api/kpis?format=xlsx', /querystring\/format/],
    ['/api/kpis?as_of=2026-11-01', /^querystring\/as_of "2026-11-01" is not an ISO 8601 time with an offset/],
    ['/api/kpis?from=2026-11-10&to=2026-11-01', /querystring\/from \(2026-11-10\) must be on or before to \(2026-11-01\)/],
  ])('400 naming the parameter: %s', async (url, message) => {
    const res = await staff(url);
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(message);
  });

  it('serves the OpenAPI document at /docs', async () => {
    const ui = await fastify.inject('/docs');
    expect([200, 302]).toContain(ui.statusCode);
    const doc = await fastify.inject('/docs/json');
    expect(doc.statusCode).toBe(200);
    const spec = doc.json();
    expect(spec.openapi).toMatch(/^3\./);
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/api/health', '/api/kpis']));
    expect(spec.paths['/api/kpis'].get.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['from', 'to', 'as_of', 'by', 'format']));
  });

  it('404s unknown API routes as JSON', async () => {
    const res = await fastify.inject('/api/nothing-here');
    expect(res.statusCode).toBe(404);
    expect(res.json().message).toBe('No route GET /api/nothing-here');
  });
});

describe('server errors', () => {
  it('hide their details from the client', async () => {
    const t = await tempWarehouse({ memory: true });
    const fastify = await testApp(t.wh, { timezone: 'UTC', jurisdiction: 'X' });
    const staff = await injectAs(fastify, t.wh);
    await t.wh.run('DROP TABLE cases'); // the warehouse breaks under the running app
    const res = await staff('/api/kpis');
    expect(res.statusCode).toBe(500);
    expect(res.json().message).toMatch(/^Something went wrong on our side \(request .+\)\.$/);
    expect(res.body).not.toMatch(/cases|Catalog|DuckDB/i);
    await fastify.close();
    t.cleanup();
  });
});

describe('analysis routes', () => {
  let t: TempWarehouse;
  let fastify: FastifyInstance;
  let planner: string;
  let staff: Inject;
  beforeAll(async () => {
    t = await demoWarehouse();
    planner = (await createToken(t.wh, { name: 'p', role: 'planner' })).token;
    fastify = await testApp(t.wh);
    staff = await injectAs(fastify, t.wh, 'planner');
  });
  afterAll(async () => {
    await fastify.close();
    t.cleanup();
  });

  it('GET /api/trends: findings with sentences over a year of weeks', async () => {
    const res = await staff('/api/trends?by=service,area&weeks=52');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ from: '2025-11-17', to: '2026-11-15', series_tested: 72 });
    expect(body.trends.map((f: { sentence: string }) => f.sentence)).toEqual([expect.stringMatching(/^Pothole Repair requests in District 4 have risen/)]);
  });

  it('GET /api/equity names the slow district', async () => {
    const res = await staff('/api/equity');
    expect(res.statusCode).toBe(200);
    expect(res.json().time_to_close.worst).toBe('District 6');
  });

  it('GET /api/hotspots: GeoJSON for staff only', async () => {
    expect((await fastify.inject('/api/hotspots')).statusCode).toBe(401);
    const res = await fastify.inject({ url: '/api/hotspots?service=DUMPING&resolution=8&k=1', headers: { authorization: `Bearer ${planner}` } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/geo\+json/);
    const geo = res.json();
    expect(geo.type).toBe('FeatureCollection');
    expect(geo.features[0].geometry.type).toBe('Polygon');
    expect(geo.features.filter((f: { properties: { bin: number } }) => f.properties.bin === 3).length).toBeGreaterThan(0);
    const bad = await fastify.inject({ url: '/api/hotspots?resolution=12', headers: { authorization: `Bearer ${planner}` } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/querystring\/resolution/);
  });
});
