// Contact-centre measures on a handful of contacts counted by hand: every figure below is worked
// out from the table in the comment, not read back from the code.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempWarehouse, type TempWarehouse } from '../../test/helpers.ts';
import { computeContactCentre, contactDimensions, formatSeconds, parseContactDimensions, type ContactRow } from './contact-centre.ts';
import { checkContactRegistry, CONTACT_MEASURES } from '../queries/contact-measures.ts';
import type { CaseWindow } from '../queries/case-predicates.ts';

// New York, EST (UTC−5) in early March 2026. Window: local days 2 to 4 March.
//
//  id   channel  dir  team  started (UTC)          local day   wait  handle outcome       case
//  I1   phone    in   A     2026-03-02 14:00       03-02         10   100   case_created  C1 Streets
//  I2   phone    in   A     2026-03-02 15:00       03-02         20   200   case_created  C1 Streets   exactly the target
//  I3   phone    in   A     2026-03-02 16:00       03-02         21   300   case_created  C2 Water     a second over
//  I4   phone    in   B     2026-03-03 14:00       03-03         45    —    abandoned     —            unlinked
//  I5   phone    in   B     2026-03-03 15:00       03-03          3    —    abandoned     —            a short abandon: still counted
//  I6   walk_in  in   A     2026-03-03 16:00       03-03        120   400   case_created  C2 Water
//  I7   web      in   D     2026-03-03 17:00       03-03          —    —    case_created  C1           no wait: not offered
//  I8   phone    out  A     2026-03-03 18:00       03-03          5    60   callback      C1           outbound: not offered
//  I9   phone    in   A     2026-03-01 12:00       03-01         15    90   case_created  C1           before the window
//  I10  phone    in   B     2026-03-05 04:30       03-04 23:30   30    60   status_enq.   C1 Streets   UTC says the 5th: local day 4th
//  I11  phone    in   B     2026-03-05 05:00       03-05 00:00    8    50   status_enq.   C1           local midnight: after the window
const CONTACTS: [string, string, string, string | null, string, number | null, number | null, string, string | null][] = [
  ['I1', 'phone', 'inbound', 'A', '2026-03-02T14:00:00Z', 10, 100, 'case_created', 'C1'],
  ['I2', 'phone', 'inbound', 'A', '2026-03-02T15:00:00Z', 20, 200, 'case_created', 'C1'],
  ['I3', 'phone', 'inbound', 'A', '2026-03-02T16:00:00Z', 21, 300, 'case_created', 'C2'],
  ['I4', 'phone', 'inbound', 'B', '2026-03-03T14:00:00Z', 45, null, 'abandoned', null],
  ['I5', 'phone', 'inbound', 'B', '2026-03-03T15:00:00Z', 3, null, 'abandoned', null],
  ['I6', 'walk_in', 'inbound', 'A', '2026-03-03T16:00:00Z', 120, 400, 'case_created', 'C2'],
  ['I7', 'web', 'inbound', 'D', '2026-03-03T17:00:00Z', null, null, 'case_created', 'C1'],
  ['I8', 'phone', 'outbound', 'A', '2026-03-03T18:00:00Z', 5, 60, 'callback', 'C1'],
  ['I9', 'phone', 'inbound', 'A', '2026-03-01T12:00:00Z', 15, 90, 'case_created', 'C1'],
  ['I10', 'phone', 'inbound', 'B', '2026-03-05T04:30:00Z', 30, 60, 'status_enquiry', 'C1'],
  ['I11', 'phone', 'inbound', 'B', '2026-03-05T05:00:00Z', 8, 50, 'status_enquiry', 'C1'],
];

const WINDOW: CaseWindow = { from: '2026-03-02', to: '2026-03-04', as_of: '2026-03-10T00:00:00Z', timezone: 'America/New_York' };
const figures = (r: ContactRow) => ({ ...r });

