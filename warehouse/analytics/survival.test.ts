// The drawn Kaplan–Meier curve against the reference estimator (stats/kaplan-meier.ts, held to R
// survival): a thinned curve's points are the exact curve's values at those times, to the bit, and
// a pooled group is the curve of its groups' cases taken together.
import { describe, expect, it } from 'vitest';
import { useDemoWindow } from '../../test/demo-window.ts';
import { computeSurvival } from './survival.ts';
import { resolveSelection } from './dimensions.ts';
import { buildKmObservationsQuery } from '../queries/kpi-sql.ts';
import { kaplanMeier, kmSummary, type KmObservation } from '../stats/kaplan-meier.ts';

describe('the drawn Kaplan–Meier curve', () => {
  const demo = useDemoWindow();

  /** The reference curve of some services' cases, from their observations (censored at as_of as the KPI censors them). */
  async function reference(services: string[]) {
    const merged = new Map<number, KmObservation>();
    for (const service of services) {
      const sel = await resolveSelection(demo.t.wh, demo.w, { filter: { service } });
      const q = buildKmObservationsQuery([], sel, 'close');
      for (const r of await demo.t.wh.all<{ seconds: number; events: number; censored: number }>(q.sql, q.params)) {
        const o = merged.get(r.seconds) ?? { time: r.seconds, events: 0, censored: 0 };
        o.events += r.events;
        o.censored += r.censored;
        merged.set(r.seconds, o);
      }
    }
    return kaplanMeier([...merged.values()]);
  }

  it('thinned: every point is the exact curve at that time; unthinned: the exact curve, step for step', async () => {
    const thin = await computeSurvival(demo.t.wh, demo.w, { service: 'TRASH' });
    const full = await computeSurvival(demo.t.wh, demo.w, { service: 'TRASH' }, { maxSteps: 1_000_000 });
    expect(thin.thinned).toBe(true);
    expect(full.thinned).toBe(false);
    const ref = await reference(['TRASH']);
    const events = ref.points.filter((p) => p.n_event > 0);
    // The full curve: every distinct event time, plus the end of follow-up.
    // Times are whole microseconds: hours × 3600 is compared at that precision.
    const us = (seconds: number) => Math.round(seconds * 1e6);
    expect(full.points.filter((p) => p.events > 0).map((p) => us(p.hours * 3600))).toEqual(events.map((p) => us(p.time)));
    const at = new Map(ref.points.map((p) => [us(p.time), p]));
    for (const p of [...thin.points, ...full.points]) {
      const r = at.get(us(p.hours * 3600))!;
      expect(r, String(p.hours)).toBeDefined();
      // The same steps and bands as the reference estimator (and the KPIs): the same bits.
      expect(p.survival).toBe(r.surv);
      expect(p.at_risk).toBe(r.n_risk);
      expect(p.events).toBe(r.n_event);
      expect([p.lower, p.upper]).toEqual([r.lower, r.upper]);
    }
    // At most 400 quantiles, the quantile points and the end of follow-up.
    expect(thin.points.length).toBeLessThanOrEqual(400 + 9);
    expect(thin.groups[0].steps).toBe(events.length);
    const median = kmSummary(ref).median! / 3600;
    expect(thin.groups[0].median_hours).toBe(median);
    expect(full.groups[0].median_hours).toBe(thin.groups[0].median_hours);
  });

  it('a pooled group is the curve of its groups’ cases together', async () => {
    const s = await computeSurvival(demo.t.wh, demo.w, {}, { by: 'service' });
    const pooled = s.groups.find((g) => g.group === '(other services)')!;
    expect(pooled.pooled).toHaveLength(2);
    const ref = await reference(pooled.pooled!);
    expect(pooled.n).toBe(ref.n);
    expect(pooled.events).toBe(ref.events);
    const summary = kmSummary(ref);
    expect(pooled.median_hours).toBe(summary.median! / 3600);
    expect(pooled.p90_hours).toBe(summary.p90! / 3600);
  });

  it('past 8 areas the smallest are pooled too; with a filter to fewer groups, none is', async () => {
    const few = await computeSurvival(demo.t.wh, demo.w, { agency: 'Sanitation' }, { by: 'service' });
    expect(few.groups.map((g) => g.group)).toEqual(['Bulky Item Pickup', 'Illegal Dumping', 'Missed Trash Pickup']);
    expect(few.groups.every((g) => g.pooled === undefined)).toBe(true);
    const areas = await computeSurvival(demo.t.wh, demo.w, {}, { by: 'area' });
    expect(areas.groups.length).toBeLessThanOrEqual(8);
  });
});
