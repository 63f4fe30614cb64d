// A Kaplan–Meier measure read for several cuts at once, each pooled from the finest grouping's
// durations (kmMeasureByGroupings, what the public release reads its medians from), is the staff
// KPIs' figure for that cut, to the bit — with a filter, a scope and another area kind too.
import { describe, expect, it } from 'vitest';
import { useDemoWindow } from '../../test/demo-window.ts';
import { computeKpis, kmMeasureByGroupings } from './kpis.ts';
import type { CaseFilter, Dimension } from '../queries/case-predicates.ts';
import type { KpiOptions } from './kpis.ts';

describe('Kaplan–Meier measures pooled over cuts of one grouping', () => {
  const demo = useDemoWindow();

  const finest: Dimension[] = ['service_group', 'service', 'area', 'week'];
  const cuts: Dimension[][] = [[], ['week'], ['service_group'], ['service_group', 'week'], ['service_group', 'service'], ['service_group', 'service', 'week'], ['area'], ['area', 'week'], finest];

  const cases: { name: string; measure: string; filter: CaseFilter; opts: KpiOptions }[] = [
    { name: 'median, everything', measure: 'median_hours_to_close', filter: {}, opts: {} },
    { name: 'P90, one agency', measure: 'p90_hours_to_close', filter: { agency: 'Sanitation' }, opts: {} },
    { name: 'median to first response, a scope', measure: 'median_hours_to_first_response', filter: {}, opts: { scope: { agencies: ['Public Works', 'Sanitation'] } } },
    // The areas as the source rows name them, not the default polygons.
    { name: 'median, the source\'s area names', measure: 'median_hours_to_close', filter: {}, opts: { area_kind: 'source' } },
  ];
  for (const c of cases) {
    it(`equals computeKpis for every cut: ${c.name}`, async () => {
      const got = await kmMeasureByGroupings(demo.t.wh, c.measure, finest, cuts, demo.w, c.filter, c.opts);
      let compared = 0;
      let valued = 0;
      for (const by of cuts) {
        const staff = await computeKpis(demo.t.wh, by, demo.w, c.filter, c.opts);
        const mine = got.get(by.join())!;
        const want = new Map(staff.rows.map((r) => [JSON.stringify(by.map((d) => r[d])), r[c.measure as keyof typeof r] as number | null]));
        // Every group with a figure has the same one, and no group is invented.
        for (const [k, v] of want) {
          expect(Object.is(mine.get(k) ?? null, v), `${by.join(',')} ${k}`).toBe(true);
          compared++;
          if (v !== null) valued++;
        }
        for (const k of mine.keys()) expect(want.has(k), `${by.join(',')} ${k}`).toBe(true);
      }
      expect(compared).toBeGreaterThan(300);
      expect(valued).toBeGreaterThan(100);
    }, 120_000);
  }

  it('refuses a cut outside the finest grouping, and a measure that is not Kaplan–Meier', async () => {
    await expect(kmMeasureByGroupings(demo.t.wh, 'median_hours_to_close', ['service'], [['area']], demo.w)).rejects.toThrow(/not within/);
    await expect(kmMeasureByGroupings(demo.t.wh, 'opened', ['service'], [['service']], demo.w)).rejects.toThrow(/not a Kaplan–Meier measure/);
    await expect(kmMeasureByGroupings(demo.t.wh, 'no_such_measure', ['service'], [['service']], demo.w)).rejects.toThrow(/not a Kaplan–Meier measure/);
  });

  it('leaves the Kaplan–Meier measures null when computeKpis is asked for no durations, the counts unchanged', async () => {
    const full = await computeKpis(demo.t.wh, ['service'], demo.w);
    const counts = await computeKpis(demo.t.wh, ['service'], demo.w, {}, { durations: false });
    expect(counts.rows.map((r) => [r.service, r.opened, r.on_time_rate, r.backlog])).toEqual(full.rows.map((r) => [r.service, r.opened, r.on_time_rate, r.backlog]));
    expect(full.rows.some((r) => r.median_hours_to_close !== null)).toBe(true);
    expect(counts.rows.every((r) => r.median_hours_to_close === null && r.p90_hours_to_close === null && r.median_hours_to_first_response === null)).toBe(true);
  });
});
