// Service KPIs as DESIGN.md defines them, computed in DuckDB; R's Kaplan–Meier quantile rules in
// TypeScript (survival.ts). Only aggregates leave DuckDB: one row per group and cohort, and at
// most nine curve points per group and duration, however many cases there are.
import type { Warehouse } from '../db.ts';
import { ParameterError } from '../errors.ts';
import {
  buildClosedCohortQuery,
  buildKmCurveQuery,
  buildKpiCountsQuery,
  type Dimension,
  type KmDuration,
  type KpiFilter,
  type KpiWindow,
} from '../queries/kpi-sql.ts';
import { kmSummary, type KmCurve, type KmSummary } from '../stats/kaplan-meier.ts';

export interface KpiRow {
  service?: string;
  service_group?: string;
  agency?: string;
  channel?: string;
  /** The area's name (its id where the areas table has no name for it). */
  area?: string;
  /** Periods are labelled by their first local day (YYYY-MM-DD); a week starts on Monday. */
  day?: string;
  week?: string;
  month?: string;
  quarter?: string;

  // Opened cohort: cases opened in the period.
  opened: number;
  closed: number;
  cancelled: number;
  /** Kaplan–Meier median time to close, hours; open cases censored at the as-of time. */
  median_hours_to_close: number | null;
  median_hours_ci_lower: number | null;
  median_hours_ci_upper: number | null;
  p90_hours_to_close: number | null;
  /** Opened cohort: closed by due ÷ (closed + open and past due). */
  on_time_rate: number | null;
  on_time: number;
  on_time_denominator: number;
  /** Open and not yet due: neither on time nor late yet. */
  pending: number;
  /** Closed before opened: excluded from durations and on-time, counted here. */
  excluded_data_errors: number;
  /** Kaplan–Meier median time from opening to the first response, hours; cases without one censored at the as-of time. */
  median_hours_to_first_response: number | null;
  /** First response stamped before opening: excluded from the time to first response, counted here. */
  excluded_first_response_errors: number;
  /** Open at the as-of time (not closed or cancelled by then, or reopened since). */
  backlog: number;
  /** The backlog by whole days open at the as-of time: under 3, 3–7, 8–30, over 30. */
  backlog_0_2d: number;
  backlog_3_7d: number;
  backlog_8_30d: number;
  backlog_over_30d: number;
  /** Backlog cases past their due time at the as-of time. */
  backlog_past_due: number;
  /** backlog_past_due ÷ backlog. */
  backlog_past_due_share: number | null;
  /** Share of the opened cases by intake channel. */
  channel_mix: Record<string, number>;
  /** Survey answers (given by the as-of time) on the cases opened in the period. */
  survey_responses: number;
  csat_responses: number;
  /** Share of CSAT answers that are 4 or 5. */
  csat_top2: number | null;
  csat_mean: number | null;
  nps_responses: number;
  /** Net promoter score, −100 to 100: %(9–10) − %(0–6). */
  nps: number | null;

  // Closed cohort: cases first closed in the period (a period dimension cuts them by that close).
  closed_in_period: number;
  /** Closed-cohort variant: closed in the period by due ÷ closed in the period with a due time. */
  on_time_rate_closed_cohort: number | null;
  on_time_closed_cohort: number;
  on_time_closed_cohort_denominator: number;
  /** Closed in the period and reopened within 30 days ÷ closed in the period. */
  reopen_rate: number | null;
  reopened_within_30d: number;
  /** Closed in the period, not reopened, and 30 days not yet over at the as-of time. */
  reopen_pending: number;
  /** Measured first-contact resolution: fcr_measured_resolved ÷ fcr_cases. */
  fcr_measured: number | null;
  /** Agent-reported first-contact resolution: fcr_reported_resolved ÷ fcr_cases. */
  fcr_reported: number | null;
  /** Closed in the period with at least one inbound contact. */
  fcr_cases: number;
  /** One inbound contact up to closing, no new inbound contact nor reopening within 7 days after. */
  fcr_measured_resolved: number;
  /** The first inbound contact's outcome says resolved at first contact. */
  fcr_reported_resolved: number;
  /** Counted as resolved at first contact, but 7 days not yet over at the as-of time. */
  fcr_pending: number;
  /** Inbound contacts on the cases closed in the period ÷ those cases. */
  contacts_per_case: number | null;
  inbound_contacts: number;
  /** Repeat-contact rate: cases with two or more inbound contacts within 7 days of the first ÷ fcr_cases. */
  repeat_contact_rate: number | null;
  repeat_contact_cases: number;
}

