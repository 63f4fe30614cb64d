// Equity's test of time to close read off each area's sorted durations (a large city's year is
// millions of distinct times: as rows they passed the row cap) gives the statistic the log-rank
// test gives over the same cases' observations.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoWarehouse } from '../../test/demo-warehouse.ts';
import { resolveWindow } from './window.ts';
import { computeEquity } from './equity.ts';
import { computeKpis } from './kpis.ts';
import { resolveSelection } from './dimensions.ts';
import { buildKmObservationsQuery } from '../queries/kpi-sql.ts';
import { NO_AREA, type CaseWindow } from '../queries/case-predicates.ts';
import { logRank } from '../stats/group-tests.ts';
import type { KmObservation } from '../stats/kaplan-meier.ts';

describe('equity: the log-rank test of time to close', () => {
  let t: Awaited<ReturnType<typeof demoWarehouse>>;
  let w: CaseWindow;
  beforeAll(async () => {
    t = await demoWarehouse();
    w = await resolveWindow(t.wh, { from: '2026-08-03', to: '2026-10-25', as_of: '2026-11-01T12:00:00Z' }, 'America/New_York');
  });
  afterAll(() => t?.cleanup());

  it('is the log-rank test of the areas\' observations, to the bit, with and without a filter', async () => {
    for (const filter of [{}, { agency: 'Sanitation' }]) {
      const got = await computeEquity(t.wh, { window: w, filter });
      // The reference: every area with enough cases, in the KPI rows' order, from its observations.
      const kpis = await computeKpis(t.wh, ['area'], w, filter);
      const areas = kpis.rows.filter((r) => r.area !== NO_AREA && r.opened >= 20).map((r) => r.area!);
      const sel = await resolveSelection(t.wh, w, { filter });
      const q = buildKmObservationsQuery(['area'], sel, 'close');
      const byArea = new Map<string, KmObservation[]>(areas.map((a) => [a, []]));
      for (const r of await t.wh.all<{ area: string; seconds: number; events: number; censored: number }>(q.sql, q.params)) {
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
