// A city re-exports the same cases later: only what changed becomes new events, and only the
// cases in the new batch are rebuilt.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ingestFile, type IngestResult } from '../../ingest/load.ts';
import { loadProfile, parseProfile } from '../../ingest/profile.ts';
import { tempWarehouse, type TempWarehouse } from '../helpers.ts';

const profile = parseProfile({
  name: 'snap', kind: 'cases', source: 'snap', timezone: 'UTC',
  columns: { case_id: 'id', opened_at: 'opened', closed_at: 'closed', updated_at: 'updated', agency: 'agency', status: 'status' },
});
const header = 'id,opened,closed,updated,agency,status';

describe('incremental snapshots', () => {
  let t: TempWarehouse;
  let first: IngestResult;
  let second: IngestResult;
  const write = (name: string, lines: string[]) => {
    const p = join(t.dir, name);
    writeFileSync(p, [header, ...lines].join('\n') + '\n');
    return p;
  };
  beforeAll(async () => {
    t = await tempWarehouse();
    first = await ingestFile(t.wh, write('monday.csv', [
      'C1,2024-06-03T08:00:00Z,,2024-06-03T08:00:00Z,Streets,Open',
      'C2,2024-06-03T09:00:00Z,,2024-06-03T09:00:00Z,Streets,Open',
      'C3,2024-06-03T10:00:00Z,2024-06-04T10:00:00Z,2024-06-04T10:00:00Z,Parks,Closed',
      'C5,2024-06-03T11:00:00Z,,2024-06-03T11:00:00Z,Parks,Open',
    ]), profile);
    second = await ingestFile(t.wh, write('friday.csv', [
      'C1,2024-06-03T08:00:00Z,2024-06-05T12:00:00Z,2024-06-05T12:00:00Z,Streets,Closed',
      'C2,2024-06-03T09:00:00Z,,2024-06-06T09:30:00Z,Sanitation,Open',
      'C3,2024-06-03T10:00:00Z,,2024-06-06T14:00:00Z,Parks,Open',
      'C4,2024-06-06T15:00:00Z,,2024-06-06T15:00:00Z,Streets,Open',
    ]), profile);
  });
  afterAll(() => t.cleanup());

  it('appends only the new events: a close, a reassignment, a reopening and a new case', async () => {
    expect(first).toMatchObject({ read: 4, loaded: 4, events_added: 5 });
    expect(second).toMatchObject({ read: 4, loaded: 4, duplicate: 0, events_added: 4 });
    const added = await t.wh.all(`SELECT source_case_id AS id, event_type, strftime(occurred_at, '%Y-%m-%dT%H:%MZ') AS at FROM case_events WHERE batch_id = $b ORDER BY 1, 2`, { b: second.batch_id });
    expect(added).toEqual([
      { id: 'C1', event_type: 'closed', at: '2024-06-05T12:00Z' },
      { id: 'C2', event_type: 'assigned', at: '2024-06-06T09:30Z' },
      { id: 'C3', event_type: 'reopened', at: '2024-06-06T14:00Z' },
      { id: 'C4', event_type: 'opened', at: '2024-06-06T15:00Z' },
    ]);
  });

  it('the cases model reflects the new state, keeping the first close for time to close', async () => {
    const rows = await t.wh.all(`SELECT source_case_id AS id, status, agency, reopen_count, strftime(closed_at, '%Y-%m-%d') AS closed FROM cases ORDER BY 1`);
    expect(rows).toEqual([
      { id: 'C1', status: 'closed', agency: 'Streets', reopen_count: 0, closed: '2024-06-05' },
      { id: 'C2', status: 'open', agency: 'Sanitation', reopen_count: 0, closed: null },
      { id: 'C3', status: 'open', agency: 'Parks', reopen_count: 1, closed: '2024-06-04' },
      { id: 'C4', status: 'open', agency: 'Streets', reopen_count: 0, closed: null },
      { id: 'C5', status: 'open', agency: 'Parks', reopen_count: 0, closed: null },
    ]);
  });

  it('rebuilt only the cases in the later batch', async () => {
    const refreshed = await t.wh.all(`SELECT source_case_id AS id, refreshed_batch = $b AS by_second FROM cases ORDER BY 1`, { b: second.batch_id });
    expect(refreshed.map((r) => r.by_second)).toEqual([true, true, true, true, false]);
  });

  it('the later export again adds nothing', async () => {
    const again = await ingestFile(t.wh, join(t.dir, 'friday.csv'), profile);
    expect(again).toMatchObject({ loaded: 0, duplicate: 4, events_added: 0 });
  });
});

