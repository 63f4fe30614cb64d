// Series follow the data: an export shorter than the default 52-week window must not be read as
// months of zero requests (every service an "anomaly", the real trend lost), and a service that
// starts mid-window starts its series there.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestFile } from '../../ingest/load.ts';
import { parseProfile } from '../../ingest/profile.ts';
import { tempWarehouse, type TempWarehouse } from '../../test/helpers.ts';
import { computeFindings, countSeries } from './findings.ts';
import { resolveSelection } from './dimensions.ts';
import { resolveWindow } from './window.ts';

const profile = parseProfile({
  name: 'series-test', kind: 'cases', source: 's', format: 'csv', timezone: 'UTC',
  columns: { case_id: 'id', opened_at: 'opened', closed_at: 'closed', service_name: 'service' },
});

const DAY = 86_400_000;
// Wednesday 2025-01-01: the export starts mid-week, so its first week is cut.
const START = Date.parse('2025-01-01T00:00:00Z');

describe('count series start where the data starts', () => {
  let t: TempWarehouse;
  beforeAll(async () => {
    t = await tempWarehouse({ memory: true });
    const lines = ['id,opened,closed,service'];
    let n = 0;
    // 9 weeks and 2 days of data: Wednesday 1 January to Friday 7 March 2025.
    for (let d = 0; d < 66; d++) {
      const week = Math.floor((d + 2) / 7); // weeks counted from Monday 30 December
      const day = new Date(START + d * DAY);
      // Rising: 2 + week requests a day (a clean upward trend); Late: 3 a day from 3 February.
      for (let i = 0; i < 2 + week; i++) lines.push(`r${n++},${new Date(day.getTime() + (i + 1) * 60_000).toISOString()},,Rising`);
      if (day.getTime() >= Date.parse('2025-02-03T00:00:00Z')) for (let i = 0; i < 3; i++) lines.push(`l${n++},${new Date(day.getTime() + (i + 1) * 90_000).toISOString()},,Late`);
    }
    const r = await ingestFile(t.wh, t.write('cases.csv', lines.join('\n') + '\n'), profile);
    expect(r.rejected).toBe(0);
  });
  afterAll(() => t.cleanup());

  it('weekly: whole weeks only, from the first whole week of the data or of the group', async () => {
    const w = await resolveWindow(t.wh, { weeks: 52 }, 'UTC');
    expect(w.to).toBe('2025-03-07');
    expect(w.from).toBe('2025-01-01'); // 52 weeks back would be March 2024: the default window starts with the data
    // Asked for explicitly, a window may reach before the data; the series still start with it.
    const early = await resolveWindow(t.wh, { from: '2024-03-01' }, 'UTC');
    expect((await countSeries(t.wh, ['service'], 'week', await resolveSelection(t.wh, early))).find((s) => s.service === 'Rising')!.periods[0]).toBe('2025-01-06');
    const sel = await resolveSelection(t.wh, w);
    const series = await countSeries(t.wh, ['service'], 'week', sel);
    const rising = series.find((s) => s.service === 'Rising')!;
    // The first whole week starts Monday 6 January; the last whole one Monday 24 February.
    expect(rising.periods[0]).toBe('2025-01-06');
    expect(rising.periods.at(-1)).toBe('2025-02-24');
    expect(rising.counts).toEqual([21, 28, 35, 42, 49, 56, 63, 70]);
    const late = series.find((s) => s.service === 'Late')!;
    expect(late.periods).toEqual(['2025-02-03', '2025-02-10', '2025-02-17', '2025-02-24']);
    expect(late.counts).toEqual([21, 21, 21, 21]);
  });

  it('finds the real trend (Sen slope 7 a week) and no anomaly on a short export', async () => {
    const w = await resolveWindow(t.wh, { weeks: 52 }, 'UTC');
    const f = await computeFindings(t.wh, { window: w, by: ['service'], period: 'week' });
    const rising = f.trends.find((x) => x.service === 'Rising');
    expect(rising?.per_week).toBe(7);
    expect(rising?.sentence).toMatch(/^Rising requests have risen by about 7\.0 requests a week since/);
    expect(f.anomalies).toEqual([]);
    expect(f.trends.find((x) => x.service === 'Late')).toBeUndefined();
  });

  it('daily: from the first day of the group', async () => {
    const w = await resolveWindow(t.wh, { weeks: 52 }, 'UTC');
    const sel = await resolveSelection(t.wh, w);
    const series = await countSeries(t.wh, ['service'], 'day', sel);
    expect(series.find((s) => s.service === 'Rising')!.periods[0]).toBe('2025-01-01');
    expect(series.find((s) => s.service === 'Late')!.periods[0]).toBe('2025-02-03');
    expect(series.find((s) => s.service === 'Late')!.periods.at(-1)).toBe('2025-03-07');
  });
});
