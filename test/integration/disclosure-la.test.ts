// Disclosure control on a real, sparse export: LA's MyLA311 subset (10,000 requests of 2017) with
// its council districts, Homeless Encampment marked sensitive. Every public table the routes can
// give comes from one release per period; the release is audited with an LP solver (HiGHS): each
// suppressed count's smallest and largest value consistent with everything published must be at
// least k apart. Without complementary suppression the same audit recovers counts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { ingestFile } from '../../ingest/load.ts';
import { loadProfile } from '../../ingest/profile.ts';
import { loadAreasGeoJson } from '../../ingest/areas.ts';
import { assignPlaces } from '../../ingest/places.ts';
import { publicReleaseForAudit } from '../../warehouse/analytics/public-kpis.ts';
import { computeKpis, resolveWindow } from '../../warehouse/analytics/kpis.ts';
import { auditSuppression } from '../../warehouse/privacy/lp-audit.ts';
import { DEFAULT_POLICY, type DisclosurePolicy } from '../../warehouse/privacy/policy.ts';
import { protect, PUBLISHED } from '../../warehouse/privacy/suppress.ts';
import type { AppOptions } from '../../api/app.ts';
import { testApp } from '../app-helper.ts';
import { fixture, LA311_CSV, tempWarehouse, type TempWarehouse } from '../helpers.ts';

const TZ = 'America/Los_Angeles';
const POLICY: DisclosurePolicy = { ...DEFAULT_POLICY, sensitive_services: ['Homeless Encampment'] };

