// The KPI measures beyond volume and time to close, end to end on a real DuckDB: small exports go
// in through the ingest path (cases, case events, contacts, surveys), and every expected number
// below is counted by hand from the rows written here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestFile } from '../../ingest/load.ts';
import { parseProfile } from '../../ingest/profile.ts';
import { tempWarehouse, type TempWarehouse } from '../../test/helpers.ts';
import { computeKpis, type KpiRow } from './kpis.ts';
import { buildKmDurationsQuery, buildKmObservationsQuery, buildOpenedPartsQuery, DIMENSION_NAMES, isDimension } from '../queries/kpi-sql.ts';
import { kaplanMeier, KmCurveWalk, kmSummary, type KmPoint } from '../stats/kaplan-meier.ts';
import { sortDurations } from '../stats/sort-durations.ts';

const SOURCE = 'm';
const profiles = {
  cases: parseProfile({
    name: 't-cases', kind: 'cases', source: SOURCE, format: 'csv', timezone: 'UTC',
    columns: { case_id: 'id', opened_at: 'opened', closed_at: 'closed', service_name: 'service', expected_at: 'due', status: 'status', channel: 'channel' },
  }),
  events: parseProfile({
    name: 't-events', kind: 'case_events', source: SOURCE, format: 'csv', timezone: 'UTC',
    columns: { case_id: 'id', event_type: 'type', occurred_at: 'at' },
  }),
  contacts: parseProfile({
    name: 't-contacts', kind: 'interactions', source: SOURCE, case_source: SOURCE, format: 'csv', timezone: 'UTC',
    columns: { interaction_id: 'iid', case_id: 'id', channel: 'channel', direction: 'direction', started_at: 'at', outcome: 'outcome' },
  }),
  surveys: parseProfile({
    name: 't-surveys', kind: 'survey_responses', source: SOURCE, case_source: SOURCE, format: 'csv', timezone: 'UTC',
    columns: { response_id: 'rid', case_id: 'id', interaction_id: 'iid', answered_at: 'at', csat: 'csat', nps: 'nps' },
  }),
};

interface CaseLine { id: string; opened: string; closed?: string; service?: string; due?: string; status?: string; channel?: string }

async function load(t: TempWarehouse, kind: keyof typeof profiles, header: string, lines: string[]) {
  const path = t.write(`${kind}-${Math.random().toString(36).slice(2)}.csv`, [header, ...lines].join('\n') + '\n');
  const r = await ingestFile(t.wh, path, profiles[kind]);
  expect(r.rejected, `${kind}: no row rejected`).toBe(0);
  expect(r.loaded).toBe(lines.length);
}
const loadCases = (t: TempWarehouse, cases: CaseLine[]) =>
  load(t, 'cases', 'id,opened,closed,service,due,status,channel', cases.map((c) =>
    [c.id, c.opened, c.closed ?? '', c.service ?? 'S', c.due ?? '', c.status ?? '', c.channel ?? 'phone'].join(',')));

const HOUR = 3600_000;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();
const utc = (from: string, to: string, asOf: string) => ({ from, to, as_of: asOf, timezone: 'UTC' });
const only = async (p: Promise<{ rows: KpiRow[] }>) => {
  const { rows } = await p;
  expect(rows).toHaveLength(1);
  return rows[0];
};

describe('dimensions and builders', () => {
  it('allow-lists every dimension and nothing else', () => {
    expect(DIMENSION_NAMES).toEqual(['service', 'service_group', 'agency', 'channel', 'area', 'day', 'week', 'month', 'quarter']);
    for (const bad of ['district', '__proto__', 'constructor', 'service; DROP TABLE cases', 'Service']) expect(isDimension(bad)).toBe(false);
  });

  it('binds filter values and times, never splices them into the SQL', () => {
    const nasty = "x' OR 1=1 --";
    const window = { from: '2024-01-01', to: '2024-03-31', as_of: '2024-04-01T00:00:00Z', timezone: 'America/New_York' };
    const q = buildOpenedPartsQuery(['area', 'month'], { window, filter: { service: nasty, area: nasty }, area_kind: 'district' });
    expect(q.sql).not.toContain(nasty);
    expect(q.sql).not.toContain('America/New_York');
    expect(q.sql).not.toContain('2024-04-01');
    expect(q.params).toMatchObject({ f_service: nasty, f_area: nasty, tz: 'America/New_York', as_of: '2024-04-01T00:00:00Z' });
    // Only the joins a query needs.
    expect(q.sql).toContain('LEFT JOIN areas a');
    expect(q.sql).not.toContain('LEFT JOIN services s');
    expect(q.params.area_kind).toBe('district');
    expect(buildOpenedPartsQuery(['service_group'], { window: { ...window, timezone: 'UTC' }, area_kind: 'source' }).sql).toContain('LEFT JOIN services s');
    // The source's own area names need no join at all.
    expect(buildOpenedPartsQuery(['area'], { window, area_kind: 'source' }).sql).not.toContain('JOIN areas');
  });
});

