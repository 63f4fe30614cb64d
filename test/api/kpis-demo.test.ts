// The demo city end to end: every breakdown adds up to the coarser one, and the HTTP API returns
// every measure (Fastify's serializer drops any field its response schema does not name).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoWarehouse } from '../demo-warehouse.ts';
import type { FastifyInstance } from 'fastify';
import { injectAs, testApp, type Inject } from '../app-helper.ts';
import { DEMO_SERVICES } from '../../ingest/demo-city.ts';
import type { TempWarehouse } from '../helpers.ts';
import { computeKpis, resolveWindow, type KpiRow } from '../../warehouse/analytics/kpis.ts';
import type { KpiWindow } from '../../warehouse/queries/kpi-sql.ts';

/** Counts that add up across any split of a group. */
const ADDITIVE = [
  'opened', 'closed', 'cancelled', 'on_time', 'on_time_denominator', 'pending', 'excluded_data_errors', 'excluded_first_response_errors',
  'backlog', 'backlog_0_2d', 'backlog_3_7d', 'backlog_8_30d', 'backlog_over_30d', 'backlog_past_due',
  'survey_responses', 'csat_responses', 'nps_responses',
  'closed_in_period', 'on_time_closed_cohort', 'on_time_closed_cohort_denominator', 'reopened_within_30d', 'reopen_pending',
  'fcr_cases', 'fcr_measured_resolved', 'fcr_reported_resolved', 'fcr_pending', 'inbound_contacts',
] as const satisfies readonly (keyof KpiRow)[];

const sum = (rows: KpiRow[], f: (typeof ADDITIVE)[number]) => rows.reduce((s, r) => s + r[f], 0);

describe('KPIs on the demo city', () => {
  let t: TempWarehouse;
  let w: KpiWindow;
  let fastify: FastifyInstance;
  let staff: Inject;
  beforeAll(async () => {
    t = await demoWarehouse();
    w = await resolveWindow(t.wh, { from: '2026-05-01' }, 'America/New_York');
    fastify = await testApp(t.wh);
    staff = await injectAs(fastify, t.wh, 'manager');
  });
  afterAll(async () => {
    await fastify.close();
    t.cleanup();
  });

  it('by area and month adds up to the monthly totals', async () => {
    const monthly = (await computeKpis(t.wh, ['month'], w)).rows;
    const split = (await computeKpis(t.wh, ['area', 'month'], w)).rows;
    expect(monthly.map((r) => r.month)).toEqual(['2026-05-01', '2026-06-01', '2026-07-01', '2026-08-01', '2026-09-01', '2026-10-01', '2026-11-01']);
    expect(new Set(split.map((r) => r.area))).toEqual(new Set(Array.from({ length: 8 }, (_, i) => `District ${i + 1}`)));
    for (const m of monthly) {
      const parts = split.filter((r) => r.month === m.month);
      for (const f of ADDITIVE) expect([m.month, f, sum(parts, f)]).toEqual([m.month, f, m[f]]);
      // The channel mix, weighted back to counts, adds up too.
      for (const [ch, share] of Object.entries(m.channel_mix)) {
        expect(parts.reduce((s, r) => s + (r.channel_mix[ch] ?? 0) * r.opened, 0)).toBeCloseTo(share * m.opened, 6);
      }
    }
    // Not a vacuous sum: every measure family has data in the demo city.
    const total = (f: (typeof ADDITIVE)[number]) => sum(monthly, f);
    for (const f of ['backlog', 'survey_responses', 'closed_in_period', 'reopened_within_30d', 'fcr_measured_resolved', 'inbound_contacts'] as const) {
      expect(total(f), f).toBeGreaterThan(0);
    }
  });

  it('by service group: one row per group of the catalogue, adding up to the whole', async () => {
    const all = (await computeKpis(t.wh, [], w)).rows[0];
    const groups = (await computeKpis(t.wh, ['service_group'], w)).rows;
    expect(groups.map((r) => r.service_group)).toEqual([...new Set(DEMO_SERVICES.map((s) => s.group))].sort());
    for (const f of ADDITIVE) expect([f, sum(groups, f)]).toEqual([f, all[f]]);
    // Rates stay within their bounds.
    for (const r of groups) {
      for (const v of [r.on_time_rate_closed_cohort, r.reopen_rate, r.fcr_measured, r.csat_top2, r.backlog_past_due_share]) {
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
      }
      expect(r.nps).toBeGreaterThanOrEqual(-100);
      expect(r.nps).toBeLessThanOrEqual(100);
      expect(r.median_hours_to_first_response).toBeGreaterThan(0);
      expect(r.median_hours_to_first_response).toBeLessThan(r.median_hours_to_close!);
    }
  });

  it('the API returns every field computeKpis does, and filters by service', async () => {
    const res = await staff(`/api/kpis?by=area,month&from=${w.from}&to=${w.to}&as_of=${w.as_of}`);
    expect(res.statusCode).toBe(200);
    const direct = await computeKpis(t.wh, ['area', 'month'], w);
    expect(res.json()).toEqual(JSON.parse(JSON.stringify(direct)));

    const pothole = await staff(`/api/kpis?by=service,quarter&service=POTHOLE&from=${w.from}&to=${w.to}`);
    expect(pothole.statusCode).toBe(200);
    const body = pothole.json();
    expect(body.filter).toEqual({ service: 'POTHOLE' });
    expect(new Set(body.rows.map((r: KpiRow) => r.service))).toEqual(new Set(['Pothole Repair']));
    expect(body.rows.map((r: KpiRow) => r.quarter)).toEqual(['2026-04-01', '2026-07-01', '2026-10-01']);
  });

  it('CSV keeps its 12 columns unless asked for all, then spreads the channel mix over columns', async () => {
    const core = await staff(`/api/kpis?by=service_group&from=${w.from}&to=${w.to}&format=csv`);
    expect(core.body.split('\r\n')[0]).toBe('service_group,opened,closed,cancelled,median_hours_to_close,median_hours_ci_lower,median_hours_ci_upper,p90_hours_to_close,on_time_rate,on_time,on_time_denominator,pending,excluded_data_errors,closed_without_due_time');
    const all = await staff(`/api/kpis?by=service_group&from=${w.from}&to=${w.to}&format=csv&columns=all`);
    const [header, ...lines] = all.body.trim().split('\r\n');
    const cols = header.split(',');
    expect(cols).toEqual(expect.arrayContaining(['backlog_over_30d', 'on_time_rate_closed_cohort', 'reopen_rate', 'fcr_measured', 'fcr_reported', 'contacts_per_case', 'csat_top2', 'nps', 'median_hours_to_first_response']));
    expect(cols.filter((c) => c.startsWith('channel_mix_'))).toEqual(['channel_mix_app', 'channel_mix_email', 'channel_mix_phone', 'channel_mix_social', 'channel_mix_walk_in', 'channel_mix_web']);
    expect(lines).toHaveLength(6);
    const shares = lines.map((l) => cols.flatMap((c, i) => (c.startsWith('channel_mix_') ? [Number(l.split(',')[i])] : [])).reduce((a, b) => a + b, 0));
    for (const s of shares) expect(s).toBeCloseTo(1, 9);
  });

  it('refuses a dimension that is not on the list', async () => {
    for (const by of ['district', 'area,year', 'service;drop']) {
      const res = await staff(`/api/kpis?by=${encodeURIComponent(by)}`);
      expect(res.statusCode).toBe(400);
      expect(res.json().message).toMatch(/querystring\/by "[^"]+" is not one of service, /);
    }
  });
});