describe('LA export: public tables audited', () => {
  let t: TempWarehouse;
  let fastify: FastifyInstance;
  beforeAll(async () => {
    t = await tempWarehouse();
    await ingestFile(t.wh, LA311_CSV, loadProfile('myla311'));
    await loadAreasGeoJson(t.wh, fixture('la311/la_council_districts_2012.geojson'), { kind: 'council_district', idProperty: 'external_id', nameProperty: 'name' });
    await loadAreasGeoJson(t.wh, fixture('la311/la_neighborhood_councils_2019.geojson'), { kind: 'neighborhood_council', idProperty: 'nc_id', nameProperty: 'name' });
    await assignPlaces(t.wh);
    fastify = await testApp(t.wh, { timezone: TZ, jurisdiction: 'City of Los Angeles', disclosure: POLICY } as AppOptions['config']);
  });
  afterAll(async () => {
    await fastify.close();
    t.cleanup();
  });

  // The routes' own release (council districts, k 10), and stricter ones the configuration allows
  // — 99 neighbourhood councils, a larger k — where most of the table is small.
  const cases = [
    { period: 'week', area_kind: 'council_district', k: 10 },
    { period: 'month', area_kind: 'council_district', k: 10 },
    { period: 'week', area_kind: 'neighborhood_council', k: 10 },
    { period: 'week', area_kind: 'neighborhood_council', k: 60 },
    { period: 'month', area_kind: 'neighborhood_council', k: 150 },
    { period: 'month', area_kind: 'council_district', k: 420 },
  ] as const;
  for (const c of cases) {
    it(`${c.area_kind} by ${c.period}, k = ${c.k}: every suppressed count keeps a feasible range at least k wide; primary suppression alone does not`, async () => {
      const policy = { ...POLICY, k: c.k };
      const r = await publicReleaseForAudit(t.wh, { period: c.period, policy, timezone: TZ, area_kind: c.area_kind === 'council_district' ? undefined : c.area_kind });
      const release = r.release!;
      const { cube, protection } = release;
      const count = release.values.opened;
      expect(r.area_kind).toBe(c.area_kind);
      expect(r.sensitive).toEqual(['Homeless Encampment']);
      // The subset holds 27–31 December 2017: one period, cut by the start of the data.
      expect(r.periods).toEqual([c.period === 'week' ? '2017-12-25' : '2017-12-01']);
      expect(r.partial).toBe(r.periods[0]);

      const audit = await auditSuppression(cube, count, (i) => protection.state[i] !== PUBLISHED, { k: c.k });
      expect(audit.suppressed).toBeGreaterThan(0);
      expect(audit.narrow).toEqual([]);
      console.log(`LA ${c.area_kind} by ${c.period}, k ${c.k}: ${cube.size} cells, ${protection.stats.primary} primary + ${protection.stats.complementary} complementary suppressions, ${audit.components} components, ${audit.solves} LP solves, none narrower than k`);

      // Where complements were needed, leaving them out must fail the same audit (a lone suppressed
      // cell of a line is its total minus the rest). Where many small counts share every line they
      // protect one another, and none were needed.
      const primaryOnly = protect(cube, count, { k: c.k, complementary: false });
      const leaky = await auditSuppression(cube, count, (i) => primaryOnly.state[i] !== PUBLISHED, { k: c.k });
      if (protection.stats.complementary > 0) {
        expect(leaky.narrow.length).toBeGreaterThan(0);
      }
    });
  }

  it('the routes answer without a token, with no count 1..k, suppressed cells as null and never 0, and the sensitive service never by area', async () => {
    for (const url of ['/api/public/kpis?by=service,area,week', '/api/public/kpis?by=service_group,area&period=month', '/api/public/trends?by=service,area&period=week']) {
      const res = await fastify.inject(url);
      expect(res.statusCode, `${url}: ${res.body.slice(0, 300)}`).toBe(200);
      expect(res.body).not.toMatch(/Infinity|NaN/);
    }
    const body = (await fastify.inject('/api/public/kpis?by=service,area,week')).json();
    expect(body.jurisdiction).toBe('City of Los Angeles');
    expect(body.disclosure).toMatchObject({ k: 10, min_denominator: 20, sensitive_services: ['Homeless Encampment'] });
    const rows = body.tables.flatMap((tb: { rows: unknown[] }) => tb.rows) as Record<string, unknown>[];
    for (const row of rows) {
      const opened = row.opened as number | null;
      if (row.suppressed) {
        expect(opened).toBeNull();
        expect(row.flags).toMatchObject({ opened: 'suppressed' });
        expect([row.median_hours_to_close, row.on_time_rate, row.csat_top2]).toEqual([null, null, null]);
      } else {
        expect(opened === 0 || opened! > 10, JSON.stringify(row)).toBe(true);
      }
      if (row.area !== undefined) expect(row.service).toBeUndefined();
      expect(row.service).not.toBe('Homeless Encampment');
    }
    expect(rows.filter((r) => r.suppressed).length).toBeGreaterThan(0);
    expect(body.footnotes.suppressed).toMatch(/not zero/);
    expect(body.footnotes.area_not_published).toMatch(/^Homeless Encampment: requests of this service are not published at all/);
  });

  it('publishes the staff figures themselves: a published count is the KPI route\'s count for the same cases', async () => {
    const body = (await fastify.inject('/api/public/kpis?by=service&period=month')).json();
    expect(body.as_of).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const window = await resolveWindow(t.wh, { from: body.from, to: body.to }, TZ);
    const staff = await computeKpis(t.wh, ['service'], window, {}, { area_kind: 'council_district' });
    const byService = new Map(staff.rows.map((r) => [r.service, r.opened]));
    const published = body.tables[0].rows.filter((r: { suppressed: boolean }) => !r.suppressed);
    expect(published.length).toBeGreaterThan(5);
    for (const r of published) expect(r.opened).toBe(byService.get(r.service) ?? 0);
    const total = body.tables[body.tables.length - 1].rows[0];
    // Homeless Encampment is sensitive: left out of every public figure, the total too.
    expect(byService.get('Homeless Encampment')).toBeGreaterThan(0);
    expect(published.map((r: { service: string }) => r.service)).not.toContain('Homeless Encampment');
    expect(total.opened).toBe(staff.rows.filter((r) => r.service !== 'Homeless Encampment').reduce((s, r) => s + r.opened, 0));
  });
});