describe('backlog at the as-of time, with aging and past due', () => {
  const AS_OF = Date.parse('2024-07-01T12:00:00Z');
  const ago = (days: number) => iso(AS_OF - days * DAY);
  let t: TempWarehouse;
  beforeAll(async () => {
    t = await tempWarehouse({ memory: true });
    await loadCases(t, [
      { id: 'b1', opened: ago(1), due: ago(-1) },                // 0–2 days, not yet due
      { id: 'b2', opened: ago(2.9), due: ago(1 / 24) },          // 0–2 (2 whole days), past due
      { id: 'b3', opened: ago(3) },                              // 3–7 (exactly 3 days), no due time
      { id: 'b4', opened: ago(7.5), due: ago(1) },               // 3–7, past due
      { id: 'b5', opened: ago(8), due: ago(2) },                 // 8–30, past due
      { id: 'b6', opened: ago(30.9), due: ago(-5) },             // 8–30 (30 whole days), not yet due
      { id: 'b7', opened: ago(31), due: ago(20) },               // over 30 (exactly 31 days), past due
      { id: 'b8', opened: ago(45), closed: ago(-1), due: ago(40) }, // closed after the as-of time: open then, past due
      { id: 'x1', opened: ago(10), closed: ago(5), status: 'cancelled' }, // cancelled by then: not backlog
      { id: 'x2', opened: ago(10), closed: ago(9), due: ago(8) },         // closed: not backlog
      { id: 'r1', opened: ago(20), closed: ago(15), due: ago(18) },       // reopened 10 days ago (below): backlog, 8–30, past due
      { id: 'r2', opened: ago(20), closed: ago(19) },                     // reopened 4 days ago and closed again 2 days ago
      { id: 'old', opened: ago(100) },                                    // opened before the window, still open: backlog, over 30
    ]);
    await load(t, 'events', 'id,type,at', [`r1,reopened,${ago(10)}`, `r2,reopened,${ago(4)}`, `r2,closed,${ago(2)}`]);
  });
  afterAll(() => t.cleanup());

  it('counts the cases open at the as-of time by whole days open, and the share past due', async () => {
    const row = await only(computeKpis(t.wh, [], utc('2024-05-01', '2024-06-30', iso(AS_OF))));
    // Backlog at T is every case opened by T and still open — 'old' too, though it opened before the window.
    expect(row).toMatchObject({
      opened: 12,
      backlog: 10,
      backlog_0_2d: 2,
      backlog_3_7d: 2,
      backlog_8_30d: 3,
      backlog_over_30d: 3,
      backlog_past_due: 6,
    });
    expect(row.backlog_past_due_share).toBeCloseTo(6 / 10, 12);
  });

  it('replays closes and reopenings up to an earlier as-of time', async () => {
    // 3 days ago: r2 was reopened (4 days ago) and not yet closed again; b8 still open; the
    // cases opened since (b1, b2) are not there yet.
    const row = await only(computeKpis(t.wh, [], utc('2024-05-01', '2024-06-30', ago(3))));
    // Opened by then: b3 (exactly then) to b8, x1, x2, r1, r2, and 'old'. Open: b3–b8, r1, r2, old.
    expect(row).toMatchObject({ opened: 10, backlog: 9 });
    // 12 days ago: r1 was closed (15 days ago) and not yet reopened; r2 closed too.
    const earlier = await only(computeKpis(t.wh, [], utc('2024-05-01', '2024-06-30', ago(12))));
    // Opened by then: b6, b7, b8, r1, r2 (and 'old'). Open: b6 (18.9 days), b7 (19), b8 (33), old (88).
    expect(earlier).toMatchObject({ opened: 5, backlog: 4, backlog_0_2d: 0, backlog_3_7d: 0, backlog_8_30d: 2, backlog_over_30d: 2 });
  });

  it('rows cut by period keep the backlog of their own period\'s cases (aging by cohort)', async () => {
    const rows = (await computeKpis(t.wh, ['month'], utc('2024-05-01', '2024-06-30', iso(AS_OF)))).rows;
    expect(rows.reduce((a, r) => a + r.backlog, 0)).toBe(9); // all but 'old', which opened before May
  });

  it('has no past-due share without a backlog', async () => {
    const row = await only(computeKpis(t.wh, ['day'], utc('2024-06-21', '2024-06-21', iso(AS_OF))));
    expect(row).toMatchObject({ opened: 2, backlog: 0, backlog_past_due_share: null }); // x1 (cancelled) and x2 (closed)
  });
});

