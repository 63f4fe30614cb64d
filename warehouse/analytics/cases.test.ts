// A case list's download (every case, read as JSON text: Warehouse.allAsJson) holds exactly the
// rows its pages hold (read as any answer is), every column, in the same order.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoWarehouse } from '../../test/demo-warehouse.ts';
import type { TempWarehouse } from '../../test/helpers.ts';
import { listCases, MAX_PAGE_SIZE, type CaseSort, type SortOrder } from './cases.ts';

describe('a case list downloaded whole', () => {
  let t: TempWarehouse;
  beforeAll(async () => {
    t = await demoWarehouse();
  });
  afterAll(() => t.cleanup());

  // A quarter (thousands of cases: several of allAsJson's JSON texts), and an earlier as-of time
  // (cases open, pending, past due and censored then).
  const windows = [
    { from: '2026-07-01', to: '2026-09-30', as_of: '2026-10-03T00:00:00Z', timezone: 'America/New_York' },
    { from: '2026-09-01', to: '2026-09-30', as_of: '2026-09-20T12:00:00Z', timezone: 'America/New_York' },
  ];
  const lists: [string, CaseSort, SortOrder][] = [
    ['opened', 'opened_at', 'desc'],
    ['closed_in_period', 'hours_to_close', 'desc'],
    ['backlog', 'due_at', 'asc'],
    ['on_time_denominator', 'area', 'asc'],
    ['cancelled', 'service', 'desc'],
    ['pending', 'closed_at', 'asc'],
  ];

  it.each(lists)('%s by %s %s: the download is its pages, row for row and column for column', async (measure, sort, order) => {
    for (const window of windows) {
      const all = await listCases(t.wh, window, {}, { measure, sort, order, all: true });
      const paged: unknown[] = [];
      for (let page = 1; paged.length < all.total; page++) {
        const p = await listCases(t.wh, window, {}, { measure, sort, order, page, page_size: MAX_PAGE_SIZE });
        expect(p.rows.length).toBeGreaterThan(0);
        paged.push(...p.rows);
      }
      expect(all.rows).toHaveLength(all.total);
      expect(all.rows).toEqual(paged);
    }
  });

  it('a quarter\'s opened cases are more than one JSON text of the download', async () => {
    const all = await listCases(t.wh, windows[0], {}, { measure: 'opened', all: true });
    expect(all.rows.length).toBeGreaterThan(2048);
    // Every kind of value a row has, some null: text, numbers, booleans.
    const r = all.rows.find((x) => x.hours_to_close !== null && x.due_at !== null)!;
    expect(typeof r.case_id).toBe('string');
    expect(typeof r.hours_to_close).toBe('number');
    expect(typeof r.past_due).toBe('boolean');
    expect(typeof r.reopen_count).toBe('number');
    expect(all.rows.some((x) => x.closed_at === null)).toBe(true);
  });
});
