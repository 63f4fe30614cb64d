// Service KPIs as DESIGN.md defines them: counts in SQL, Kaplan–Meier in TypeScript.
import type { Warehouse } from '../db.ts';
import { buildKmObservationsQuery, buildKpiCountsQuery, type Dimension, type KpiWindow } from './kpis-sql.ts';
import { kaplanMeier, kmSummary, type KmObservation } from './survival.ts';

export interface KpiRow {
  service?: string;
  agency?: string;
  channel?: string;
  week?: string;
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
}

export interface KpiResult { as_of: string; from: string; to: string; timezone: string; by: Dimension[]; rows: KpiRow[] }

/** The newest event time: what the data is "as of" when the caller does not say. */
export async function dataAsOf(wh: Warehouse): Promise<string | null> {
  const r = await wh.one<{ t: string | null }>(`SELECT strftime(max(occurred_at), '%Y-%m-%dT%H:%M:%S.%fZ') AS t FROM case_events`);
  return r?.t ?? null;
}

const hours = (seconds: number | null) => (seconds === null ? null : Math.round((seconds / 3600) * 1000) / 1000);

export async function computeKpis(wh: Warehouse, by: readonly Dimension[], window: KpiWindow): Promise<KpiResult> {
  const counts = buildKpiCountsQuery(by, window);
  const km = buildKmObservationsQuery(by, window);
  const [countRows, obsRows] = [
    await wh.all<Record<string, string | number>>(counts.sql, counts.params),
    await wh.all<Record<string, string | number>>(km.sql, km.params),
  ];
  const key = (r: Record<string, unknown>) => JSON.stringify(by.map((d) => r[d]));
  const obsByGroup = new Map<string, KmObservation[]>();
  for (const r of obsRows) {
    const k = key(r);
    const list = obsByGroup.get(k) ?? [];
    list.push({ time: Number(r.seconds), events: Number(r.events), censored: Number(r.censored) });
    obsByGroup.set(k, list);
  }
  const rows = countRows.map((r) => {
    const s = kmSummary(kaplanMeier(obsByGroup.get(key(r)) ?? []));
    const dims = Object.fromEntries(by.map((d) => [d, String(r[d])]));
    const den = Number(r.on_time_denominator);
    return {
      ...dims,
      opened: Number(r.opened),
      closed: Number(r.closed),
      cancelled: Number(r.cancelled),
      median_hours_to_close: hours(s.median),
      median_hours_ci_lower: hours(s.median_lower),
      median_hours_ci_upper: hours(s.median_upper),
      p90_hours_to_close: hours(s.p90),
      on_time_rate: den > 0 ? Number(r.on_time) / den : null,
      on_time: Number(r.on_time),
      on_time_denominator: den,
      pending: Number(r.pending),
      excluded_data_errors: Number(r.excluded_data_errors),
    } as KpiRow;
  });
  return { as_of: window.as_of, from: window.from, to: window.to, timezone: window.timezone, by: [...by], rows };
}

export class WindowError extends Error {
  constructor(readonly parameter: string, message: string) {
    super(message);
    this.name = 'WindowError';
  }
}

/**
 * Fills in a KPI window the way every caller (API, CLI, reports) does: as-of defaults to the
 * newest event; `to` to the local day of the newest case opened by then (so a historical
 * export still shows its own last weeks); `from` to 12 weeks before `to`.
 */
export async function resolveWindow(
  wh: Warehouse,
  req: { from?: string; to?: string; as_of?: string },
  timezone: string,
): Promise<KpiWindow> {
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
            strftime(coalesce($from::DATE, to_day - 83), '%Y-%m-%d') AS from,
            strftime($as_of::TIMESTAMPTZ, '%Y-%m-%dT%H:%M:%S.%gZ') AS as_of
     FROM d`,
    { to: req.to ?? null, from: req.from ?? null, as_of: asOf, tz: timezone },
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