export interface KpiResult {
  as_of: string;
  from: string;
  to: string;
  timezone: string;
  by: Dimension[];
  /** The filters applied (only those given). */
  filter: KpiFilter;
  rows: KpiRow[];
}

/** The newest event time: what the data is "as of" when the caller does not say. */
export async function dataAsOf(wh: Warehouse): Promise<string | null> {
  const r = await wh.one<{ t: string | null }>(`SELECT strftime(max(occurred_at), '%Y-%m-%dT%H:%M:%S.%fZ') AS t FROM case_events`);
  return r?.t ?? null;
}

const hours = (seconds: number | null) => (seconds === null ? null : Math.round((seconds / 3600) * 1000) / 1000);
const ratio = (num: number, den: number) => (den > 0 ? num / den : null);

type SqlRow = Record<string, unknown>;

/** R's tolerance and the levels the KPIs read: S = 1 − q for the q-th quantile (median, P90). */
const KM_TARGETS = { tolerance: Math.sqrt(Number.EPSILON), median: 1 - 0.5, p90: 1 - 0.9 };

const NO_SUMMARY: KmSummary = { n: 0, events: 0, median: null, median_lower: null, median_upper: null, p90: null };

/**
 * Kaplan–Meier summaries per group. DuckDB builds each curve and returns only the points its
 * quantiles depend on; kmSummary (R's rules) reads them exactly as it would the whole curve.
 */
async function kmByGroup(wh: Warehouse, by: readonly Dimension[], window: KpiWindow, filter: KpiFilter, key: (r: SqlRow) => string) {
  const curves = new Map<string, KmCurve>();
  // A query per duration: measured faster than both in one (each sorts only its own rows).
  const rows: SqlRow[][] = [];
  for (const duration of ['close', 'first_response'] as const) {
    const q = buildKmCurveQuery(by, window, filter, [duration], KM_TARGETS);
    rows.push(await wh.all<SqlRow>(q.sql, q.params));
  }
  for (const r of rows.flat()) {
    const k = `${r.duration as KmDuration}${key(r)}`;
    let curve = curves.get(k);
    if (!curve) curves.set(k, (curve = { n: Number(r.n_total), events: Number(r.events_total), points: [] }));
    const surv = Number(r.surv);
    curve.points.push({
      time: Number(r.seconds),
      n_risk: Number(r.n_risk),
      n_event: Number(r.events),
      n_censor: Number(r.censored),
      surv,
      std_err: r.lower === null ? null : surv * Math.sqrt(Number(r.greenwood)),
      lower: r.lower === null ? null : Number(r.lower),
      upper: r.upper === null ? null : Number(r.upper),
    });
  }
  const summaries = new Map<string, KmSummary>();
  for (const [k, curve] of curves) {
    curve.points.sort((a, b) => a.time - b.time);
    summaries.set(k, kmSummary(curve));
  }
  return (duration: KmDuration, groupKey: string) => summaries.get(`${duration}${groupKey}`) ?? NO_SUMMARY;
}

const ZERO_OPENED = {
  opened: 0, closed: 0, cancelled: 0, excluded_data_errors: 0, on_time: 0, on_time_denominator: 0, pending: 0,
  excluded_first_response_errors: 0, backlog: 0, backlog_0_2d: 0, backlog_3_7d: 0, backlog_8_30d: 0, backlog_over_30d: 0,
  backlog_past_due: 0, channel_counts: [], survey_responses: 0, csat_responses: 0, csat_sum: 0, csat_top2_count: 0,
  nps_responses: 0, promoters: 0, detractors: 0,
};
const ZERO_CLOSED = {
  closed_in_period: 0, on_time_closed_cohort: 0, on_time_closed_cohort_denominator: 0, reopened_within_30d: 0, reopen_pending: 0,
  fcr_cases: 0, fcr_measured_resolved: 0, fcr_pending: 0, fcr_reported_resolved: 0, inbound_contacts: 0, repeat_contact_cases: 0,
};

/**
 * KPIs per group of `by` for the window. A row has the opened cohort's figures (cases opened in
 * its period) and the closed cohort's (cases first closed in its period); a group with only one
 * of the two gets zeros for the other. Rows come sorted by their dimensions.
 */
