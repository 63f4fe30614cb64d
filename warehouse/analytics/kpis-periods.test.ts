// Periods are cut in the jurisdiction's time zone: a case belongs to the local day, week, month
// or quarter it was opened in (and, for the closed cohort, closed in), whatever the UTC offset
// was that day. New York changes offset on 10 March and 3 November 2024.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestFile } from '../../ingest/load.ts';
import { parseProfile } from '../../ingest/profile.ts';
import { tempWarehouse, type TempWarehouse } from '../../test/helpers.ts';
import { computeKpis } from './kpis.ts';

const profile = parseProfile({
  name: 't-dst', kind: 'cases', source: 'dst', format: 'csv', timezone: 'UTC',
  columns: { case_id: 'id', opened_at: 'opened', closed_at: 'closed' },
});

const NY = 'America/New_York';
const window = (from: string, to: string) => ({ from, to, as_of: '2025-03-01T00:00:00Z', timezone: NY });

describe('day, week, month and quarter across DST changes (America/New_York)', () => {
  let t: TempWarehouse;
  beforeAll(async () => {
    t = await tempWarehouse({ memory: true });
    const rows = [
      ['d1', '2024-09-01T03:59:59Z', ''],                      // 31 Aug 23:59:59 EDT: before the window
      ['d2', '2024-09-01T04:00:00Z', '2025-02-01T05:30:00Z'],  // 1 Sep 00:00 EDT; closed in February (outside)
      ['d3', '2024-10-01T03:59:00Z', ''],                      // 30 Sep 23:59 EDT: September, Q3
      ['d4', '2024-10-01T04:00:00Z', '2024-11-01T03:30:00Z'],  // 1 Oct 00:00 EDT, Q4; closed 31 Oct 23:30 EDT
      ['d5', '2024-11-03T06:30:00Z', '2024-12-01T04:30:00Z'],  // 3 Nov 01:30 EST, the second 01:30; closed 30 Nov 23:30 EST
      ['d5b', '2024-11-04T04:30:00Z', ''],                     // 3 Nov 23:30 EST (00:30 on the 4th at the summer offset)
      ['d6', '2024-12-01T04:30:00Z', '2025-01-01T05:00:00Z'],  // 30 Nov 23:30 EST; closed 1 Jan 00:00 EST
      ['d7', '2024-12-01T05:00:00Z', ''],                      // 1 Dec 00:00 EST
      ['d8', '2025-01-01T04:59:59Z', ''],                      // 31 Dec 23:59:59 EST: Q4
      ['d9', '2025-01-01T05:00:00Z', ''],                      // 1 Jan 00:00 EST: Q1
      ['d10', '2025-02-01T04:59:00Z', ''],                     // 31 Jan 23:59 EST: in the window
      ['d11', '2025-02-01T05:00:00Z', ''],                     // 1 Feb: after the window
    ];
    const path = t.write('dst.csv', ['id,opened,closed', ...rows.map((r) => r.join(','))].join('\n') + '\n');
    expect((await ingestFile(t.wh, path, profile)).loaded).toBe(rows.length);
  });
  afterAll(() => t.cleanup());

  it('months: opened by local opening, closed cohort by local close', async () => {
    const { rows } = await computeKpis(t.wh, ['month'], window('2024-09-01', '2025-01-31'));
    expect(rows.map((r) => [r.month, r.opened, r.closed_in_period])).toEqual([
      ['2024-09-01', 2, 0],
      ['2024-10-01', 1, 1],
      ['2024-11-01', 3, 1],
      ['2024-12-01', 2, 0],
      ['2025-01-01', 2, 1],
    ]);
  });

  it('quarters', async () => {
    const { rows } = await computeKpis(t.wh, ['quarter'], window('2024-09-01', '2025-01-31'));
    expect(rows.map((r) => [r.quarter, r.opened, r.closed_in_period])).toEqual([
      ['2024-07-01', 2, 0],
      ['2024-10-01', 6, 2],
      ['2025-01-01', 2, 1],
    ]);
  });

  it('days and weeks on the day the clocks go back', async () => {
    const days = (await computeKpis(t.wh, ['day'], window('2024-11-02', '2024-11-04'))).rows;
    expect(days.map((r) => [r.day, r.opened])).toEqual([['2024-11-03', 2]]);
    // Sunday 3 November belongs to the week of Monday 28 October.
    const weeks = (await computeKpis(t.wh, ['week'], window('2024-10-28', '2024-11-10'))).rows;
    expect(weeks.map((r) => [r.week, r.opened])).toEqual([['2024-10-28', 2]]);
  });

  it('a month and its quarter hold the same cases', async () => {
    const both = (await computeKpis(t.wh, ['quarter', 'month'], window('2024-09-01', '2025-01-31'))).rows;
    for (const r of both) expect(r.month!.slice(0, 5) + String(Math.floor((Number(r.month!.slice(5, 7)) - 1) / 3) * 3 + 1).padStart(2, '0') + '-01').toBe(r.quarter);
    expect(both.reduce((s, r) => s + r.opened, 0)).toBe(10);
  });
});
