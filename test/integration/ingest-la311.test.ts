// The real Los Angeles MyLA311 export (9,999 requests, 27–31 Dec 2017) through the built-in profile.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestCasesCsv } from '../../ingest/load-cases.ts';
import { loadProfile } from '../../ingest/profile.ts';
import { computeKpis } from '../../warehouse/analytics/kpis.ts';
import { LA311_CSV, tempWarehouse, type TempWarehouse } from '../helpers.ts';

describe('ingest the MyLA311 2017 export', () => {
  let t: TempWarehouse;
  beforeAll(async () => {
    t = await tempWarehouse();
  });
  afterAll(() => t.cleanup());

  it('loads every row, flags the 12 that close before they open, and the counts add up', async () => {
    const r = await ingestCasesCsv(t.wh, LA311_CSV, loadProfile('myla311'));
    expect(r).toMatchObject({ read: 9999, loaded: 9999, rejected: 0, duplicate: 0, flagged: 12 });
    expect(r.read).toBe(r.loaded + r.rejected + r.duplicate);
    // 9,999 opened events + closed/cancelled events for the 9,994 rows with a ClosedDate.
    expect(r.events_added).toBe(19993);
    const counts = await t.wh.all<{ status: string; n: number }>(`SELECT status, count(*)::INTEGER AS n FROM cases GROUP BY 1 ORDER BY 1`);
    expect(counts).toEqual([
      { status: 'cancelled', n: 246 },
      { status: 'closed', n: 9748 },
      { status: 'open', n: 5 },
    ]);
    const geo = await t.wh.one<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM cases WHERE lat IS NOT NULL`);
    expect(geo?.n).toBe(8246);
    const batch = await t.wh.one(`SELECT rows_read, rows_loaded, rows_rejected, rows_duplicate FROM ingest_batches WHERE batch_id = $b`, { b: r.batch_id });
    expect(batch).toEqual({ rows_read: 9999, rows_loaded: 9999, rows_rejected: 0, rows_duplicate: 0 });
  });

  it('stores times in UTC from Los Angeles local time', async () => {
    const c = await t.wh.one<{ opened: string }>(
      `SELECT strftime(opened_at, '%Y-%m-%dT%H:%M:%SZ') AS opened FROM cases WHERE source_case_id = '1-870704831'`,
    );
    // CreatedDate 12/31/2017 11:59:58 PM Pacific = 08:00 UTC next day (less 2 s).
    expect(c?.opened).toBe('2018-01-01T07:59:58Z');
  });

  it('loads nothing the second time', async () => {
    const before = await t.wh.one<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM case_events`);
    const r = await ingestCasesCsv(t.wh, LA311_CSV, loadProfile('myla311'));
    expect(r).toMatchObject({ read: 9999, loaded: 0, rejected: 0, duplicate: 9999, flagged: 0, events_added: 0 });
    const after = await t.wh.one<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM case_events`);
    expect(after?.n).toBe(before?.n);
  });

  it('excludes the 12 negative durations from time to close and counts them', async () => {
    const k = await computeKpis(t.wh, [], { from: '2017-12-01', to: '2017-12-31', as_of: '2018-12-31T00:00:00Z', timezone: 'America/Los_Angeles' });
    expect(k.rows).toHaveLength(1);
    expect(k.rows[0].opened).toBe(9999);
    expect(k.rows[0].excluded_data_errors).toBe(12);
    expect(k.rows[0].cancelled).toBe(246);
  });
});
