// Pure builder: case counts per group and local period, zero-filled — a day or week with no
// requests is a 0 in the series, not a gap, or trend tests and baselines would be biased up. But
// only from where each group's data starts: weeks before a service or area had any request (or
// before the export begins) are not zeros, they are no data, and counting them as zeros makes
// every series look like an anomaly and hides real trends. Only whole weeks are counted: a week
// cut by the start of the data or the end of the window would read as a drop.
import { query, type Query } from '../db.ts';
import { selectCases, type CaseSelection } from './case-predicates.ts';

export const SERIES_GROUPS = ['service', 'area'] as const;
export type SeriesGroup = (typeof SERIES_GROUPS)[number];
export type SeriesPeriod = 'day' | 'week';

export function buildCountSeriesQuery(by: readonly SeriesGroup[], period: SeriesPeriod, sel: CaseSelection): Query {
  const local = `(c.opened_at AT TIME ZONE $tz)`;
  const trunc = period === 'day' ? `${local}::DATE` : `date_trunc('week', ${local})::DATE`;
  const counts = selectCases(sel, { by, columns: [`${trunc} AS period`] });
  // Each group's first request ever (by the as-of time, under the same filters and scope).
  const firsts = selectCases(sel, { by, sinceEver: true, columns: [`${local}::DATE AS day`] });
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
), periods AS (
  SELECT ${groupCols}unnest(generate_series(start, (SELECT last_period FROM last), INTERVAL 1 ${period}))::DATE AS period
  FROM groups WHERE start <= (SELECT last_period FROM last)
)
SELECT ${[...by.map((g) => `g.${g}`), `strftime(g.period, '%Y-%m-%d') AS period`, 'coalesce(c.n, 0)::INTEGER AS n'].join(', ')}
FROM periods g
LEFT JOIN counts c ON c.period = g.period AND ${joinOn}
ORDER BY ${[...by.map((g) => `g.${g}`), 'g.period'].join(', ')}`;
  return query(sql, { ...counts.params, ...firsts.params, as_of: sel.window.as_of, tz: sel.window.timezone });
}