describe('snapshots from an Open311 server', () => {
  let t: TempWarehouse;
  beforeAll(async () => {
    t = await tempWarehouse({ memory: true });
  });
  afterAll(() => t.cleanup());
  const req = (status: string, updated: string) =>
    JSON.stringify([{ service_request_id: 'R1', status, service_code: '001', service_name: 'Pothole', requested_datetime: '2024-06-01T08:00:00-05:00', updated_datetime: updated, lat: 41.9, long: -87.6 }]);
  const history = () => t.wh.all(`SELECT event_type, strftime(occurred_at, '%m-%d %H:%M') AS at FROM case_events WHERE case_id = 'open311:R1' ORDER BY occurred_at`);

  it('closed, open again, closed again; a later touch of a closed request is not another close', async () => {
    const o = loadProfile('open311');
    await ingestFile(t.wh, t.write('1.json', req('closed', '2024-06-02T10:00:00-05:00')), o);
    const reopened = await ingestFile(t.wh, t.write('2.json', req('open', '2024-06-03T09:00:00-05:00')), o);
    expect(reopened).toMatchObject({ loaded: 1, events_added: 1 });
    await ingestFile(t.wh, t.write('3.json', req('closed', '2024-06-04T09:00:00-05:00')), o);
    const touched = await ingestFile(t.wh, t.write('4.json', req('closed', '2024-06-05T11:00:00-05:00')), o);
    expect(touched).toMatchObject({ loaded: 0, duplicate: 1, events_added: 0 });
    expect(await history()).toEqual([
      { event_type: 'opened', at: '06-01 13:00' },
      { event_type: 'closed', at: '06-02 15:00' },
      { event_type: 'reopened', at: '06-03 14:00' },
      { event_type: 'closed', at: '06-04 14:00' },
    ]);
    expect(await t.wh.one(`SELECT status, reopen_count, strftime(closed_at, '%m-%d %H:%M') AS first_close FROM cases WHERE case_id = 'open311:R1'`))
      .toEqual({ status: 'closed', reopen_count: 1, first_close: '06-02 15:00' });
  });

  it('an older export loaded after a newer one rewinds nothing', async () => {
    const p = parseProfile({ name: 'b', kind: 'cases', source: 'bf', timezone: 'UTC', columns: { case_id: 'id', opened_at: 'opened', closed_at: 'closed', updated_at: 'updated', agency: 'agency', status: 'status' } });
    await ingestFile(t.wh, t.write('jun.csv', 'id,opened,closed,updated,agency,status\nB1,2024-06-01T08:00:00Z,2024-06-03T08:00:00Z,2024-06-03T08:00:00Z,Sanitation,closed\n'), p);
    const may = await ingestFile(t.wh, t.write('may.csv', 'id,opened,closed,updated,agency,status\nB1,2024-06-01T08:00:00Z,,2024-06-02T08:00:00Z,Streets,open\n'), p);
    expect(may).toMatchObject({ loaded: 0, duplicate: 1, events_added: 0 });
    expect(await t.wh.one(`SELECT status, agency, reopen_count FROM cases WHERE case_id = 'bf:B1'`)).toEqual({ status: 'closed', agency: 'Sanitation', reopen_count: 0 });
  });
});
