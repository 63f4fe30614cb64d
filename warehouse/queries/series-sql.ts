// Pure builder: case counts per group and local period, zero-filled — a day or week with no
// requests is a 0 in the series, not a gap, or trend tests and baselines would be biased up. But
// only from where each group's data starts: weeks before a service or area had any request (or
// before the export begins) are not zeros, they are no data, and counting them as zeros makes
// every series look like an anomaly and hides real trends. Only whole weeks are counted: a week
// cut by the start of the data or the end of the window would read as a drop.
import { query, type Query } from '../db.ts';
import { localDaySql, selectCases, type CaseSelection } from './case-predicates.ts';

export const SERIES_GROUPS = ['service', 'area'] as const;
export type SeriesGroup = (typeof SERIES_GROUPS)[number];
export type SeriesPeriod = 'day' | 'week';

export function buildCountSeriesQuery(by: readonly SeriesGroup[], period: SeriesPeriod, sel: CaseSelection): Query {
  const local = localDaySql('opened_at', sel.local_days);
  const trunc = period === 'day' ? local : `date_trunc('week', ${local})::DATE`;
  const counts = selectCases(sel, { by, columns: [`${trunc} AS period`] });
  // Each group's first request ever (by the as-of time, under the same filters and scope).
  const firsts = selectCases(sel, { by, sinceEver: true, columns: [`${local} AS day`] });
  const keys = by.length ? by.join(', ') : null;
  const groupCols = keys ? `${keys}, ` : '';
  // The first whole period on or after a day: that day itself, or the next Monday.
  const firstWhole = (d: string) => (period === 'day' ? d : `(${d} + ((8 - isodow(${d})) % 7)::INTEGER)`);
  const joinOn = by.map((g) => `c.${g} = g.${g}`).join(' AND ') || 'true';
  const sql = `
WITH counts AS (
  SELECT ${groupCols}period, count(*)::INTEGER AS n FROM (${counts.sql}) GROUP BY ALL
), firsts AS (
  SELECT ${groupCols}min(day) AS first_day FROM (${firsts.sql}) ${keys ? `GROUP BY ${keys}` : ''}
), bounds AS (
  -- The data's own first day (any group): a series never starts in the export's first, cut week.
  SELECT min(first_day) AS data_first FROM firsts
), groups AS (
  SELECT ${groupCols}greatest(${firstWhole('$from::DATE')}, ${firstWhole('b.data_first')},
                              ${period === 'day' ? 'f.first_day' : `date_trunc('week', f.first_day)::DATE`}) AS start
  FROM firsts f, bounds b
  ${keys ? `WHERE EXISTS (SELECT 1 FROM counts c WHERE ${by.map((g) => `c.${g} = f.${g}`).join(' AND ')})` : ''}
), end_day AS (
  -- Nothing after the as-of time is seen: a window that reaches past it ends on the as-of day.
  SELECT least($to::DATE, ($as_of::TIMESTAMPTZ AT TIME ZONE $tz)::DATE) AS d
), last AS (
  -- The last whole period on or before that day.
  SELECT ${period === 'day' ? 'd' : `(d - (isodow(d) % 7)::INTEGER - 6)`} AS last_period FROM end_day
)
-- Sparse: one row per group and period with requests, plus each group's first and last period.
-- The zeros between are filled by the caller (zeroFill): thousands of groups × hundreds of days
-- are mostly zeros, and shipping them would hit the row cap on a city of ten thousand requests.
SELECT ${[...by.map((g) => `g.${g}`), `strftime(g.start, '%Y-%m-%d') AS start`, `strftime(l.last_period, '%Y-%m-%d') AS last`,
  `strftime(c.period, '%Y-%m-%d') AS period`, 'c.n'].join(', ')}
FROM groups g CROSS JOIN last l
JOIN counts c ON ${joinOn} AND c.period >= g.start AND c.period <= l.last_period
WHERE g.start <= l.last_period
ORDER BY ${[...by.map((g) => `g.${g}`), 'c.period'].join(', ')}`;
  return query(sql, { ...counts.params, ...firsts.params, as_of: sel.window.as_of, tz: sel.window.timezone });
}

const stepMs = (period: SeriesPeriod) => (period === 'day' ? 1 : 7) * 86_400_000;

/** How many periods `periodsBetween` lists, without listing them. */
export function periodCount(start: string, last: string, period: SeriesPeriod): number {
  return Math.max(0, Math.floor((Date.parse(`${last}T00:00:00Z`) - Date.parse(`${start}T00:00:00Z`)) / stepMs(period)) + 1);
}

/** The periods from `start` to `last` (YYYY-MM-DD, inclusive), a day or a week apart. */
export function periodsBetween(start: string, last: string, period: SeriesPeriod): string[] {
  const step = stepMs(period);
  const out: string[] = [];
  for (let t = Date.parse(`${start}T00:00:00Z`), end = Date.parse(`${last}T00:00:00Z`); t <= end; t += step) out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}
