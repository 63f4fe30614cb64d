// Disclosure control on the demo city: the public release of each period audited with an LP solver
// (HiGHS) — every suppressed count's smallest and largest value consistent with everything
// published (every cell and margin of the release, non-negativity) at least k apart — at the
// default k and at stricter ones, where most weekly service counts are small. The public figures
// are the staff figures (one definition); a sensitive service is left out of every public figure.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoWarehouse } from '../demo-warehouse.ts';
import type { TempWarehouse } from '../helpers.ts';
import { publicKpis, publicReleaseForAudit, publicTrends, type PublicRow } from '../../warehouse/analytics/public-kpis.ts';
import { computeKpis, resolveWindow } from '../../warehouse/analytics/kpis.ts';
import { auditSuppression } from '../../warehouse/privacy/lp-audit.ts';
import { DEFAULT_POLICY, type DisclosurePolicy } from '../../warehouse/privacy/policy.ts';
import { protect, PUBLISHED } from '../../warehouse/privacy/suppress.ts';

const TZ = 'America/New_York';
const STRICT: DisclosurePolicy = { k: 60, min_denominator: 20, sensitive_services: ['WATERLEAK'] };

describe('demo city: public releases audited', () => {
  let t: TempWarehouse;
  beforeAll(async () => {
    t = await demoWarehouse();
  });
  afterAll(() => t.cleanup());

  const cases = [
    { period: 'week', policy: DEFAULT_POLICY },
    { period: 'month', policy: DEFAULT_POLICY },
    { period: 'week', policy: STRICT },
    { period: 'month', policy: { ...STRICT, k: 400 } },
  ] as const;
  for (const c of cases) {
    it(`by ${c.period}, k = ${c.policy.k}${c.policy.sensitive_services.length ? ', Water Leak sensitive' : ''}: no suppressed count can be narrowed below k`, async () => {
      const r = await publicReleaseForAudit(t.wh, { period: c.period, policy: c.policy, timezone: TZ });
      const { cube, protection, values } = r.release!;
      expect(r.periods).toHaveLength(c.period === 'week' ? 26 : 12);
      // The demo's year starts in mid-November: that month is kept, and named as partial.
      expect(r.partial).toBe(c.period === 'week' ? null : r.periods[0]);
      for (let i = 0; i < cube.size; i++) if (values.opened[i] >= 1 && values.opened[i] <= c.policy.k) expect(protection.state[i]).not.toBe(PUBLISHED);
      const audit = await auditSuppression(cube, values.opened, (i) => protection.state[i] !== PUBLISHED, { k: c.policy.k });
      expect(audit.narrow).toEqual([]);
      console.log(`demo by ${c.period}, k ${c.policy.k}: ${cube.size} cells, ${protection.stats.primary} primary + ${protection.stats.complementary} complementary suppressions (${protection.stats.stars} stars), ${audit.solves} LP solves, none narrower than k`);
      if (c.policy.k === DEFAULT_POLICY.k) {
        // A city of ~90 requests a day: no weekly service or area count is that small.
        expect(protection.stats.primary).toBe(0);
        return;
      }
      expect(protection.stats.primary).toBeGreaterThan(10);
      expect(protection.stats.complementary).toBeGreaterThan(0);
      // The check has teeth: without the complements the audit pins counts down.
      const primaryOnly = protect(cube, values.opened, { k: c.policy.k, complementary: false });
      const leaky = await auditSuppression(cube, values.opened, (i) => primaryOnly.state[i] !== PUBLISHED, { k: c.policy.k });
      expect(leaky.narrow.length).toBeGreaterThan(0);
    });
  }

  it('publishes the staff figures: a published count is /api/kpis\' count for the same cases, and every table is a slice of one release', async () => {
    const pub = await publicKpis(t.wh, ['service', 'area', 'week'], { period: 'week', policy: STRICT, timezone: TZ });
    expect(pub.tables.map((tb) => tb.by.join('×'))).toEqual(['service×week', 'area×week', 'week', 'service', 'area', '']);
    const window = await resolveWindow(t.wh, { from: pub.from!, to: pub.to!, as_of: pub.as_of }, TZ);
    const staff = await computeKpis(t.wh, ['service', 'week'], window, {}, {});
    const key = (r: { service?: string; week?: string }) => `${r.service}|${r.week}`;
    const staffOpened = new Map(staff.rows.map((r) => [key(r), r.opened]));
    const serviceWeek = pub.tables[0].rows;
    // Water Leak is sensitive: left out (8 of the 9 services).
    expect(serviceWeek).toHaveLength(8 * 26);
    const published = serviceWeek.filter((r) => !r.suppressed);
    const suppressed = serviceWeek.filter((r) => r.suppressed);
    expect(published.length).toBeGreaterThan(50);
    expect(suppressed.length).toBeGreaterThan(10);
    for (const r of published) expect(r.opened).toBe(staffOpened.get(key(r)) ?? 0);
    // Suppressed: null and flagged, never 0; the whole row withheld.
    for (const r of suppressed) {
      expect(r).toMatchObject({ opened: null, median_hours_to_close: null, on_time_rate: null, csat_top2: null, suppressed: true });
      expect(Object.values(r.flags)).toEqual(['suppressed', 'suppressed', 'suppressed', 'suppressed']);
    }
    const total = pub.tables[5].rows[0];
    expect(total.opened).toBe(staff.rows.filter((r) => r.service !== 'Water Leak').reduce((s, r) => s + r.opened, 0));
    // The overall rates are the staff rates of the services published, rounded to a whole percentage.
    const overall = (await computeKpis(t.wh, [], window, {}, { scope: { exclude_services: ['Water Leak'] } })).rows[0];
    expect(total.on_time_rate).toBe(Math.round(overall.on_time_rate! * 100) / 100);
    expect(total.median_hours_to_close).toBe(Math.round(overall.median_hours_to_close! * 10) / 10);
  });

  it('leaves a sensitive service out of every public figure, totals included: what it publishes is the staff figures of the other services', async () => {
    // Open311 lists every request of the other services, so a total that still held the sensitive
    // service would give its count away by subtraction (found by the public crawler).
    const pub = await publicKpis(t.wh, ['service', 'area'], { period: 'month', policy: STRICT, timezone: TZ });
    expect(pub.disclosure.sensitive_services).toEqual(['Water Leak']);
    const [byService, byArea, [total]] = pub.tables.map((tb) => tb.rows);
    expect(byService.map((r) => r.service)).not.toContain('Water Leak');
    expect(byArea.map((r) => r.area)).toEqual([...Array.from({ length: 8 }, (_, i) => `District ${i + 1}`)]);
    const window = await resolveWindow(t.wh, { from: pub.from!, to: pub.to!, as_of: pub.as_of }, TZ);
    const staff = (await computeKpis(t.wh, ['service'], window, {}, {})).rows;
    const water = staff.find((r) => r.service === 'Water Leak')!.opened;
    expect(water).toBeGreaterThan(0);
    expect(total.opened).toBe(staff.reduce((s, r) => s + r.opened, 0) - water);
    expect(byArea.reduce((s, r) => s + r.opened!, 0)).toBe(total.opened);
    // Medians are for exactly the cases counted: the staff median with the service left out.
    const without = (await computeKpis(t.wh, ['area'], window, {}, { scope: { exclude_services: ['Water Leak'] } })).rows;
    for (const r of byArea) expect(r.median_hours_to_close).toBe(Math.round(without.find((x) => x.area === r.area)!.median_hours_to_close! * 10) / 10);
    expect(pub.footnotes.area_not_published).toMatch(/^Water Leak: requests of this service are not published at all/);
  });

  it('rates and durations only over the minimum denominator: "too few cases" otherwise, as null with a flag', async () => {
    const pub = await publicKpis(t.wh, ['service'], { period: 'month', policy: { ...DEFAULT_POLICY, min_denominator: 3000 }, timezone: TZ });
    const [byService, [total]] = pub.tables.map((tb) => tb.rows);
    const few = byService.filter((r) => r.flags.on_time_rate === 'too_few_cases');
    expect(few.length).toBeGreaterThan(3);
    for (const r of few) expect(r.on_time_rate).toBeNull();
    expect(byService.some((r) => r.flags.median_hours_to_close === 'too_few_cases' && r.median_hours_to_close === null && r.opened !== null)).toBe(true);
    expect(total.flags).toEqual({});
    expect(pub.footnotes.too_few_cases).toMatch(/at least 3000 cases/);
  });

  it('trends are the same cells as the KPI tables, and test only series with every period published', async () => {
    const o = { period: 'week' as const, policy: STRICT, timezone: TZ };
    const tr = await publicTrends(t.wh, ['service'], o);
    const kp = await publicKpis(t.wh, ['service', 'week'], o);
    const cells = new Map(kp.tables[0].rows.map((r: PublicRow) => [`${r.service}|${r.week}`, r.opened]));
    for (const s of tr.series) s.periods.forEach((p, i) => expect(s.opened[i]).toBe(cells.get(`${s.service}|${p}`)));
    const withHoles = tr.series.filter((s) => s.suppressed.includes(true));
    expect(withHoles.length).toBeGreaterThan(0);
    expect(tr.series_not_tested).toBeGreaterThanOrEqual(withHoles.length);
    for (const f of tr.findings) expect(withHoles.some((s) => s.service === f.service)).toBe(false);
  });
});
