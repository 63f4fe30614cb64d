// Repeat locations (DESIGN.md): the same service requested again at the same place within N days
// of a close — failure demand at a place. A place is an H3 cell finer than the stored ones
// (resolution 10 or 11), which DuckDB cannot compute (no h3 extension here): DuckDB selects the
// cases concerned (the shared case predicates) and lists their numbers; the cells and repeats are
// found in TypeScript (analytics/repeat-places.ts). Only aggregates per place and service leave
// the server; exact points never do.
import { query, type Query } from '../db.ts';
import { closedByAsOf, dataError, localDaySql, onOrAfterFromDay, selectCases, type CaseSelection } from './case-predicates.ts';

/** A point that can have a cell (as ingest/places.ts accepts one). */
const VALID_POINT = `c.lat IS NOT NULL AND c.lon IS NOT NULL AND isfinite(c.lat) AND isfinite(c.lon) AND abs(c.lat) <= 90 AND abs(c.lon) <= 180`;
/** Where the look-back starts: N days before the window's first local day began. */
const LOOKBACK = `(timezone($tz, $from::DATE::TIMESTAMP) - to_days($days::INTEGER))`;

/**
 * The cases concerned, with their service, area, point and times: every case of the selection
 * (filters, area kind, scope) opened by the window's last day and the as-of time that either
 * opened in the window (`in_window`: they are the requests counted) or was closed at most N days
 * before the window began or since (an earlier request whose close a request in the window may
 * follow). `closed_at` is the first close by the as-of time, null for a data error (closed before
 * it opened) or a case not closed then.
 */
function concernedCases(sel: CaseSelection, days: number): Query {
  const inWindow = sel.local_days ? `${localDaySql('opened_at', true)} >= $from::DATE` : onOrAfterFromDay('c.opened_at');
  const base = selectCases(sel, {
    sinceEver: true,
    by: ['service', 'area'],
    columns: [
      'c.lat', 'c.lon', 'c.opened_at',
      `CASE WHEN ${closedByAsOf()} AND NOT ${dataError()} THEN c.closed_at END AS closed_at`,
      `(${inWindow}) AS in_window`,
    ],
  });
  const sql = `SELECT * FROM (${base.sql}) k
    WHERE ${VALID_POINT.replaceAll('c.', 'k.')} AND (k.opened_at >= ${LOOKBACK} OR k.closed_at >= ${LOOKBACK})`;
  // The builders below pass everything through query(), which keeps only the values their SQL names.
  return { sql, params: { ...base.params, tz: sel.window.timezone, from: sel.window.from, days } };
}

/**
 * The concerned cases as lists of numbers per service (Warehouse.allWithLists): point, opening and
 * first close (microseconds since the epoch, NaN for none: not closed by the as-of time, or a data
 * error) and whether the request opened in the window (1 or 0), area by area — `area_names` and
 * `area_counts` say how many of the lists' cases, in order, are in each area. One row per service,
 * not per service and area: a city's complaint types × source areas (ZIP codes) can pass the
 * readers' row cap. Each area's lists are built by one aggregation (DuckDB feeds every aggregate
 * of a group the same rows in the same order) and put together in the same area order.
 * The places and their repeats are found in TypeScript (analytics/repeat-places.ts): the cells
 * come from h3-js, and binding millions of points' cells back to DuckDB cost more than the whole search.
 */
export function buildRepeatCasesQuery(sel: CaseSelection, days: number): Query {
  const c = concernedCases(sel, days);
  const lists = ['lat', 'lon', 'opened', 'closed', 'in_window'];
  return query(
    `WITH by_area AS (
       SELECT service, area, count(*)::DOUBLE AS n,
         list(lat) AS lat, list(lon) AS lon,
         list(epoch_us(opened_at)::DOUBLE) AS opened,
         list(coalesce(epoch_us(closed_at)::DOUBLE, 'NaN'::DOUBLE)) AS closed,
         list(CASE WHEN in_window THEN 1 ELSE 0 END::DOUBLE) AS in_window
       FROM (${c.sql}) k
       GROUP BY service, area
     )
     SELECT service, list(area ORDER BY area) AS area_names, list(n ORDER BY area) AS area_counts,
       ${lists.map((l) => `flatten(list(${l} ORDER BY area)) AS ${l}`).join(', ')}
     FROM by_area
     GROUP BY service`,
    c.params,
  );
}

/** Local days (YYYY-MM-DD in the window's time zone) of instants given as whole microseconds since the epoch, in order. */
export function buildLocalDaysQuery(sel: CaseSelection, us: readonly number[]): Query {
  return query(
    `SELECT list_transform(json_transform($us, '["BIGINT"]'), u -> strftime((TIMESTAMPTZ '1970-01-01 00:00:00+00' + to_microseconds(u)) AT TIME ZONE $tz, '%Y-%m-%d')) AS days`,
    { us: JSON.stringify(us), tz: sel.window.timezone },
  );
}

/** Requests opened in the window with a point, and how many had none (they cannot be placed). */
export function buildRepeatCoverageQuery(sel: CaseSelection): Query {
  const base = selectCases(sel, { columns: [`(${VALID_POINT}) AS has_point`] });
  return query(`SELECT (count(*) FILTER (WHERE has_point))::INTEGER AS with_point, (count(*) FILTER (WHERE NOT has_point))::INTEGER AS without_point FROM (${base.sql})`, base.params);
}
