// The settled facts (settled-facts.ts) change no figure: every KPI read with them is the one read
// from every case's row, to the bit — at as-of times before, inside and after the window, by every
// dimension they carry, with filters and scopes — and a batch that updates them by its days leaves
// exactly what building them all again gives. A question they cannot answer (by area; data they
// were not built for) reads every case, as before.
import { describe, expect, it } from 'vitest';
import { useDemoWindow } from '../../test/demo-window.ts';
import { tempWarehouse } from '../../test/helpers.ts';
import { ingestFile } from '../../ingest/load.ts';
import { loadProfile, parseProfile } from '../../ingest/profile.ts';
import { loadCalendars } from '../../ingest/calendars.ts';
import { computeKpis, type KpiOptions } from './kpis.ts';
import { resolveSelection } from './dimensions.ts';
import { refreshSettledFacts, settledFactsCurrent, settledPlan } from './settled-facts.ts';
import type { Warehouse } from '../db.ts';
import type { CaseFilter, CaseWindow, Dimension } from '../queries/case-predicates.ts';

/** `fn` with the facts set aside: every case is read from its row (the meta row says the facts are of no data). */
async function withoutFacts<T>(wh: Warehouse, fn: () => Promise<T>): Promise<T> {
  const saved = await wh.all<Record<string, unknown>>(`SELECT stamp, zone, shape, horizon::VARCHAR AS horizon, built_at::VARCHAR AS built_at FROM settled_facts_meta`);
  await wh.run(`DELETE FROM settled_facts_meta`);
  try {
    return await fn();
  } finally {
    for (const m of saved) await wh.run(`INSERT INTO settled_facts_meta VALUES ($stamp, $zone, $shape, $horizon::DATE, $built_at::TIMESTAMPTZ)`, m as Record<string, string>);
  }
}

/** The same question with and without the facts; says whether the facts were read. */
async function bothWays(wh: Warehouse, by: Dimension[], w: CaseWindow, filter: CaseFilter = {}, opts: KpiOptions = {}) {
  const plan = await settledPlan(wh, await resolveSelection(wh, w, { filter, scope: opts.scope, area_kind: opts.area_kind }), by);
  const fast = await computeKpis(wh, by, w, filter, opts);
  const live = await withoutFacts(wh, () => computeKpis(wh, by, w, filter, opts));
  return { plan, fast, live };
}

/** Every row of the facts and of live_cases, in a fixed order (for comparing two builds). */
async function factsSnapshot(wh: Warehouse) {
  return {
    facts: await wh.all(`SELECT * FROM settled_facts ORDER BY ALL`),
    closed: await wh.all(`SELECT * FROM settled_closed_facts ORDER BY ALL`),
    live: await wh.all(`SELECT * EXCLUDE (refreshed_batch) FROM live_cases ORDER BY case_id`),
    meta: await wh.all(`SELECT stamp, zone, shape, horizon FROM settled_facts_meta`),
  };
}

