// Stored local days (migration 010) must give exactly what converting each timestamp gives: the
// same cases in a window, the same period labels, the same series — in the zone they were cut in.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoWarehouse } from '../../test/demo-warehouse.ts';
import type { TempWarehouse } from '../../test/helpers.ts';
import { resolveSelection } from '../analytics/dimensions.ts';
import { buildClosedPartsQuery, buildOpenedPartsQuery } from './kpi-sql.ts';
import { buildCountSeriesQuery } from './series-sql.ts';
import type { CaseSelection, Dimension } from './case-predicates.ts';

describe('stored local days', () => {
  let t: TempWarehouse;
  let sel: CaseSelection;
  beforeAll(async () => {
    t = await demoWarehouse();
    // A window that crosses the end of daylight saving time (2 November 2026 in New York).
    sel = await resolveSelection(t.wh, { from: '2026-09-28', to: '2026-11-15', as_of: '2026-11-16T05:00:00.000Z', timezone: 'America/New_York' });
  });
  afterAll(() => t.cleanup());

  it('are used for the zone they were cut in, and not for another', async () => {
    expect(sel.local_days).toBe(true);
    const other = await resolveSelection(t.wh, { ...sel.window, timezone: 'America/Los_Angeles' });
    expect(other.local_days).toBe(false);
  });

  it.each([
    [['service', 'week'] as Dimension[]],
    [['area', 'day'] as Dimension[]],
    [['channel', 'month'] as Dimension[]],
  ])('give the same KPI counts (the opened and closed cohorts, in parts) by %j as converting each timestamp', async (by) => {
    // Parts (one row per group and combination of the measures' predicates) come in no order.
    const sorted = (rows: Record<string, unknown>[]) => rows.map((r) => JSON.stringify(r)).sort();
    for (const build of [buildOpenedPartsQuery, buildClosedPartsQuery]) {
      const stored = build(by, sel);
      const converted = build(by, { ...sel, local_days: false });
      expect(stored.sql).not.toBe(converted.sql);
      const a = await t.wh.all(stored.sql, stored.params);
      expect(a.length).toBeGreaterThan(5);
      expect(sorted(a)).toEqual(sorted(await t.wh.all(converted.sql, converted.params)));
    }
  });

  it('give the same daily and weekly series', async () => {
    for (const period of ['day', 'week'] as const) {
      const stored = buildCountSeriesQuery(['service'], period, sel);
      const converted = buildCountSeriesQuery(['service'], period, { ...sel, local_days: false });
      const a = await t.wh.all(stored.sql, stored.params);
      expect(a.length).toBeGreaterThan(50);
      expect(a).toEqual(await t.wh.all(converted.sql, converted.params));
    }
  });
});
