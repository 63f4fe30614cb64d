// Pure SQL builders for the KPI queries. Grouping dimensions come only from DIMENSIONS (the
// allow-list); dates, zone and as-of time are bound values.
import type { Query } from '../db.ts';

export const DIMENSIONS = {
  service: `coalesce(c.service_name, c.service_code, '(unknown service)')`,
  agency: `coalesce(c.agency, '(unknown agency)')`,
  channel: `coalesce(c.channel, '(unknown channel)')`,
  week: `strftime(date_trunc('week', c.opened_at AT TIME ZONE $tz), '%Y-%m-%d')`,
} as const;
export type Dimension = keyof typeof DIMENSIONS;
export const isDimension = (d: string): d is Dimension => Object.hasOwn(DIMENSIONS, d);

export interface KpiWindow {
  /** First local day (YYYY-MM-DD), inclusive. */
  from: string;
  /** Last local day (YYYY-MM-DD), inclusive. */
  to: string;
  /** ISO timestamp: what "now" is for open cases. */
  as_of: string;
  timezone: string;
}

function base(by: readonly Dimension[], w: KpiWindow) {
  const dims = by.map((d) => `${DIMENSIONS[d]} AS ${d}`);
  // Opened cohort: cases opened on a local day in [from, to], and no later than the as-of time.
  const where = `c.opened_at >= timezone($tz, $from::DATE::TIMESTAMP)
      AND c.opened_at <  timezone($tz, ($to::DATE + 1)::TIMESTAMP)
      AND c.opened_at <= $as_of::TIMESTAMPTZ`;
  const params = { tz: w.timezone, from: w.from, to: w.to, as_of: w.as_of };
  return { dims, where, params };
}

/** Counts per group: volume, on-time numerator/denominator/pending, data errors. */
export function buildKpiCountsQuery(by: readonly Dimension[], w: KpiWindow): Query {
  const { dims, where, params } = base(by, w);
  const closedByAsOf = `(c.closed_at IS NOT NULL AND c.closed_at <= $as_of::TIMESTAMPTZ)`;
  const dataError = `coalesce(c.closed_at < c.opened_at, false)`;
  const sql = `
SELECT ${[...dims, `
  count(*)::INTEGER AS opened,
  count(*) FILTER (WHERE ${closedByAsOf})::INTEGER AS closed,
  count(*) FILTER (WHERE c.status = 'cancelled' AND c.cancelled_at <= $as_of::TIMESTAMPTZ)::INTEGER AS cancelled,
  count(*) FILTER (WHERE ${dataError})::INTEGER AS excluded_data_errors,
  count(*) FILTER (WHERE NOT ${dataError} AND c.due_at IS NOT NULL AND ${closedByAsOf} AND c.closed_at <= c.due_at)::INTEGER AS on_time,
  count(*) FILTER (WHERE NOT ${dataError} AND c.due_at IS NOT NULL AND c.status <> 'cancelled'
                     AND (${closedByAsOf} OR c.due_at < $as_of::TIMESTAMPTZ))::INTEGER AS on_time_denominator,
  count(*) FILTER (WHERE c.due_at IS NOT NULL AND c.status <> 'cancelled' AND NOT ${closedByAsOf}
                     AND c.due_at >= $as_of::TIMESTAMPTZ)::INTEGER AS pending`].join(',\n  ')}
FROM cases c
WHERE ${where}
${by.length ? `GROUP BY ${by.map((_, i) => i + 1).join(', ')} ORDER BY ${by.map((_, i) => i + 1).join(', ')}` : ''}`;
  return { sql, params };
}

/**
 * Time-to-close observations per group for Kaplan–Meier: each distinct duration (seconds) with
 * its count of closes (events) and of cases still open at the as-of time (censored there).
 * Cancelled cases and data errors (closed before opened) are left out.
 */
export function buildKmObservationsQuery(by: readonly Dimension[], w: KpiWindow): Query {
  const { dims, where, params } = base(by, w);
  const closedByAsOf = `(c.closed_at IS NOT NULL AND c.closed_at <= $as_of::TIMESTAMPTZ)`;
  const sql = `
WITH d AS (
  SELECT ${[...dims,
    `CASE WHEN ${closedByAsOf} THEN epoch(c.closed_at - c.opened_at) ELSE epoch($as_of::TIMESTAMPTZ - c.opened_at) END AS seconds`,
    `${closedByAsOf} AS ended`].join(', ')}
  FROM cases c
  WHERE ${where}
    AND NOT coalesce(c.closed_at < c.opened_at, false)
    AND NOT (c.status = 'cancelled' AND c.cancelled_at <= $as_of::TIMESTAMPTZ)
)
SELECT ${[...by, 'seconds',
  `count(*) FILTER (WHERE ended)::INTEGER AS events`,
  `count(*) FILTER (WHERE NOT ended)::INTEGER AS censored`].join(', ')}
FROM d
GROUP BY ALL`;
  return { sql, params };
}