describe('settled facts on the demo city', () => {
  const demo = useDemoWindow();

  it('are built as the city loads, current, and hold most of its cases', async () => {
    const wh = demo.t.wh;
    expect(await settledFactsCurrent(wh)).toBe(true);
    const n = await wh.one<{ facts: number; cases: number; live: number }>(
      `SELECT (SELECT sum(opened) FROM settled_facts)::INTEGER AS facts, (SELECT count(*) FROM cases)::INTEGER AS cases, (SELECT count(*) FROM live_cases)::INTEGER AS live`);
    expect(n!.facts).toBeGreaterThan(n!.cases * 0.8);
    expect(n!.live).toBeLessThan(n!.cases * 0.2);
  });

  const groupings: Dimension[][] = [['service', 'week'], ['agency', 'month'], [], ['service_group'], ['channel', 'day'], ['quarter']];
  const asOfs = [
    ['the window\'s as-of time', null],
    ['inside the window', '2026-10-10T15:30:00Z'],
    ['before the window ends', '2026-08-20T00:00:00Z'],
    ['long after the data', '2027-06-01T00:00:00Z'],
  ] as const;
  for (const [label, asOf] of asOfs) {
    it(`give every figure to the bit, as of ${label}, by every dimension they carry`, async () => {
      const w = { ...demo.w, as_of: asOf ?? demo.w.as_of };
      for (const by of groupings) {
        const r = await bothWays(demo.t.wh, by, w);
        expect(r.plan, by.join()).not.toBeNull();
        expect(r.fast.rows.length, by.join()).toBeGreaterThan(0);
        expect(r.fast, by.join()).toEqual(r.live);
      }
    });
  }

  const asked: { name: string; filter: CaseFilter; opts: KpiOptions }[] = [
    { name: 'an agency filter', filter: { agency: 'Sanitation' }, opts: {} },
    { name: 'a channel filter', filter: { channel: 'phone' }, opts: {} },
    { name: 'a service filter by code', filter: { service: 'POTHOLE' }, opts: {} },
    { name: 'an agency scope', filter: {}, opts: { scope: { agencies: ['Public Works', 'Sanitation'] } } },
    { name: 'services left out', filter: {}, opts: { scope: { exclude_services: ['Pothole Repair'], exclude_service_codes: ['NOISE'] } } },
  ];
  for (const c of asked) {
    it(`give every figure to the bit with ${c.name}`, async () => {
      const r = await bothWays(demo.t.wh, ['service', 'week'], demo.w, c.filter, c.opts);
      expect(r.plan).not.toBeNull();
      expect(r.fast.rows.length).toBeGreaterThan(0);
      expect(r.fast).toEqual(r.live);
    });
  }

  it('leave a closed case with no first response to be read live (the model gives every close one; an update might not)', async () => {
    const wh = demo.t.wh;
    await wh.transaction(async () => {
      await wh.run(`UPDATE cases SET first_response_at = NULL WHERE case_id IN (SELECT case_id FROM cases WHERE status = 'closed' AND opened_day BETWEEN $from::DATE AND $to::DATE ORDER BY case_id LIMIT 25)`, { from: demo.w.from, to: demo.w.to });
      await refreshSettledFacts(wh);
    });
    const r = await bothWays(wh, ['service', 'week'], demo.w);
    expect(r.plan).not.toBeNull();
    expect(r.fast).toEqual(r.live);
  });

  it('keep a case read live until its last contact and survey answer, however long after its close', async () => {
    const wh = demo.t.wh;
    // Cases closed in the window, contacted again (and answering a survey) two months after their close.
    await wh.transaction(async () => {
      await wh.run(`INSERT INTO interactions (interaction_id, case_id, channel, direction, started_at)
        SELECT 'late:' || case_id, case_id, 'phone', 'inbound', closed_at + INTERVAL 60 DAY FROM cases
        WHERE status = 'closed' AND closed_day BETWEEN $from::DATE AND $to::DATE ORDER BY case_id LIMIT 40`, { from: demo.w.from, to: demo.w.to });
      await wh.run(`INSERT INTO survey_responses (response_id, case_id, answered_at, csat, nps)
        SELECT 'late:' || case_id, case_id, closed_at + INTERVAL 61 DAY, 1, 0 FROM cases
        WHERE status = 'closed' AND opened_day BETWEEN $from::DATE AND $to::DATE ORDER BY case_id DESC LIMIT 40`, { from: demo.w.from, to: demo.w.to });
      await refreshSettledFacts(wh);
    });
    for (const asOf of ['2026-10-20T00:00:00Z', '2026-12-10T00:00:00Z', '2027-03-01T00:00:00Z']) {
      const r = await bothWays(wh, ['service', 'week'], { ...demo.w, as_of: asOf });
      expect(r.plan).not.toBeNull();
      expect(r.fast, asOf).toEqual(r.live);
    }
  });

  it('are read again from every case when a batch lands while a question reads them', async () => {
    const wh = demo.t.wh;
    const want = await computeKpis(wh, ['service', 'week'], demo.w, {}, { settled: false });
    // The first duration's lists arrive, then a batch lands (as a load on the server would).
    const lists = wh.allWithLists.bind(wh);
    let landed = 0;
    wh.allWithLists = (async (...a: Parameters<typeof lists>) => {
      const r = await lists(...a);
      if (landed++ === 0) await wh.run(`INSERT INTO ingest_batches (batch_id, source, kind, started_at, finished_at) VALUES ('mid', 'test', 'cases', now(), now())`);
      return r;
    }) as typeof wh.allWithLists;
    try {
      expect(await computeKpis(wh, ['service', 'week'], demo.w)).toEqual(want);
      // Two durations' live and stored lists (4), then the retry's live lists only (2): the facts
      // are not the data's once the batch has landed.
      expect(landed).toBe(6);
    } finally {
      wh.allWithLists = lists;
      await wh.run(`DELETE FROM ingest_batches WHERE batch_id = 'mid'`);
    }
  });

  it('are not read for a question by area, nor once the data has changed without them', async () => {
    const wh = demo.t.wh;
    const r = await bothWays(wh, ['area', 'week'], demo.w);
    expect(r.plan).toBeNull();
    expect(r.fast).toEqual(r.live);
    const sel = await resolveSelection(wh, demo.w, {});
    await wh.run(`INSERT INTO ingest_batches (batch_id, source, kind, started_at, finished_at) VALUES ('elsewhere', 'test', 'cases', now(), now())`);
    expect(await settledPlan(wh, sel, ['service'])).toBeNull();
    expect(await settledFactsCurrent(wh)).toBe(false);
    await wh.run(`DELETE FROM ingest_batches WHERE batch_id = 'elsewhere'`);
    expect(await settledPlan(wh, sel, ['service'])).not.toBeNull();
  });
});

