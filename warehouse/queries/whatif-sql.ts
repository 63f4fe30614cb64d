// Pure SQL builders the what-if needs beyond the KPI and series queries: the backlog at many
// instants (the registry's `backlog` measure over the KPI's own opened-cohort rows, at an as-of
// time set to each instant — so "open" means exactly what the KPI's backlog means), the local
// Mondays of a span as instants, and the service's SLA.
import { query, type Query } from '../db.ts';
import { selectCases, type CaseSelection } from './case-predicates.ts';
import { openedCohortRows } from './kpi-sql.ts';
import { countWhere, drillableMeasure } from './measures.ts';

/** The backlog measure of the registry: the one definition of "open at the as-of time". */
const BACKLOG = drillableMeasure('backlog')!;

/**
 * Backlog per area at the selection's as-of time: every case opened by then (however long ago,
 * under the filters and scope) and open then. Set `sel.window.as_of` to the instant wanted.
 */
export function buildBacklogByAreaQuery(sel: CaseSelection): Query {
  const rows = openedCohortRows(['area'], sel, { sinceEver: true, surveys: false });
  return query(`${rows.sql}
SELECT area, (${countWhere(BACKLOG.where)})::INTEGER AS backlog
FROM st
GROUP BY area`, rows.params);
}

/** Local Mondays from `first` to `last` (YYYY-MM-DD, a week apart) and the instant each begins in zone `tz` (DST included). */
export function buildWeekStartsQuery(first: string, last: string, tz: string): Query {
  return query(`SELECT strftime(d, '%Y-%m-%d') AS week, strftime(timezone($tz, d::TIMESTAMP), '%Y-%m-%dT%H:%M:%S.%fZ') AS at
FROM generate_series($first::DATE::TIMESTAMP, $last::DATE::TIMESTAMP, INTERVAL 7 DAY) t(d)
ORDER BY d`, { first, last, tz });
}

/** The local day of an instant in zone `tz`. */
export function buildLocalDayQuery(at: string, tz: string): Query {
  return query(`SELECT strftime($at::TIMESTAMPTZ AT TIME ZONE $tz, '%Y-%m-%d') AS day`, { at, tz });
}

/**
 * The SLA of the selection's service(s): the services table's `sla_hours` (the largest, should a
 * name cover two codes), and the median of due − opened over the selection's cases that have a
 * due time (a source's own due times, where it has them).
 */
export function buildSlaQuery(sel: CaseSelection): Query {
  const k = selectCases(sel, { columns: ['c.service_code', 'c.opened_at', 'c.due_at'] });
  return query(`WITH k AS (
  ${k.sql}
)
SELECT (SELECT max(s.sla_hours) FROM services s WHERE s.service_code IN (SELECT service_code FROM k))::DOUBLE AS sla_hours,
       (median(epoch(k.due_at) - epoch(k.opened_at)) FILTER (WHERE k.due_at IS NOT NULL) / 3600)::DOUBLE AS due_hours
FROM k`, k.params);
}