const PERIODS = new Set<string>(['day', 'week', 'month', 'quarter']);
const BACKLOG_FIELDS = ['backlog', 'backlog_0_2d', 'backlog_3_7d', 'backlog_8_30d', 'backlog_over_30d', 'backlog_past_due'] as const;
const queryArgs = (q: { sql: string; params: Record<string, unknown> }) => [q.sql, q.params] as [string, never];

export async function computeKpis(wh: Warehouse, by: readonly Dimension[], window: KpiWindow, filter: KpiFilter = {}): Promise<KpiResult> {
  const counts = buildKpiCountsQuery(by, window, filter);
  const closedQ = buildClosedCohortQuery(by, window, filter);
  const key = (r: SqlRow) => JSON.stringify(by.map((d) => r[d]));
  // One connection runs one statement at a time: awaiting in turn is no slower than together.
  const countRows = await wh.all<SqlRow>(counts.sql, counts.params);
  const closedRows = await wh.all<SqlRow>(closedQ.sql, closedQ.params);
  const km = await kmByGroup(wh, by, window, filter, key);
  // Backlog at T is every case opened by T and not closed by T (DESIGN.md), however long ago it
  // opened. Rows cut by period keep the backlog of their own period's cases (that is aging by
  // cohort); rows that are not cut by period count the whole backlog.
  const periodless = !by.some((d) => PERIODS.has(d));
  const backlogRows = periodless
    ? new Map((await wh.all<SqlRow>(...queryArgs(buildKpiCountsQuery(by, { ...window, from: '1900-01-01' }, filter)))).map((r) => [key(r), r]))
    : null;

  const groups = new Map<string, { dims: SqlRow; opened?: SqlRow; closed?: SqlRow }>();
  for (const r of countRows) groups.set(key(r), { dims: r, opened: r });
  for (const r of closedRows) {
    const g = groups.get(key(r));
    if (g) g.closed = r;
    else groups.set(key(r), { dims: r, closed: r });
  }

  const rows = [...groups.entries()].map(([k, g]) => {
    const o = { ...ZERO_OPENED, ...g.opened } as Record<string, unknown>;
    if (backlogRows) {
      const b = backlogRows.get(k) ?? ZERO_OPENED;
      for (const f of BACKLOG_FIELDS) o[f] = (b as Record<string, unknown>)[f];
    }
    const c = { ...ZERO_CLOSED, ...g.closed } as Record<string, unknown>;
    const n = (v: unknown) => Number(v);
    const close = km('close', k);
    const respond = km('first_response', k);
    const opened = n(o.opened);
    // fromEntries defines own properties, so a channel named like an Object builtin stays data.
    const channelMix: Record<string, number> = Object.fromEntries(
      ((o.channel_counts ?? []) as { key: string; value: string | number }[]).map((e) => [e.key, n(e.value) / opened]),
    );
    const csatN = n(o.csat_responses);
    const npsN = n(o.nps_responses);
    const row: KpiRow = {
      ...(Object.fromEntries(by.map((d) => [d, String(g.dims[d])])) as Partial<KpiRow>),
      opened,
      closed: n(o.closed),
      cancelled: n(o.cancelled),
      median_hours_to_close: hours(close.median),
      median_hours_ci_lower: hours(close.median_lower),
      median_hours_ci_upper: hours(close.median_upper),
      p90_hours_to_close: hours(close.p90),
      on_time_rate: ratio(n(o.on_time), n(o.on_time_denominator)),
      on_time: n(o.on_time),
      on_time_denominator: n(o.on_time_denominator),
      pending: n(o.pending),
      excluded_data_errors: n(o.excluded_data_errors),
      median_hours_to_first_response: hours(respond.median),
      excluded_first_response_errors: n(o.excluded_first_response_errors),
      backlog: n(o.backlog),
      backlog_0_2d: n(o.backlog_0_2d),
      backlog_3_7d: n(o.backlog_3_7d),
      backlog_8_30d: n(o.backlog_8_30d),
      backlog_over_30d: n(o.backlog_over_30d),
      backlog_past_due: n(o.backlog_past_due),
      backlog_past_due_share: ratio(n(o.backlog_past_due), n(o.backlog)),
      channel_mix: channelMix,
      survey_responses: n(o.survey_responses),
      csat_responses: csatN,
      csat_top2: ratio(n(o.csat_top2_count), csatN),
      csat_mean: ratio(n(o.csat_sum), csatN),
      nps_responses: npsN,
      nps: npsN > 0 ? (100 * (n(o.promoters) - n(o.detractors))) / npsN : null,
      closed_in_period: n(c.closed_in_period),
      on_time_rate_closed_cohort: ratio(n(c.on_time_closed_cohort), n(c.on_time_closed_cohort_denominator)),
      on_time_closed_cohort: n(c.on_time_closed_cohort),
      on_time_closed_cohort_denominator: n(c.on_time_closed_cohort_denominator),
      reopen_rate: ratio(n(c.reopened_within_30d), n(c.closed_in_period)),
      reopened_within_30d: n(c.reopened_within_30d),
      reopen_pending: n(c.reopen_pending),
      fcr_measured: ratio(n(c.fcr_measured_resolved), n(c.fcr_cases)),
      fcr_reported: ratio(n(c.fcr_reported_resolved), n(c.fcr_cases)),
      fcr_cases: n(c.fcr_cases),
      fcr_measured_resolved: n(c.fcr_measured_resolved),
      fcr_reported_resolved: n(c.fcr_reported_resolved),
      fcr_pending: n(c.fcr_pending),
      contacts_per_case: ratio(n(c.inbound_contacts), n(c.closed_in_period)),
      inbound_contacts: n(c.inbound_contacts),
      repeat_contact_rate: ratio(n(c.repeat_contact_cases), n(c.fcr_cases)),
      repeat_contact_cases: n(c.repeat_contact_cases),
    };
    return row;
  });
  rows.sort((a, b) => {
    for (const d of by) {
      const x = a[d] as string;
      const y = b[d] as string;
      if (x !== y) return x < y ? -1 : 1;
    }
    return 0;
  });
  const applied = Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== undefined && v !== null)) as KpiFilter;
  return { as_of: window.as_of, from: window.from, to: window.to, timezone: window.timezone, by: [...by], filter: applied, rows };
}

