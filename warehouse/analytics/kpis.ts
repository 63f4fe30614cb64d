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