describe('settled facts and a calendar that re-dates cases without a batch', () => {
  it('are built again with the new due times, so on time is what every case says', async () => {
    const t = await tempWarehouse();
    try {
      const services = parseProfile({ name: 's', kind: 'services', source: 'c', timezone: 'UTC', columns: { service_code: 'code', name: 'name', sla_hours: 'sla', sla_calendar: 'cal' } });
      const cases = parseProfile({ name: 'c', kind: 'cases', source: 'c', timezone: 'America/New_York', columns: { case_id: 'id', opened_at: 'opened', closed_at: 'closed', service_code: 'code', status: 'status' } });
      const hours = (end: string) => [{ calendar_id: 'hall', timezone: 'America/New_York', hours: Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri'].map((d) => [d, ['08:00', end]])), holidays: [] }];
      await loadCalendars(t.wh, t.write('cal.json', JSON.stringify(hours('17:00'))));
      await ingestFile(t.wh, t.write('s.csv', 'code,name,sla,cal\nPERMIT,Permit question,9,hall\n'), services);
      // Opened Monday 15:00, closed Tuesday 14:00; 9 working hours are due Tuesday 15:00 in an 08:00–17:00 day (on time), 12:00 in an 08:00–20:00 one (late).
      const rows = Array.from({ length: 30 }, (_, i) => `P${i},2026-03-${String(2 + (i % 4) * 7).padStart(2, '0')} 15:00:00,2026-03-${String(3 + (i % 4) * 7).padStart(2, '0')} 14:00:00,PERMIT,closed`);
      await ingestFile(t.wh, t.write('c.csv', ['id,opened,closed,code,status', ...rows].join('\n') + '\n'), cases);
      const w = { from: '2026-03-01', to: '2026-03-31', as_of: '2026-06-01T00:00:00Z', timezone: 'America/New_York' };
      const before = await bothWays(t.wh, [], w);
      expect(before.plan).not.toBeNull();
      expect(before.fast.rows[0].on_time).toBe(30);
      await loadCalendars(t.wh, t.write('cal2.json', JSON.stringify(hours('20:00'))));
      expect(await settledFactsCurrent(t.wh)).toBe(true);
      const after = await bothWays(t.wh, [], w);
      expect(after.plan).not.toBeNull();
      expect(after.fast).toEqual(after.live);
      expect(after.fast.rows[0].on_time).toBe(0);
    } finally {
      t.cleanup();
    }
  });
});

describe('settled facts kept up by daily loads', () => {
  const HEADER = 'request_id,service_code,service_name,agency,channel,status,requested_at,closed_at,lat,lon,district';
  const SERVICES = [['POTHOLE', 'Pothole Repair', 'Streets'], ['TRASH', 'Missed Trash Pickup', 'Sanitation'], ['NOISE', 'Noise Complaint', 'Code Enforcement']];
  const CHANNELS = ['phone', 'web', 'app'];
  const iso = (ms: number) => new Date(ms).toISOString();
  const DAY = 86_400_000;
  const start = Date.parse('2026-03-02T13:00:00Z');
  /** Case i of a seeded city: opened over 120 days, some closed after hours to weeks, some still open, some cancelled. */
  const row = (i: number, o: { status?: string; closedAfterDays?: number; service?: number } = {}) => {
    const opened = start + (i % 120) * DAY + (i * 7919 % 600) * 60_000;
    const status = o.status ?? (i % 11 === 0 ? 'open' : i % 13 === 0 ? 'cancelled' : 'closed');
    const closedAfter = o.closedAfterDays ?? ((i * 104729) % 2000) / 100;
    const [code, name, agency] = SERVICES[o.service ?? i % 3];
    const closed = status === 'open' ? '' : iso(opened + closedAfter * DAY);
    return [`R${i}`, code, name, agency, CHANNELS[i % 3], status, iso(opened), closed, '41.2', '-77.3', i % 2 ? 'East' : 'West'].join(',');
  };

  it('update the days a batch touched, and leave what building them all again gives', async () => {
    const t = await tempWarehouse();
    try {
      const profile = loadProfile('demo-city');
      const events = loadProfile('demo-city-events');
      const checkFull = async (label: string) => {
        expect(await settledFactsCurrent(t.wh), label).toBe(true);
        const byDays = await factsSnapshot(t.wh);
        // Built afresh in slices of a few days (as a large load is): the same facts.
        await t.wh.transaction(() => refreshSettledFacts(t.wh, { casesPerSlice: 40 }));
        expect(await factsSnapshot(t.wh), label).toEqual(byDays);
        await t.wh.transaction(() => refreshSettledFacts(t.wh));
        expect(await factsSnapshot(t.wh), label).toEqual(byDays);
      };
      const checkFigures = async (label: string) => {
        for (const asOf of ['2026-05-01T00:00:00Z', '2026-07-15T00:00:00Z', '2026-12-01T00:00:00Z']) {
          const w = { from: '2026-03-02', to: '2026-06-30', as_of: asOf, timezone: 'America/New_York' };
          for (const by of [['service', 'week'], ['agency']] as Dimension[][]) {
            const r = await bothWays(t.wh, by, w);
            expect(r.plan, `${label} ${asOf} ${by.join()}`).not.toBeNull();
            expect(r.fast, `${label} ${asOf} ${by.join()}`).toEqual(r.live);
          }
        }
      };

      // Day 1: 600 cases over four months, as first exported.
      await ingestFile(t.wh, t.write('day1.csv', [HEADER, ...Array.from({ length: 600 }, (_, i) => row(i))].join('\n') + '\n'), profile);
      await checkFull('day 1');
      await checkFigures('day 1');

      // Day 2: some open cases closed, some closed ones reopened and open again, a service
      // changed, a close moved later by weeks, new cases.
      const day2 = [HEADER];
      for (let i = 0; i < 600; i += 11) day2.push(row(i, { status: 'closed', closedAfterDays: 3 }));
      for (let i = 1; i < 600; i += 37) day2.push(row(i, { status: 'open' }));
      for (let i = 2; i < 600; i += 41) day2.push(row(i, { service: (i + 1) % 3 }));
      for (let i = 4; i < 600; i += 53) day2.push(row(i, { status: 'closed', closedAfterDays: 40 }));
      for (let i = 600; i < 700; i++) day2.push(row(i));
      await ingestFile(t.wh, t.write('day2.csv', day2.join('\n') + '\n'), profile);
      await checkFull('day 2');
      await checkFigures('day 2');

      // Day 3: an event trail: responses, reopenings of closed cases and closes again.
      const trail = ['request_id,event,at'];
      // Cases known only by later events (no opening): one closed in the window, one closed and reopened.
      trail.push(`X1,closed,2026-06-20T12:00:00Z`, `X2,closed,2026-06-10T12:00:00Z`, `X2,reopened,2026-06-25T12:00:00Z`);
      for (let i = 3; i < 600; i += 29) {
        trail.push(`R${i},acknowledged,${iso(start + (i % 120) * DAY + DAY / 2)}`);
        trail.push(`R${i},reopened,${iso(Date.parse('2026-07-01T12:00:00Z') + i * 60_000)}`);
        if (i % 2) trail.push(`R${i},closed,${iso(Date.parse('2026-07-09T12:00:00Z') + i * 60_000)}`);
      }
      await ingestFile(t.wh, t.write('day3.csv', trail.join('\n') + '\n'), events);
      await checkFull('day 3');
      await checkFigures('day 3');

      // The same file again changes nothing, and the facts stay current.
      const again = await ingestFile(t.wh, t.write('day3b.csv', trail.join('\n') + '\n'), events);
      expect(again.loaded).toBe(0);
      expect(await settledFactsCurrent(t.wh)).toBe(true);
    } finally {
      t.cleanup();
    }
  }, 120_000);
});