/** A bad analysis parameter: the API answers 400 with `querystring/<message>`. */
export class WindowError extends ParameterError {}

/**
 * Fills in a KPI window the way every caller (API, CLI, reports) does: as-of defaults to the
 * newest event; `to` to the local day of the newest case opened by then (so a historical
 * export still shows its own last weeks); `from` to `weeks` (default 12) weeks before `to`.
 */
export async function resolveWindow(
  wh: Warehouse,
  req: { from?: string; to?: string; as_of?: string; weeks?: number },
  timezone: string,
): Promise<KpiWindow> {
  const weeks = req.weeks ?? 12;
  if (!Number.isInteger(weeks) || weeks < 1) throw new WindowError('weeks', `weeks "${req.weeks}" must be a whole number of weeks`);
  for (const key of ['from', 'to'] as const) {
    const v = req[key];
    if (v !== undefined && !isCalendarDate(v)) throw new WindowError(key, `${key} "${v}" is not a calendar date (YYYY-MM-DD)`);
  }
  if (req.as_of !== undefined && !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(req.as_of)) {
    throw new WindowError('as_of', `as_of "${req.as_of}" is not an ISO 8601 time with an offset (e.g. 2026-11-15T23:59:00Z)`);
  }
  const asOf = req.as_of ?? (await dataAsOf(wh)) ?? new Date().toISOString();
  const r = (await wh.one<{ to: string; from: string; as_of: string }>(
    `WITH latest AS (
       SELECT coalesce(max(opened_at), $as_of::TIMESTAMPTZ) AS t FROM cases WHERE opened_at <= $as_of::TIMESTAMPTZ
     ), d AS (
       SELECT coalesce($to::DATE, (t AT TIME ZONE $tz)::DATE) AS to_day FROM latest
     )
     SELECT strftime(to_day, '%Y-%m-%d') AS to,
            strftime(coalesce($from::DATE, to_day - $days_back), '%Y-%m-%d') AS from,
            strftime($as_of::TIMESTAMPTZ, '%Y-%m-%dT%H:%M:%S.%gZ') AS as_of
     FROM d`,
    { to: req.to ?? null, from: req.from ?? null, as_of: asOf, tz: timezone, days_back: 7 * weeks - 1 },
  ))!;
  if (r.from > r.to) throw new WindowError('from', `from (${r.from}) must be on or before to (${r.to})`);
  return { from: r.from, to: r.to, as_of: r.as_of, timezone };
}

function isCalendarDate(v: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  if (!m) return false;
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
  return d.getUTCFullYear() === +m[1] && d.getUTCMonth() === +m[2] - 1 && d.getUTCDate() === +m[3];
}