describe('contact-centre measures, counted by hand', () => {
  let t: TempWarehouse;
  beforeAll(async () => {
    t = await tempWarehouse({ memory: true });
    for (const [id, agency] of [['C1', 'Streets'], ['C2', 'Water']]) {
      await t.wh.run(`INSERT INTO cases (case_id, source, source_case_id, agency, opened_at, status, reopen_count) VALUES ($id, 't', $id, $agency, '2026-03-02T14:00:00Z', 'open', 0)`, { id, agency });
    }
    for (const [id, channel, direction, team, started, wait, handle, outcome, caseId] of CONTACTS) {
      await t.wh.run(
        `INSERT INTO interactions (interaction_id, case_id, channel, direction, started_at, wait_seconds, handle_seconds, outcome, team)
         VALUES ($id, $case_id, $channel, $direction, $started::TIMESTAMPTZ, $wait, $handle, $outcome, $team)`,
        { id, case_id: caseId, channel, direction, started, wait, handle, outcome, team },
      );
    }
  });
  afterAll(() => t.cleanup());

  it('the registry is whole: unique names, ratios of counts', () => {
    expect(checkContactRegistry()).toEqual([]);
    expect(CONTACT_MEASURES.map((m) => m.name)).toEqual(['offered', 'answered', 'answered_within_target', 'abandoned', 'service_level', 'abandonment_rate', 'asa_seconds', 'aht_seconds']);
  });

  it('overall: 7 offered (I1–I6, I10), 5 answered, 2 within 20 s (I1, and I2 at exactly 20 s), 2 abandoned', async () => {
    const r = await computeContactCentre(t.wh, { window: WINDOW });
    expect(r.rows).toHaveLength(1);
    expect(figures(r.rows[0])).toEqual({
      offered: 7, answered: 5, answered_within_target: 2, abandoned: 2,
      service_level: 2 / 7, abandonment_rate: 2 / 7,
      asa_seconds: (10 + 20 + 21 + 120 + 30) / 5,
      aht_seconds: (100 + 200 + 300 + 400 + 60) / 5,
    });
    expect(r).toMatchObject({ from: '2026-03-02', to: '2026-03-04', target_wait_seconds: 20, by: [], filter: {}, findings: [], series_tested: 0 });
  });

  it('a target of 21 s takes I3 in; 19 s leaves I2 out', async () => {
    expect((await computeContactCentre(t.wh, { window: WINDOW, target_wait_seconds: 21 })).rows[0].answered_within_target).toBe(3);
    const r = (await computeContactCentre(t.wh, { window: WINDOW, target_wait_seconds: 19 })).rows[0];
    expect(r.answered_within_target).toBe(1);
    expect(r.service_level).toBe(1 / 7);
    await expect(computeContactCentre(t.wh, { window: WINDOW, target_wait_seconds: 0 })).rejects.toThrow(/target_wait "0" must be seconds from 1 to 3600/);
  });

  it('by channel and by team', async () => {
    const byChannel = (await computeContactCentre(t.wh, { window: WINDOW, by: ['channel'] })).rows;
    expect(byChannel).toEqual([
      { channel: 'phone', offered: 6, answered: 4, answered_within_target: 2, abandoned: 2, service_level: 2 / 6, abandonment_rate: 2 / 6, asa_seconds: (10 + 20 + 21 + 30) / 4, aht_seconds: (100 + 200 + 300 + 60) / 4 },
      { channel: 'walk_in', offered: 1, answered: 1, answered_within_target: 0, abandoned: 0, service_level: 0, abandonment_rate: 0, asa_seconds: 120, aht_seconds: 400 },
    ]);
    const byTeam = (await computeContactCentre(t.wh, { window: WINDOW, by: ['team'] })).rows;
    expect(byTeam).toEqual([
      { team: 'A', offered: 4, answered: 4, answered_within_target: 2, abandoned: 0, service_level: 2 / 4, abandonment_rate: 0, asa_seconds: (10 + 20 + 21 + 120) / 4, aht_seconds: (100 + 200 + 300 + 400) / 4 },
      // Only I10 was answered: the two abandoned calls have a wait but no handle time.
      { team: 'B', offered: 3, answered: 1, answered_within_target: 0, abandoned: 2, service_level: 0, abandonment_rate: 2 / 3, asa_seconds: 30, aht_seconds: 60 },
    ]);
  });

  it('by day, cut in the jurisdiction’s zone: I10 (04:30 UTC on the 5th) is on the 4th, I11 (local midnight) outside', async () => {
    const rows = (await computeContactCentre(t.wh, { window: WINDOW, by: ['day'] })).rows;
    expect(rows.map((r) => [r.day, r.offered, r.answered, r.abandoned])).toEqual([
      ['2026-03-02', 3, 3, 0],
      ['2026-03-03', 3, 1, 2],
      ['2026-03-04', 1, 1, 0],
    ]);
    const week = (await computeContactCentre(t.wh, { window: WINDOW, by: ['week', 'team'] })).rows;
    expect(week.map((r) => [r.week, r.team, r.offered])).toEqual([['2026-03-02', 'A', 4], ['2026-03-02', 'B', 3]]);
  });

  it('only what had started by the as-of time counts', async () => {
    const r = (await computeContactCentre(t.wh, { window: { ...WINDOW, as_of: '2026-03-03T14:30:00Z' } })).rows[0];
    // I1–I4.
    expect([r.offered, r.answered, r.abandoned, r.answered_within_target]).toEqual([4, 3, 1, 2]);
  });

  it('filters: channel and team; none matching is one row of zeros with null rates and means', async () => {
    const phoneB = (await computeContactCentre(t.wh, { window: WINDOW, channel: 'phone', team: 'B' })).rows[0];
    expect([phoneB.offered, phoneB.answered, phoneB.abandoned, phoneB.asa_seconds]).toEqual([3, 1, 2, 30]);
    const none = await computeContactCentre(t.wh, { window: WINDOW, channel: 'walk_in', team: 'B' });
    expect(none.filter).toEqual({ channel: 'walk_in', team: 'B' });
    expect(none.rows).toEqual([{ offered: 0, answered: 0, answered_within_target: 0, abandoned: 0, service_level: null, abandonment_rate: null, asa_seconds: null, aht_seconds: null }]);
    await expect(computeContactCentre(t.wh, { window: WINDOW, team: 'Team A' })).rejects.toThrow(/team "Team A" is not a team of the queued contacts; closest: "A"/);
    // The web form's channel queues for no one: not a channel of the queued contacts.
    await expect(computeContactCentre(t.wh, { window: WINDOW, channel: 'web' })).rejects.toThrow(/channel "web" is not a channel/);
  });

  it('agency scope: a contact inherits its case’s agency; unlinked calls are no agency’s', async () => {
    const streets = (await computeContactCentre(t.wh, { window: WINDOW, scope: { agencies: ['Streets'] } })).rows[0];
    // I1, I2, I10 (C1).
    expect(streets).toEqual({ offered: 3, answered: 3, answered_within_target: 2, abandoned: 0, service_level: 2 / 3, abandonment_rate: 0, asa_seconds: 20, aht_seconds: 120 });
    const water = (await computeContactCentre(t.wh, { window: WINDOW, scope: { agencies: ['Water'] } })).rows[0];
    // I3, I6 (C2).
    expect([water.offered, water.answered, water.asa_seconds]).toEqual([2, 2, (21 + 120) / 2]);
    // Both agencies: everything but the two unlinked abandoned calls.
    expect((await computeContactCentre(t.wh, { window: WINDOW, scope: { agencies: ['Streets', 'Water'] } })).rows[0].offered).toBe(5);
    expect((await computeContactCentre(t.wh, { window: WINDOW, scope: { agencies: [] } })).rows[0].offered).toBe(0);
    // The agency filter means the same as the scope.
    const filtered = await computeContactCentre(t.wh, { window: WINDOW, agency: 'Streets' });
    expect(filtered.rows[0]).toEqual(streets);
    expect(filtered.filter).toEqual({ agency: 'Streets' });
    await expect(computeContactCentre(t.wh, { window: WINDOW, agency: 'Water', scope: { agencies: ['Streets'] } })).rejects.toThrow(/agency "Water" is not an agency in your scope/);
    // A scoped caller's filter lists: the teams and channels of their agency's contacts only.
    expect(await contactDimensions(t.wh, { agencies: ['Water'] })).toEqual({ channels: [{ name: 'phone', offered: 1 }, { name: 'walk_in', offered: 1 }], teams: [{ name: 'A', offered: 2 }] });
    expect((await contactDimensions(t.wh)).teams).toEqual([{ name: 'A', offered: 5 }, { name: 'B', offered: 4 }]);
  });

  it('`by` is checked against its allow-list', () => {
    expect(parseContactDimensions('team, week')).toEqual(['team', 'week']);
    expect(() => parseContactDimensions('service')).toThrow(/by "service" is not one of channel, team, day, week, month/);
  });

  it('durations read in seconds under two minutes, else minutes', () => {
    expect(formatSeconds(45.4)).toBe('45 s');
    expect(formatSeconds(906)).toBe('15.1 min');
    expect(formatSeconds(-42, 'min')).toBe('-0.7 min');
  });
});
