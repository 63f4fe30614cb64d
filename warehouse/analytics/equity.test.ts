// Equity's test of time to close read off each area's sorted durations (a large city's year is
// millions of distinct times: as rows they passed the row cap) gives the statistic the log-rank
// test gives over the same cases' observations.
import { describe, expect, it } from 'vitest';
import { useDemoWindow } from '../../test/demo-window.ts';
import { computeEquity } from './equity.ts';
import { computeKpis } from './kpis.ts';
import { resolveSelection } from './dimensions.ts';
import { buildKmObservationsQuery } from '../queries/kpi-sql.ts';
import { NO_AREA } from '../queries/case-predicates.ts';
import { logRank } from '../stats/group-tests.ts';
import type { KmObservation } from '../stats/kaplan-meier.ts';

describe('equity: the log-rank test of time to close', () => {
  const demo = useDemoWindow();

  it('is the log-rank test of the areas\' observations, to the bit, with and without a filter', async () => {
    for (const filter of [{}, { agency: 'Sanitation' }]) {
      const got = await computeEquity(demo.t.wh, { window: demo.w, filter });
      // The reference: every area with enough cases, in the KPI rows' order, from its observations.
      const kpis = await computeKpis(demo.t.wh, ['area'], demo.w, filter);
      const areas = kpis.rows.filter((r) => r.area !== NO_AREA && r.opened >= 20).map((r) => r.area!);
      const sel = await resolveSelection(demo.t.wh, demo.w, { filter });
      const q = buildKmObservationsQuery(['area'], sel, 'close');
      const byArea = new Map<string, KmObservation[]>(areas.map((a) => [a, []]));
      for (const r of await demo.t.wh.all<{ area: string; seconds: number; events: number; censored: number }>(q.sql, q.params)) {
        byArea.get(r.area)?.push({ time: r.seconds, events: r.events, censored: r.censored });
      }
      for (const [a, list] of byArea) if (list.length === 0) byArea.delete(a);
      expect(byArea.size).toBeGreaterThan(2);
      const want = logRank(byArea);
      expect(want).not.toBeNull();
      expect(got.time_to_close.test).toEqual(want);
    }
  });
});