describe('on-time rate, closed cohort beside the opened cohort', () => {
  let t: TempWarehouse;
  const AS_OF = '2024-07-15T00:00:00Z';
  beforeAll(async () => {
    t = await tempWarehouse({ memory: true });
    await loadCases(t, [
      { id: 'k1', service: 'Early', opened: '2024-05-20T10:00:00Z', closed: '2024-06-02T10:00:00Z', due: '2024-06-05T00:00:00Z' }, // opened before June: closed cohort only, on time
      { id: 'k2', opened: '2024-06-10T10:00:00Z', closed: '2024-06-20T10:00:00Z', due: '2024-06-15T00:00:00Z' }, // late
      { id: 'k3', opened: '2024-06-10T10:00:00Z', closed: '2024-07-02T10:00:00Z', due: '2024-07-05T00:00:00Z' }, // closed in July: opened cohort only, on time
      { id: 'k4', opened: '2024-06-10T10:00:00Z', closed: '2024-06-11T10:00:00Z' },                              // no due time
      { id: 'k5', opened: '2024-06-12T10:00:00Z', closed: '2024-06-10T10:00:00Z', due: '2024-06-20T00:00:00Z' }, // closed before opened: data error
      { id: 'k6', opened: '2024-06-25T10:00:00Z', closed: '2024-06-26T10:00:00Z', due: '2024-06-26T10:00:00Z' }, // closed at its due time: on time
      { id: 'k7', opened: '2024-06-28T10:00:00Z', due: '2024-06-29T00:00:00Z' },                                 // open, past due
    ]);
  });
  afterAll(() => t.cleanup());

  it('is closed in the period by due ÷ closed in the period with a due time', async () => {
    const row = await only(computeKpis(t.wh, [], utc('2024-06-01', '2024-06-30', AS_OF)));
    // Closed cohort: k1, k2, k4, k5, k6; with a due time and no data error: k1, k2, k6; on time: k1, k6.
    expect(row).toMatchObject({ closed_in_period: 5, on_time_closed_cohort: 2, on_time_closed_cohort_denominator: 3 });
    expect(row.on_time_rate_closed_cohort).toBeCloseTo(2 / 3, 12);
    // Opened cohort: k2..k7; on time k3, k6 of k2, k3, k6, k7 (k4 has no due time, k5 is an error).
    expect(row).toMatchObject({ opened: 6, on_time: 2, on_time_denominator: 4, on_time_rate: 0.5, excluded_data_errors: 1 });
  });

  it('cuts periods by the close for the closed cohort and keeps groups that only closed cases', async () => {
    const byService = (await computeKpis(t.wh, ['service'], utc('2024-06-01', '2024-06-30', AS_OF))).rows;
    expect(byService.map((r) => r.service)).toEqual(['Early', 'S']);
    expect(byService[0]).toMatchObject({ opened: 0, closed_in_period: 1, on_time_rate_closed_cohort: 1, on_time_rate: null, median_hours_to_close: null });
    const byMonth = (await computeKpis(t.wh, ['month'], utc('2024-05-01', '2024-07-31', AS_OF))).rows;
    expect(byMonth.map((r) => [r.month, r.opened, r.closed_in_period])).toEqual([
      ['2024-05-01', 1, 0],
      ['2024-06-01', 6, 5],
      ['2024-07-01', 0, 1],
    ]);
  });

  it('does not see closes after the as-of time', async () => {
    const row = await only(computeKpis(t.wh, [], utc('2024-06-01', '2024-06-30', '2024-06-15T00:00:00Z')));
    // By 15 June: closed k1, k4, k5 (k5's close is stamped 10 June).
    expect(row).toMatchObject({ closed_in_period: 3, on_time_closed_cohort: 1, on_time_closed_cohort_denominator: 1 });
  });
});

