// Pure builder: case counts per group and local period, zero-filled — a day or week with no
// requests is a 0 in the series, not a gap, or trend tests and baselines would be biased up.
import { query, type Query } from '../db.ts';

export const SERIES_GROUPS = {
  service: `coalesce(c.service_name, c.service_code, '(unknown service)')`,
  area: `coalesce(a.name, c.area_id, c.area_name, '(no area)')`,
} as const;
export type SeriesGroup = keyof typeof SERIES_GROUPS;
export type Period = 'day' | 'week';

export interface SeriesWindow { from: string; to: string; timezone: string; service?: string }

export function buildCountSeriesQuery(by: readonly SeriesGroup[], period: Period, w: SeriesWindow): Query {
  const keys = by.map((g) => `${SERIES_GROUPS[g]} AS ${g}`);
  const trunc = period === 'day' ? `(c.opened_at AT TIME ZONE $tz)::DATE` : `date_trunc('week', c.opened_at AT TIME ZONE $tz)::DATE`;
  const first = period === 'day' ? `$from::DATE` : `date_trunc('week', $from::DATE)::DATE`;
  const sql = `
WITH counts AS (
  SELECT ${[...keys, `${trunc} AS period`, 'count(*)::INTEGER AS n'].join(', ')}
  FROM cases c LEFT JOIN areas a ON a.area_id = c.area_id
  WHERE c.opened_at >= timezone($tz, $from::DATE::TIMESTAMP) AND c.opened_at < timezone($tz, ($to::DATE + 1)::TIMESTAMP)
    AND ($service IS NULL OR c.service_code = $service OR c.service_name = $service)
  GROUP BY ALL
), groups AS (SELECT DISTINCT ${by.length ? by.join(', ') : '1 AS one'} FROM counts),
periods AS (SELECT unnest(generate_series(${first}, $to::DATE, INTERVAL 1 ${period}))::DATE AS period)
SELECT ${[...by.map((g) => `g.${g}`), `strftime(p.period, '%Y-%m-%d') AS period`, 'coalesce(c.n, 0)::INTEGER AS n'].join(', ')}
FROM groups g CROSS JOIN periods p
LEFT JOIN counts c ON c.period = p.period${by.map((g) => ` AND c.${g} = g.${g}`).join('')}
ORDER BY ${[...by.map((g) => `g.${g}`), 'p.period'].join(', ')}`;
  return query(sql, { tz: w.timezone, from: w.from, to: w.to, service: w.service ?? null });
}
