// Down to the cases (issue 11 item 6): every count of cases on the dashboard opens the list of
// exactly the cases it counts — the list's total is the /api/kpis figure for every drillable
// measure, overall and for one service in one area — paged without gaps or repeats, sorted as
// asked, downloadable as CSV; one case opens with its trail, contacts and survey answers and
// nothing that identifies the person; only admins and managers see cases, each within its scope.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { parse } from 'csv-parse/sync';
import { demoWarehouse } from '../demo-warehouse.ts';
import { bearer, injectAs, testApp, type Inject } from '../app-helper.ts';
import app, { FASTIFY_OPTIONS } from '../../api/app.ts';
import { createToken } from '../../warehouse/access/tokens.ts';
import { CASE_ROW_COLUMNS, CASE_SORTS, type CaseRow } from '../../warehouse/analytics/cases.ts';
import { DRILLABLE_MEASURES, MEASURES, type Measure } from '../../warehouse/queries/measures.ts';

const TZ_CONFIG = { timezone: 'America/New_York', jurisdiction: 'Riverton (demo city)' };
const WINDOW = 'from=2026-09-01&to=2026-09-30&as_of=2026-10-03T00:00:00Z';
const SERVICE = 'POTHOLE';
const AREA = 'District 6';
const AGENCY = 'Sanitation';
/** Keys that would carry a person or a point; none may appear in any answer. */
const PERSONAL_KEYS = /"(citizen_key|citizen|name|first_name|last_name|full_name|phone|email|e_mail|address|street|lat|lon|latitude|longitude|attributes|comment|comments|description|notes?)"\s*:/i;