describe('reopen rate', () => {
  let t: TempWarehouse;
  beforeAll(async () => {
    t = await tempWarehouse({ memory: true });
    await loadCases(t, [
      { id: 'r1', opened: '2024-06-01T00:00:00Z', closed: '2024-06-05T00:00:00Z' },
      { id: 'r2', opened: '2024-06-01T00:00:00Z', closed: '2024-06-05T00:00:00Z' },
      { id: 'r3', opened: '2024-06-01T00:00:00Z', closed: '2024-06-10T00:00:00Z' },
      { id: 'r4', opened: '2024-06-01T00:00:00Z', closed: '2024-06-10T00:00:00Z' },
      { id: 'r5', opened: '2024-06-20T00:00:00Z', closed: '2024-06-28T00:00:00Z' },
      { id: 'r6', opened: '2024-05-25T00:00:00Z', closed: '2024-05-30T00:00:00Z' },
      { id: 'r7', opened: '2024-06-01T00:00:00Z', closed: '2024-06-15T00:00:00Z' },
    ]);
    await load(t, 'events', 'id,type,at', [
      'r1,reopened,2024-06-20T00:00:00Z', // 15 days after its close
      'r2,reopened,2024-07-06T00:00:00Z', // 31 days: too late
      'r3,reopened,2024-07-10T00:00:00Z', // exactly 30 days: counts
      'r5,reopened,2024-07-01T00:00:00Z', // 3 days, then closed again: its first close stays 28 June
      'r5,closed,2024-07-03T00:00:00Z',
      'r6,reopened,2024-06-02T00:00:00Z', // first closed in May: not June's
      'r7,reopened,2024-07-01T00:00:00Z',
    ]);
  });
  afterAll(() => t.cleanup());

  it('is closed in the period and reopened within 30 days ÷ closed in the period', async () => {
    const row = await only(computeKpis(t.wh, [], utc('2024-06-01', '2024-06-30', '2024-08-15T00:00:00Z')));
    expect(row).toMatchObject({ closed_in_period: 6, reopened_within_30d: 4, reopen_pending: 0 });
    expect(row.reopen_rate).toBeCloseTo(4 / 6, 12);
  });

  it('counts only reopenings by the as-of time, and says how many closes are still being watched', async () => {
    const row = await only(computeKpis(t.wh, [], utc('2024-06-01', '2024-06-30', '2024-06-25T00:00:00Z')));
    // Closed by then: r1, r2, r3, r4, r7; reopened by then: r1. Less than 30 days since: all four others.
    expect(row).toMatchObject({ closed_in_period: 5, reopened_within_30d: 1, reopen_pending: 4, reopen_rate: 0.2 });
  });
});

describe('first-contact resolution, measured and reported, and contacts per case', () => {
  let t: TempWarehouse;
  beforeAll(async () => {
    t = await tempWarehouse({ memory: true });
    await loadCases(t, [
      { id: 'f1', opened: '2024-06-01T10:00:00Z', closed: '2024-06-02T10:00:00Z' },
      { id: 'f2', opened: '2024-06-03T10:00:00Z', closed: '2024-06-05T10:00:00Z' },
      { id: 'f3', opened: '2024-06-06T10:00:00Z', closed: '2024-06-07T10:00:00Z' },
      { id: 'f4', opened: '2024-06-08T10:00:00Z', closed: '2024-06-09T10:00:00Z' },
      { id: 'f5', opened: '2024-06-11T10:00:00Z', closed: '2024-06-12T10:00:00Z' },
      { id: 'f6', opened: '2024-06-13T10:00:00Z', closed: '2024-06-14T10:00:00Z' },
      { id: 'f7', opened: '2024-06-15T10:00:00Z', closed: '2024-06-16T10:00:00Z' },
      { id: 'f8', opened: '2024-06-17T10:00:00Z' },
      { id: 'f9', opened: '2024-06-18T10:00:00Z', closed: '2024-06-19T10:00:00Z' },
      { id: 'f10', opened: '2024-06-21T10:00:00Z', closed: '2024-06-22T10:00:00Z' },
    ]);
    const c = (iid: string, id: string, at: string, outcome: string, direction = 'inbound') => `${iid},${id},phone,${direction},${at},${outcome}`;
    await load(t, 'contacts', 'iid,id,channel,direction,at,outcome', [
      c('I1', 'f1', '2024-06-01T09:55:00Z', 'case_created'),             // one contact: measured yes
      c('I2', 'f2', '2024-06-03T09:55:00Z', 'resolved_first_contact'),   // reported yes…
      c('I3', 'f2', '2024-06-04T12:00:00Z', 'status_enquiry'),           // …but chased before closing: measured no
      c('I4', 'f3', '2024-06-06T09:55:00Z', 'case_created'),
      c('I5', 'f3', '2024-06-10T12:00:00Z', 'status_enquiry'),           // 3 days after closing: measured no
      c('I6', 'f4', '2024-06-08T09:55:00Z', 'case_created'),
      c('I7', 'f4', '2024-06-20T12:00:00Z', 'new_request'),              // 11 days after closing: measured still yes
      c('I8', 'f5', '2024-06-11T09:55:00Z', 'resolved_first_contact'),   // reopened 3 days after closing (below): measured no, reported yes
      c('I9', 'f6', '2024-06-13T09:00:00Z', 'callback', 'outbound'),     // outbound: not a contact from the citizen
      c('I10', 'f6', '2024-06-13T09:55:00Z', 'case_created'),            // measured yes
      c('I11', 'f8', '2024-06-17T09:55:00Z', 'case_created'),            // f8 is not closed
      c('I13', 'f9', '2024-06-18T08:00:00Z', 'case_created'),            // the first contact…
      c('I12', 'f9', '2024-06-18T09:55:00Z', 'resolved_first_contact'),  // …not this one: reported no, measured no
      c('I14', 'f10', '2024-06-21T09:55:00Z', 'resolved_first_contact'), // both yes
    ]);
    await load(t, 'events', 'id,type,at', ['f5,reopened,2024-06-15T10:00:00Z', 'f5,closed,2024-06-16T10:00:00Z']);
  });
  afterAll(() => t.cleanup());

  it('measured: one inbound contact up to closing and none, nor a reopening, within 7 days after; reported: the first contact says so', async () => {
    const row = await only(computeKpis(t.wh, [], utc('2024-06-01', '2024-06-30', '2024-08-01T00:00:00Z')));
    // Closed: f1–f7, f9, f10 (9); with a contact: all but f7 (8).
    // Measured: f1, f4, f6, f10 (4); reported: f2, f5, f10 (3).
    expect(row).toMatchObject({ closed_in_period: 9, fcr_cases: 8, fcr_measured_resolved: 4, fcr_reported_resolved: 3, fcr_pending: 0 });
    expect(row.fcr_measured).toBe(0.5);
    expect(row.fcr_reported).toBe(0.375);
    // Inbound contacts on the closed cases: f1 1, f2 2, f3 2, f4 2, f5 1, f6 1, f7 0, f9 2, f10 1.
    expect(row.inbound_contacts).toBe(12);
    expect(row.contacts_per_case).toBeCloseTo(12 / 9, 12);
    // Two or more inbound contacts within 7 days of the first: f2 (next day), f3 (4 days), f9
    // (same morning) — not f4, whose second contact came 12 days on.
    expect(row).toMatchObject({ repeat_contact_cases: 3, repeat_contact_rate: 3 / 8 });
  });

  it('judges only what had happened by the as-of time', async () => {
    const row = await only(computeKpis(t.wh, [], utc('2024-06-01', '2024-06-30', '2024-06-25T00:00:00Z')));
    // f10 closed 3 days before: counted resolved so far, and pending. f4's later contact is 11 days on: still yes.
    expect(row).toMatchObject({ closed_in_period: 9, fcr_cases: 8, fcr_measured_resolved: 4, fcr_pending: 1 });
    // On 10 June f3's chase had not happened yet, and f4's first close was the day before.
    const early = await only(computeKpis(t.wh, [], utc('2024-06-01', '2024-06-30', '2024-06-10T00:00:00Z')));
    // Closed by then: f1, f2, f3, f4; measured yes: f1, f3, f4, pending f3 and f4 (closed under 7 days before).
    expect(early).toMatchObject({ closed_in_period: 4, fcr_cases: 4, fcr_measured_resolved: 3, fcr_pending: 2, fcr_reported_resolved: 1 });
  });
});

