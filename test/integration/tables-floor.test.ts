// The ingest bench's second limit (test/bench/tables-floor.ts) is only a fair floor if it stores
// what the real ingest stores from the same file: the same events, ids included, and the same
// cases, every column but the places and masks it leaves out on purpose. A floor that wrote fewer rows or narrower
// ones would look fast for the wrong reason; this holds it to a generated export loaded both ways.
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ingestFile } from '../../ingest/load.ts';
import { loadProfile } from '../../ingest/profile.ts';
import { generateCasesCsv } from '../bench/generate-cases-csv.ts';
import { loadTablesOnly } from '../bench/tables-floor.ts';
import { tempWarehouse, type TempWarehouse } from '../helpers.ts';

const whs: TempWarehouse[] = [];
afterAll(() => whs.forEach((t) => t.cleanup()));

// Every column but what the floor leaves out on purpose (the batch's id, and the places and
// masks named in tables-floor.ts): a column the real ingest starts filling for such a file fails
// this until the floor fills it too.
const EVENT_COLUMNS = '* EXCLUDE (batch_id)';
const CASE_COLUMNS = '* EXCLUDE (refreshed_batch, area_id, h3_r7, h3_r8, h3_r9, opened_settled_at, opened_mask, closed_settled_at, closed_mask)';

describe('the ingest bench\'s tables-only floor', () => {
  it('stores the events and cases the real ingest stores from a generated export', async () => {
    const ours = await tempWarehouse();
    const floor = await tempWarehouse();
    whs.push(ours, floor);
    const file = generateCasesCsv(join(ours.dir, 'gen'), [4000], 29).files.get(4000)!;
    const loaded = await ingestFile(ours.wh, file, loadProfile('demo-city'));
    expect(loaded.loaded).toBe(4000);
    expect(await loadTablesOnly(floor.wh, file)).toBe(4000);

    const events = async (t: TempWarehouse) => t.wh.all(`SELECT ${EVENT_COLUMNS} FROM case_events ORDER BY event_id`);
    const cases = async (t: TempWarehouse) => t.wh.all(`SELECT ${CASE_COLUMNS} FROM cases ORDER BY case_id`);
    const [oursEvents, floorEvents] = [await events(ours), await events(floor)];
    expect(oursEvents.length).toBeGreaterThan(4000); // a closed or cancelled event for most rows
    expect(floorEvents).toEqual(oursEvents);
    const [oursCases, floorCases] = [await cases(ours), await cases(floor)];
    // The export's three kinds of request are all there to compare.
    expect(new Set(oursCases.map((c) => c.status))).toEqual(new Set(['open', 'closed', 'cancelled']));
    expect(floorCases).toEqual(oursCases);
  });
});