describe('the cases behind a count', () => {
  let t: Awaited<ReturnType<typeof demoWarehouse>>;
  let fastify: FastifyInstance;
  let manager: Inject;
  let admin: Inject;
  let planner: Inject;
  let scoped: Inject;
  beforeAll(async () => {
    t = await demoWarehouse();
    fastify = await testApp(t.wh, TZ_CONFIG);
    manager = await injectAs(fastify, t.wh, 'manager');
    admin = await injectAs(fastify, t.wh, 'admin');
    planner = await injectAs(fastify, t.wh, 'planner');
    scoped = await injectAs(fastify, t.wh, 'manager', [AGENCY]);
  });
  afterAll(async () => {
    await fastify?.close();
    t?.cleanup();
  });

  const list = async (who: Inject, query: string) => {
    const res = await who(`/api/cases?${query}`);
    expect(res.statusCode, `${query}: ${res.body.slice(0, 300)}`).toBe(200);
    return res.json() as { total: number; rows: CaseRow[]; page: number; page_size: number; sort: string; order: string } & Record<string, unknown>;
  };

  it('the registry: every count of cases is drillable, sums and rates are not', () => {
    const names = DRILLABLE_MEASURES.map((m) => m.name);
    expect(names).toEqual(expect.arrayContaining([
      'opened', 'closed', 'cancelled', 'on_time', 'on_time_denominator', 'pending', 'excluded_data_errors', 'closed_without_due_time',
      'backlog', 'backlog_0_2d', 'backlog_3_7d', 'backlog_8_30d', 'backlog_over_30d', 'backlog_past_due', 'closed_in_period',
      'on_time_closed_cohort', 'on_time_closed_cohort_denominator', 'reopened_within_30d', 'reopen_pending', 'fcr_cases',
      'fcr_measured_resolved', 'fcr_reported_resolved', 'fcr_pending', 'repeat_contact_cases',
    ]));
    for (const m of MEASURES as readonly Measure[]) {
      if (m.kind === 'count' && m.unit === 'cases') expect(names, m.name).toContain(m.name);
      else expect(names, m.name).not.toContain(m.name);
    }
  });

  describe('one definition: the list of every count has exactly the KPI figure of cases', () => {
    for (const [what, query, families] of [
      ['the whole city, September', WINDOW, ['opened', 'on_time', 'pending', 'backlog_past_due', 'closed_in_period', 'reopened_within_30d', 'fcr_measured_resolved', 'repeat_contact_cases']],
      [`${SERVICE} in ${AREA}, September`, `${WINDOW}&service=${SERVICE}&area=${encodeURIComponent(AREA)}`, ['opened', 'on_time', 'pending', 'backlog', 'backlog_past_due', 'closed_in_period', 'fcr_measured_resolved', 'repeat_contact_cases']],
    ] as const) {
      it(what, async () => {
        const kpi = await manager(`/api/kpis?${query}`);
        expect(kpi.statusCode).toBe(200);
        const figures = kpi.json().rows[0] as Record<string, number>;
        const nonZero: string[] = [];
        for (const m of DRILLABLE_MEASURES) {
          const body = await list(manager, `${query}&measure=${m.name}&page_size=500`);
          expect([m.name, body.total]).toEqual([m.name, figures[m.name]]);
          expect(body.rows.length, m.name).toBe(Math.min(500, body.total));
          if (body.total > 0) nonZero.push(m.name);
        }
        // Not a comparison of zeros: the measure families all have cases here.
        expect(nonZero).toEqual(expect.arrayContaining([...families]));
      });
    }

    it('a week is a window: its list is the week row of a weekly KPI table (opened and closed cohorts)', async () => {
      const weeks = (await manager(`/api/kpis?by=week&${WINDOW}`)).json().rows as Record<string, number | string>[];
      const week = weeks.find((w) => w.week === '2026-09-14')!;
      for (const m of ['opened', 'on_time', 'closed_in_period', 'fcr_cases'] as const) {
        const body = await list(manager, `from=2026-09-14&to=2026-09-20&as_of=2026-10-03T00:00:00Z&measure=${m}&page_size=1`);
        expect([m, body.total]).toEqual([m, week[m]]);
      }
    });

    it('each listed case is what the measure says: backlog past due are open and past due, closed cases have their hours', async () => {
      const pastDue = await list(manager, `${WINDOW}&measure=backlog_past_due&page_size=500`);
      for (const r of pastDue.rows) expect([r.case_id, r.status, r.past_due, r.age_days! >= 0]).toEqual([r.case_id, 'open', true, true]);
      const over30 = await list(manager, `${WINDOW}&measure=backlog_over_30d&page_size=500`);
      for (const r of over30.rows) expect(r.age_days, r.case_id).toBeGreaterThanOrEqual(31);
      const closed = await list(manager, `${WINDOW}&measure=closed_in_period&page_size=500`);
      for (const r of closed.rows) {
        expect(r.closed_at! >= '2026-09-01T04:00:00.000Z' && r.closed_at! < '2026-10-01T04:00:00.000Z', r.case_id).toBe(true);
        expect(r.hours_to_close).toBeCloseTo((Date.parse(r.closed_at!) - Date.parse(r.opened_at)) / 3_600_000, 6);
      }
      const filtered = await list(manager, `${WINDOW}&service=${SERVICE}&area=${encodeURIComponent(AREA)}&measure=opened&page_size=500`);
      for (const r of filtered.rows) expect([r.service_code, r.area]).toEqual([SERVICE, AREA]);
    });
  });

  it('states what it lists: measure, label, definition, window, as-of, area kind and filters', async () => {
    const body = await list(manager, `${WINDOW}&measure=on_time&service=${SERVICE}&page_size=5`);
    const { rows, ...envelope } = body;
    expect(envelope).toEqual({
      measure: 'on_time', label: 'Closed on time', definition: expect.stringMatching(/due time/), from: '2026-09-01', to: '2026-09-30',
      as_of: '2026-10-03T00:00:00.000Z', timezone: 'America/New_York', area_kind: 'district', filter: { service: SERVICE },
      total: expect.any(Number), page: 1, page_size: 5, sort: 'opened_at', order: 'desc',
    });
    expect(rows).toHaveLength(5);
    expect(Object.keys(rows[0])).toEqual([...CASE_ROW_COLUMNS]);
  });

  it('pages without gaps or repeats, in the same order as the download', async () => {
    const all = await list(manager, `${WINDOW}&measure=backlog&page_size=500&sort=service&order=asc`);
    expect(all.total).toBeGreaterThan(120);
    const seen: string[] = [];
    const pages = Math.ceil(all.total / 37);
    for (let page = 1; page <= pages + 1; page++) {
      const body = await list(manager, `${WINDOW}&measure=backlog&page_size=37&page=${page}&sort=service&order=asc`);
      expect(body.total).toBe(all.total);
      expect(body.rows.length).toBe(page <= pages ? Math.min(37, all.total - (page - 1) * 37) : 0);
      seen.push(...body.rows.map((r) => r.case_id));
    }
    expect(seen).toHaveLength(all.total);
    expect(new Set(seen).size).toBe(all.total);
    expect(seen).toEqual(all.rows.map((r) => r.case_id));
    const csv = parse((await manager(`/api/cases?${WINDOW}&measure=backlog&sort=service&order=asc&format=csv`)).body, { columns: true }) as Record<string, string>[];
    expect(csv.map((r) => r.case_id)).toEqual(seen);
  });

  it('sorts by every allowed key, both ways, empty values last and the case id breaking ties', async () => {
    const cmp = (a: unknown, b: unknown) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0);
    for (const sort of CASE_SORTS) {
      for (const order of ['asc', 'desc'] as const) {
        // The opened cohort has open cases (no close, no hours) among closed ones.
        const { rows, sort: s, order: o } = await list(manager, `${WINDOW}&measure=opened&page_size=500&sort=${sort}&order=${order}`);
        expect([s, o]).toEqual([sort, order]);
        expect(rows).toHaveLength(500);
        for (let i = 1; i < rows.length; i++) {
          const a = rows[i - 1][sort];
          const b = rows[i][sort];
          const where = `${sort} ${order} at ${i}: ${String(a)} then ${String(b)}`;
          if (a === null) expect(b, where).toBeNull();
          if (a === null || b === null) continue;
          const c = cmp(a, b) * (order === 'asc' ? 1 : -1);
          expect(c, where).toBeLessThanOrEqual(0);
          if (c === 0 && sort !== 'case_id') expect(rows[i - 1].case_id < rows[i].case_id, where).toBe(true);
        }
        if (sort === 'closed_at' || sort === 'hours_to_close') expect(rows.some((r) => r[sort] !== null)).toBe(true);
      }
    }
    // Defaults: newest first; due times most overdue first.
    expect((await list(manager, `${WINDOW}&measure=opened&page_size=2`)).order).toBe('desc');
    expect((await list(manager, `${WINDOW}&measure=opened&page_size=2&sort=due_at`)).order).toBe('asc');
  });

  it('CSV: every matching case (not one page), with the row columns as header; audited with its row count', async () => {
    const reader = await createToken(t.wh, { name: 'case reader', role: 'manager' });
    const res = await fastify.inject({ url: `/api/cases?${WINDOW}&measure=pending&format=csv&page_size=3`, headers: { authorization: `Bearer ${reader.token}` } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toBe('attachment; filename="cases-pending-2026-09-01-2026-09-30.csv"');
    expect(res.body.split('\r\n')[0]).toBe(CASE_ROW_COLUMNS.join(','));
    const rows = parse(res.body, { columns: true }) as Record<string, string>[];
    const { total } = await list(manager, `${WINDOW}&measure=pending&page_size=1`);
    expect(total).toBeGreaterThan(3);
    expect(rows).toHaveLength(total);
    expect(res.body.split('\r\n')[0]).not.toMatch(/citizen|lat|lon/i);
    expect(res.body).not.toMatch(/citizen/i);
    await fastify.auditFlush();
    const entries = (await admin(`/api/audit?principal=${reader.token_id}`)).json().entries;
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ route: '/api/cases', status: 200, rows_returned: total, parameters: { measure: 'pending', format: 'csv' } });
  });

  describe('one case', () => {
    let caseId: string;
    beforeAll(async () => {
      // A case with a reopening, contacts and a survey answer, closed in the window.
      const r = await t.wh.one<{ case_id: string }>(
        `SELECT c.case_id FROM cases c
         WHERE c.reopen_count > 0 AND c.closed_at BETWEEN '2026-09-01' AND '2026-09-30'
           AND EXISTS (SELECT 1 FROM survey_responses r LEFT JOIN interactions i ON i.interaction_id = r.interaction_id WHERE coalesce(r.case_id, i.case_id) = c.case_id)
           AND (SELECT count(*) FROM interactions i WHERE i.case_id = c.case_id) >= 2
         ORDER BY c.case_id LIMIT 1`,
      );
      caseId = r!.case_id;
    });

    it('its row, its event trail in time order, its contacts and survey answers', async () => {
      const res = await manager(`/api/cases/${encodeURIComponent(caseId)}`);
      expect(res.statusCode).toBe(200);
      const d = res.json();
      expect(d.case.case_id).toBe(caseId);
      expect(d).toMatchObject({ timezone: 'America/New_York', area_kind: 'district' });
      const times = d.events.map((e: { occurred_at: string }) => e.occurred_at);
      expect(times).toEqual([...times].sort());
      expect(d.events[0].event_type).toBe('opened');
      const types = d.events.map((e: { event_type: string }) => e.event_type);
      expect(types).toEqual(expect.arrayContaining(['opened', 'closed', 'reopened']));
      expect(d.case.reopen_count).toBe(types.filter((x: string) => x === 'reopened').length);
      const db = (sql: string) => t.wh.one<{ n: number }>(sql, { id: caseId }).then((r) => Number(r!.n));
      expect(d.events).toHaveLength(await db('SELECT count(*) AS n FROM case_events WHERE case_id = $id'));
      expect(d.interactions).toHaveLength(await db('SELECT count(*) AS n FROM interactions WHERE case_id = $id'));
      expect(d.surveys.length).toBe(await db(`SELECT count(*) AS n FROM survey_responses r LEFT JOIN interactions i ON i.interaction_id = r.interaction_id WHERE coalesce(r.case_id, i.case_id) = $id`));
      expect(d.surveys.length).toBeGreaterThan(0);
      const starts = d.interactions.map((i: { started_at: string }) => i.started_at);
      expect(starts).toEqual([...starts].sort());
      // The same row as in a list that holds the case.
      const listed = await list(manager, `${WINDOW}&measure=closed_in_period&page_size=500&sort=case_id&order=asc`);
      const inList = listed.rows.find((r) => r.case_id === caseId);
      if (inList) expect({ ...inList, status: d.case.status, reopen_count: d.case.reopen_count, past_due: d.case.past_due, age_days: d.case.age_days }).toEqual(d.case);
    });

    it('nothing that identifies a person or a place: no citizen key, name, contact details, free text or point, anywhere', async () => {
      const keys = await t.wh.all<{ k: string }>(`SELECT DISTINCT citizen_key AS k FROM interactions WHERE case_id = $id AND citizen_key IS NOT NULL`, { id: caseId });
      const point = await t.wh.one<{ lat: number; lon: number }>(`SELECT lat, lon FROM cases WHERE case_id = $id`, { id: caseId });
      expect(keys.length).toBeGreaterThan(0);
      const bodies = [
        (await manager(`/api/cases/${encodeURIComponent(caseId)}`)).body,
        (await manager(`/api/cases?${WINDOW}&measure=closed_in_period&page_size=500&sort=case_id`)).body,
        (await manager(`/api/cases?${WINDOW}&measure=closed_in_period&format=csv`)).body,
      ];
      for (const body of bodies) {
        expect(body).not.toMatch(PERSONAL_KEYS);
        expect(body).not.toMatch(/citizen/i);
        for (const { k } of keys) expect(body).not.toContain(k);
        if (point?.lat != null) expect(body).not.toContain(String(point.lat));
      }
      expect(bodies[0]).toContain(caseId);
    });

    it('as of an earlier time: only what had happened by then', async () => {
      const full = (await manager(`/api/cases/${encodeURIComponent(caseId)}`)).json();
      const reopen = full.events.find((e: { event_type: string }) => e.event_type === 'reopened').occurred_at as string;
      const before = new Date(Date.parse(reopen) - 1000).toISOString();
      const then = (await manager(`/api/cases/${encodeURIComponent(caseId)}?as_of=${before}`)).json();
      expect(then.as_of).toBe(before);
      expect(then.events.every((e: { occurred_at: string }) => e.occurred_at <= before)).toBe(true);
      expect(then.events.length).toBeLessThan(full.events.length);
      expect(then.case).toMatchObject({ status: 'closed', reopen_count: 0, age_days: null, past_due: false });
    });

    it('a case that does not exist, or is another agency\'s, is a 404 that reads the same', async () => {
      const other = await t.wh.one<{ case_id: string; agency: string }>(`SELECT case_id, agency FROM cases WHERE agency <> $a ORDER BY case_id LIMIT 1`, { a: AGENCY });
      const mine = await t.wh.one<{ case_id: string }>(`SELECT case_id FROM cases WHERE agency = $a ORDER BY case_id LIMIT 1`, { a: AGENCY });
      expect((await manager(`/api/cases/${encodeURIComponent(other!.case_id)}`)).statusCode).toBe(200);
      const hidden = await scoped(`/api/cases/${encodeURIComponent(other!.case_id)}`);
      const missing = await scoped(`/api/cases/${encodeURIComponent('demo:NO-SUCH-CASE')}`);
      expect([hidden.statusCode, missing.statusCode]).toEqual([404, 404]);
      expect(hidden.json().message.replace(other!.case_id, 'X')).toBe(missing.json().message.replace('demo:NO-SUCH-CASE', 'X'));
      expect(hidden.body).not.toContain(other!.agency);
      expect((await scoped(`/api/cases/${encodeURIComponent(mine!.case_id)}`)).statusCode).toBe(200);
    });
  });

  it("an agency-scoped manager's lists hold only that agency's cases: the unscoped list filtered to it", async () => {
    for (const m of ['opened', 'backlog', 'closed_in_period']) {
      const mine = await list(scoped, `${WINDOW}&measure=${m}&page_size=500`);
      const all = await list(manager, `${WINDOW}&measure=${m}&page_size=500&agency=${AGENCY}`);
      const city = await list(manager, `${WINDOW}&measure=${m}&page_size=1`);
      expect(mine.total, m).toBe(all.total);
      expect(mine.total, m).toBeLessThan(city.total);
      expect(mine.rows).toEqual(all.rows);
      expect(new Set(mine.rows.map((r) => r.agency))).toEqual(new Set([AGENCY]));
    }
    const csv = parse((await scoped(`/api/cases?${WINDOW}&measure=opened&format=csv`)).body, { columns: true }) as Record<string, string>[];
    expect(new Set(csv.map((r) => r.agency))).toEqual(new Set([AGENCY]));
    const other = await scoped(`/api/cases?${WINDOW}&measure=opened&agency=Parks`);
    expect(other.statusCode).toBe(400);
  });

  it('cases are for admins and managers: planners and public tokens get 403, no credential 401', async () => {
    const anyCase = (await list(admin, `${WINDOW}&measure=opened&page_size=1`)).rows[0].case_id;
    const publicToken = await bearer(t.wh, 'public');
    for (const url of [`/api/cases?${WINDOW}&measure=opened`, `/api/cases?${WINDOW}&measure=opened&format=csv`, `/api/cases/${encodeURIComponent(anyCase)}`]) {
      const p = await planner(url);
      expect(p.statusCode, url).toBe(403);
      expect(p.json().message, url).toBe('This needs the role admin or manager; the token has planner.');
      expect((await fastify.inject({ url, headers: publicToken })).statusCode, url).toBe(403);
      expect((await fastify.inject(url)).statusCode, url).toBe(401);
      expect((await admin(url)).statusCode, url).toBe(200);
    }
    // Refused before its parameters are read: a planner learns nothing about valid measures.
    expect((await planner('/api/cases?measure=nope')).statusCode).toBe(403);
  });

  it('a bad measure, sort, order or page is a 400 that names the valid values', async () => {
    const valid = DRILLABLE_MEASURES.map((m) => m.name).join(', ');
    const missing = await manager(`/api/cases?${WINDOW}`);
    expect(missing.statusCode).toBe(400);
    expect(missing.json().message).toMatch(/measure/);
    for (const [measure, why] of [
      ['openned', /^querystring\/measure "openned" is not a measure \(did you mean "opened"\?\)/],
      ['on_time_rate', /^querystring\/measure "on_time_rate" is a rate: its cases are those of on_time \(numerator\) and on_time_denominator \(denominator\)/],
      ['survey_responses', /^querystring\/measure "survey_responses" counts answers, not cases/],
      ['inbound_contacts', /counts contacts, not cases/],
      ['median_hours_to_close', /is not a count of cases/],
    ] as const) {
      const res = await manager(`/api/cases?${WINDOW}&measure=${measure}`);
      expect(res.statusCode, measure).toBe(400);
      expect(res.json().message, measure).toMatch(why);
      expect(res.json().message, measure).toContain(`A case list is one of: ${valid}`);
    }
    const sort = await manager(`/api/cases?${WINDOW}&measure=opened&sort=citizen_key`);
    expect(sort.statusCode).toBe(400);
    expect(sort.json().message).toBe(`querystring/sort must be one of ${CASE_SORTS.map((s) => `"${s}"`).join(', ')} (got "citizen_key")`);
    const order = await manager(`/api/cases?${WINDOW}&measure=opened&order=up`);
    expect(order.json().message).toBe('querystring/order must be one of "asc", "desc" (got "up")');
    for (const bad of ['page_size=501', 'page_size=0', 'page=0', 'servce=POTHOLE', 'area_kind=ward']) {
      const res = await manager(`/api/cases?${WINDOW}&measure=opened&${bad}`);
      expect(res.statusCode, bad).toBe(400);
    }
  });
});

describe('a download past the row limit', () => {
  it('is a 413 that says what to narrow; a page of the same list is fine', async () => {
    const t = await demoWarehouse();
    const small = Fastify({ logger: false, ...FASTIFY_OPTIONS });
    try {
      await small.register(app, { warehouse: t.wh, config: TZ_CONFIG, dashboardDir: '/nonexistent', limits: { max_query_rows: 100 } });
      await small.ready();
      const headers = await bearer(t.wh, 'manager');
      const res = await small.inject({ url: `/api/cases?${WINDOW}&measure=opened&format=csv`, headers });
      expect(res.statusCode).toBe(413);
      expect(res.json().message).toMatch(/^3,0\d\d cases match; a download may hold at most 100 \(limits\.max_query_rows\)\. Narrow it: /);
      expect((await small.inject({ url: `/api/cases?${WINDOW}&measure=opened&page_size=50`, headers })).statusCode).toBe(200);
    } finally {
      await small.close();
      t.cleanup();
    }
  });
});