describe('CSAT and NPS on the group’s cases', () => {
  let t: TempWarehouse;
  beforeAll(async () => {
    t = await tempWarehouse({ memory: true });
    await loadCases(t, [
      { id: 's1', opened: '2024-06-01T10:00:00Z', closed: '2024-06-02T10:00:00Z', channel: 'web' },
      { id: 's2', opened: '2024-06-03T10:00:00Z', closed: '2024-06-04T10:00:00Z', channel: 'phone' },
      { id: 's3', opened: '2024-06-05T10:00:00Z', closed: '2024-06-06T10:00:00Z', channel: 'phone' },
      { id: 's4', opened: '2024-05-05T10:00:00Z', closed: '2024-05-06T10:00:00Z', channel: 'phone' }, // opened before the window
    ]);
    await load(t, 'contacts', 'iid,id,channel,direction,at,outcome', ['I-s3,s3,phone,inbound,2024-06-05T09:55:00Z,case_created']);
    await load(t, 'surveys', 'rid,id,iid,at,csat,nps', [
      'R1,s1,,2024-06-03T10:00:00Z,5,10',
      'R2,s1,,2024-06-04T10:00:00Z,4,8',
      'R3,s2,,2024-06-05T10:00:00Z,2,6',      // 6 is a detractor, 9 a promoter
      'R4,s3,,2024-06-07T10:00:00Z,3,',       // no NPS answer
      'R5,s4,,2024-06-07T10:00:00Z,1,0',       // a case outside the window
      'R6,s2,,2024-09-01T10:00:00Z,1,0',       // answered after the as-of time
      'R7,,I-s3,2024-06-08T10:00:00Z,5,9',     // linked through the contact it rates
    ]);
  });
  afterAll(() => t.cleanup());

  it('top-2 box, mean, and NPS as %(9–10) − %(0–6)', async () => {
    const row = await only(computeKpis(t.wh, [], utc('2024-06-01', '2024-06-30', '2024-08-01T00:00:00Z')));
    // CSAT 5, 4, 2, 3, 5: top-2 3/5, mean 19/5. NPS 10, 8, 6, 9: (2 − 1)/4 = 25.
    expect(row).toMatchObject({ survey_responses: 5, csat_responses: 5, csat_top2: 0.6, csat_mean: 3.8, nps_responses: 4, nps: 25 });
  });

  it('splits by channel, and is null where nobody answered', async () => {
    const rows = (await computeKpis(t.wh, ['channel'], utc('2024-06-01', '2024-06-30', '2024-06-03T12:00:00Z'))).rows;
    const phone = rows.find((r) => r.channel === 'phone')!;
    const web = rows.find((r) => r.channel === 'web')!;
    expect(web).toMatchObject({ survey_responses: 1, csat_mean: 5, nps: 100 }); // only R1 by then
    expect(phone).toMatchObject({ survey_responses: 0, csat_top2: null, csat_mean: null, nps: null });
  });

  it('reports the channel mix of the opened cases', async () => {
    const row = await only(computeKpis(t.wh, [], utc('2024-06-01', '2024-06-30', '2024-08-01T00:00:00Z')));
    expect(row.channel_mix).toEqual({ phone: 2 / 3, web: 1 / 3 });
  });
});

describe('time to first response (Kaplan–Meier)', () => {
  let t: TempWarehouse;
  const T0 = Date.parse('2024-06-10T00:00:00Z');
  const at = (hours: number) => utc('2024-06-01', '2024-06-30', iso(T0 + hours * HOUR));
  beforeAll(async () => {
    t = await tempWarehouse({ memory: true });
    await loadCases(t, [
      { id: 'a1', service: 'Four', opened: iso(T0) },
      { id: 'a2', service: 'Four', opened: iso(T0) },
      { id: 'a3', service: 'Four', opened: iso(T0) },
      { id: 'a4', service: 'Four', opened: iso(T0) },                              // never answered: censored at the as-of time
      { id: 'a5', service: 'Other', opened: iso(T0), closed: iso(T0 + 5 * HOUR) },  // closing is a response too
      { id: 'bad', service: 'Other', opened: iso(T0) },
      { id: 'z1', service: 'Zero', opened: iso(T0) },
    ]);
    await load(t, 'events', 'id,type,at', [
      `a1,acknowledged,${iso(T0 + 1 * HOUR)}`,
      `a2,assigned,${iso(T0 + 2 * HOUR)}`,
      `a3,acknowledged,${iso(T0 + 3 * HOUR)}`,
      `a3,note,${iso(T0 + 0.5 * HOUR)}`,        // a note is not a response
      `bad,acknowledged,${iso(T0 - 1 * HOUR)}`, // before opening: a data error
      `z1,acknowledged,${iso(T0)}`,             // at the opening itself: zero, not an error
    ]);
  });
  afterAll(() => t.cleanup());

  it('is the Kaplan–Meier median from opening to the first response, per group', async () => {
    const rows = (await computeKpis(t.wh, ['service'], at(240))).rows;
    expect(rows.map((r) => [r.service, r.opened, r.median_hours_to_first_response, r.excluded_first_response_errors])).toEqual([
      // a1–a4: S = 3/4 at 1 h, exactly 2/4 from 2 h until the next drop at 3 h → (2 + 3) / 2, as R does.
      ['Four', 4, 2.5, 0],
      ['Other', 2, 5, 1],
      ['Zero', 1, 0, 0],
    ]);
  });

  it('censors the unanswered at the as-of time', async () => {
    // All but `bad`: responses at 0, 1, 2, 3, 5 h, one never: S = 5/6, 4/6, 3/6 (flat to 3 h) → 2.5 h.
    expect((await only(computeKpis(t.wh, [], at(240)))).median_hours_to_first_response).toBe(2.5);
    // At 2.5 h: answers at 0, 1, 2 h, three censored at 2.5 h: S = 1/2 from 2 h to the end of follow-up.
    expect((await only(computeKpis(t.wh, [], at(2.5)))).median_hours_to_first_response).toBe(2.25);
    // At 1.5 h: S = 4/6 and no further answer yet: over half unanswered.
    expect((await only(computeKpis(t.wh, [], at(1.5)))).median_hours_to_first_response).toBeNull();
  });
});

describe('Kaplan–Meier: the KPIs\' quantiles are the reference\'s and the drawn curve\'s', () => {
  // Compared on random samples with ties, censoring, exact halves and curves that reach zero.
  let t: TempWarehouse;
  const AS_OF = Date.parse('2025-01-01T00:00:00Z');
  beforeAll(async () => {
    t = await tempWarehouse({ memory: true });
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const cases: CaseLine[] = [];
    for (let g = 0; g < 40; g++) {
      const n = 1 + Math.floor(rand() * (g < 20 ? 12 : 200));
      const censorShare = g % 5 === 0 ? 0 : rand() * 0.6;
      for (let i = 0; i < n; i++) {
        const hours = 1 + Math.floor(rand() * (g % 3 === 0 ? 6 : 400)); // few distinct values → many ties
        const opened = AS_OF - 500 * DAY + i * 1000;
        if (rand() < censorShare) cases.push({ id: `g${g}-${i}`, service: `G${g}`, opened: iso(AS_OF - hours * HOUR) });
        else cases.push({ id: `g${g}-${i}`, service: `G${g}`, opened: iso(opened), closed: iso(opened + hours * HOUR) });
      }
    }
    // 10 cases, 5 closed at 1..5 h and 5 still open: S is exactly 0.5 from 5 h on.
    for (let i = 0; i < 10; i++) {
      const opened = AS_OF - 400 * DAY;
      cases.push(i < 5 ? { id: `half-${i}`, service: 'Half', opened: iso(opened), closed: iso(opened + (i + 1) * HOUR) } : { id: `half-${i}`, service: 'Half', opened: iso(AS_OF - (10 + i) * HOUR) });
    }
    // 20 cases closed at 1..18 h and 25 h, one open for 30 h: S is exactly 0.1 from 18 h to 25 h.
    for (let i = 0; i < 20; i++) {
      const opened = AS_OF - 300 * DAY;
      const hours = i < 18 ? i + 1 : 25;
      cases.push(i < 19 ? { id: `tenth-${i}`, service: 'Tenth', opened: iso(opened), closed: iso(opened + hours * HOUR) } : { id: `tenth-${i}`, service: 'Tenth', opened: iso(AS_OF - 30 * HOUR) });
    }
    // The upper band falls below 0.5 (S = 0.46 after 540 closes, Greenwood's sum still small) and
    // rises above it again when most of the rest are censored and one more closes (S = 0.41 with
    // 10 at risk): the band's first point at 0.5 is before a point where it is above 0.5 again.
    const riseOpened = AS_OF - 100 * DAY;
    for (let i = 0; i < 1000; i++) {
      const id = `rise-${i}`;
      const closedAfter = (ms: number) => cases.push({ id, service: 'Rise', opened: iso(riseOpened), closed: iso(riseOpened + ms) });
      const openFor = (ms: number) => cases.push({ id, service: 'Rise', opened: iso(AS_OF - ms) });
      if (i < 520) closedAfter(13 * DAY + i * 7 * 60_000);
      else if (i < 540) closedAfter(16 * DAY + (i - 520) * 10 * 60_000);
      else if (i < 990) openFor(17 * DAY + 60_000);
      else if (i === 990) closedAfter(17 * DAY + 2 * 60_000);
      else if (i < 998) openFor(17 * DAY + 3 * 60_000);
      else if (i === 998) closedAfter(30 * DAY);
      else openFor(31 * DAY);
    }
    await loadCases(t, cases);
  });
  afterAll(() => t.cleanup());

  it('matches kaplanMeier + kmSummary over all observations', async () => {
    const w = utc('2023-01-01', '2024-12-31', iso(AS_OF));
    const obs = buildKmObservationsQuery(['service'], { window: w, area_kind: 'source' });
    const byGroup = new Map<string, { time: number; events: number; censored: number }[]>();
    for (const r of await t.wh.all<Record<string, string | number>>(obs.sql, obs.params)) {
      const list = byGroup.get(String(r.service)) ?? [];
      list.push({ time: Number(r.seconds), events: Number(r.events), censored: Number(r.censored) });
      byGroup.set(String(r.service), list);
    }
    const rows = (await computeKpis(t.wh, ['service'], w)).rows;
    expect(rows).toHaveLength(43);
    const h = (s: number | null) => (s === null ? null : s / 3600);
    let withCi = 0;
    for (const r of rows) {
      const ref = kmSummary(kaplanMeier(byGroup.get(r.service!)!));
      expect([r.service, r.median_hours_to_close, r.median_hours_ci_lower, r.median_hours_ci_upper, r.p90_hours_to_close])
        .toEqual([r.service, h(ref.median), h(ref.median_lower), h(ref.median_upper), h(ref.p90)]);
      if (ref.median_upper !== null) withCi++;
    }
    expect(withCi).toBeGreaterThan(10);
    // S is 0.5 from 5 h on and never drops again: the midpoint of 5 h and the end of follow-up (19 h).
    expect(rows.find((r) => r.service === 'Half')!.median_hours_to_close).toBe((5 + 19) / 2);
    // P90 where S sits exactly at 0.1: the midpoint of 18 h and the next drop (25 h).
    expect(rows.find((r) => r.service === 'Tenth')!.p90_hours_to_close).toBe((18 + 25) / 2);
  });

  it('lists each group\'s durations, the ended apart from the censored: the drawn curve\'s observations, case for case', async () => {
    const sel = { window: utc('2023-01-01', '2024-12-31', iso(AS_OF - 6 * HOUR)), area_kind: 'source' };
    for (const duration of ['close', 'first_response'] as const) {
      const q = buildKmDurationsQuery(['service'], sel, duration);
      const groups = await t.wh.allWithLists(q.sql, q.params, ['ends', 'censored'] as const);
      expect(groups).toHaveLength(43);
      // The same cases as the observations the drawn curve is built from, group by group: each
      // distinct duration as often as it ended (or was censored) there.
      const obs = buildKmObservationsQuery(['service'], sel, duration);
      const rows = await t.wh.all<{ service: string; seconds: number; events: number; censored: number }>(obs.sql, obs.params);
      const expand = (service: string, k: 'events' | 'censored') =>
        rows.filter((r) => r.service === service).flatMap((r) => Array<number>(r[k]).fill(r.seconds)).sort((a, b) => a - b);
      for (const g of groups) {
        const s = String(g.service);
        expect([...sortDurations(g.ends)], `${s} ${duration} ended`).toEqual(expand(s, 'events'));
        expect([...sortDurations(g.censored)], `${s} ${duration} censored`).toEqual(expand(s, 'censored'));
      }
      expect(rows.reduce((n, r) => n + r.censored, 0)).toBeGreaterThan(0);
    }
  });

  it('gives the quantiles read off the drawn curve (the survival chart), thinned to a few points, and the reference\'s, at as-of times that censor differently', async () => {
    // Ties of ends and censored cases, groups all censored, curves that reach zero, a band that
    // rises again: the KPIs against R's rules over the drawn curve's points alone (KmCurveWalk,
    // thinned to 3 steps: the points the quantiles depend on must be among them), and over
    // kaplanMeier of the same observations.
    const h = (s: number | null) => (s === null ? null : s / 3600);
    let compared = 0;
    let thinned = 0;
    for (const asOf of [AS_OF, AS_OF - 6 * HOUR, AS_OF - 200 * HOUR]) {
      const w = utc('2023-01-01', '2024-12-31', iso(asOf));
      const sel = { window: w, area_kind: 'source' };
      const rows = (await computeKpis(t.wh, ['service'], w)).rows;
      for (const duration of ['close', 'first_response'] as const) {
        const stat = duration === 'close'
          ? (['median_hours_to_close', 'median_hours_ci_lower', 'median_hours_ci_upper', 'p90_hours_to_close'] as const)
          : (['median_hours_to_first_response', null, null, null] as const);
        const lists = buildKmDurationsQuery(['service'], sel, duration);
        const curves = new Map<string, KmPoint[]>();
        for (const g of await t.wh.allWithLists(lists.sql, lists.params, ['ends', 'censored'] as const)) {
          const walk = new KmCurveWalk(sortDurations(g.ends), sortDurations(g.censored), 3);
          while (!walk.done) walk.advance(7);
          const c = walk.result();
          if (c.thinned) thinned++;
          curves.set(String(g.service), c.points);
        }
        const obs = buildKmObservationsQuery(['service'], sel, duration);
        const byGroup = new Map<string, { time: number; events: number; censored: number }[]>();
        for (const r of await t.wh.all<Record<string, string | number>>(obs.sql, obs.params)) {
          const list = byGroup.get(String(r.service)) ?? [];
          list.push({ time: Number(r.seconds), events: Number(r.events), censored: Number(r.censored) });
          byGroup.set(String(r.service), list);
        }
        for (const r of rows) {
          const points = curves.get(r.service!) ?? [];
          const drawn = kmSummary({ n: 0, events: 0, points });
          const ref = kmSummary(kaplanMeier(byGroup.get(r.service!) ?? []));
          const got = stat.map((m) => (m === null ? null : r[m]));
          const want = (s: typeof ref) => [h(s.median), h(s.median_lower), h(s.median_upper), h(s.p90)].map((v, i) => (stat[i] === null ? null : v));
          expect(got, `${r.service} ${duration} @${asOf}`).toEqual(want(ref));
          expect(got, `${r.service} ${duration} @${asOf} (drawn)`).toEqual(want(drawn));
          compared++;
        }
      }
    }
    expect(compared).toBe(3 * 2 * 43);
    expect(thinned).toBeGreaterThan(100);
  });
});
