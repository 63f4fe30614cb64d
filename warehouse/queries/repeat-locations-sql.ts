// Repeat locations (DESIGN.md): the same service requested again at the same place within N days
// of a close — failure demand at a place. A place is an H3 cell finer than the stored ones
// (resolution 10 or 11), which DuckDB cannot compute (no h3 extension here): the caller reads the
// distinct points of the cases concerned (pointsPage, in pages under the row cap), computes
// their cells in TypeScript, and binds the point → cell map back as one JSON value; the repeats
// are then found here, with a window function over each service + cell's opens and closes in
// time order. Only aggregates per place and service come out; exact points never leave the server.
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

/** A page of the distinct points of the concerned cases, in (lat, lon) order after `after`. */
export function buildRepeatPointsQuery(sel: CaseSelection, days: number, after: { lat: number; lon: number } | null, page: number): Query {
  const c = concernedCases(sel, days);
  return query(
    `SELECT DISTINCT lat, lon FROM (${c.sql}) p
     WHERE $after_lat IS NULL OR lat > $after_lat OR (lat = $after_lat AND lon > $after_lon)
     ORDER BY lat, lon LIMIT $page`,
    { ...c.params, after_lat: after?.lat ?? null, after_lon: after?.lon ?? null, page },
  );
}

/**
 * Per place (cell) and service: requests opened in the window, repeats among them, first and last
 * request (local days), the last repeat, and the place's area (the one most of its requests in the
 * window are in). Only places with at least one repeat.
 *
 * A request is a repeat when the latest close of an earlier request of the same service at the
 * same cell came at most N days (N × 24 h; exactly N days counts) before it opened. Opens and
 * closes are ordered by time, an open before a close at the same instant: a close at the very
 * instant of an opening is not "before" it (nor is a case's own close, even one stamped at its
 * opening).
 *
 * `cells` is the JSON {"lat": [...], "lon": [...], "cell": [...]} of the points' cells.
 */
export function buildRepeatLocationsQuery(sel: CaseSelection, days: number, cells: string): Query {
  const c = concernedCases(sel, days);
  const day = (t: string) => `strftime(${t} AT TIME ZONE $tz, '%Y-%m-%d')`;
  return query(
    `WITH concerned AS (${c.sql}),
     point_cells AS (
       SELECT unnest(j.lat) AS lat, unnest(j.lon) AS lon, unnest(j.cell) AS cell
       FROM (SELECT json_transform($cells, '{"lat":"DOUBLE[]","lon":"DOUBLE[]","cell":"VARCHAR[]"}') AS j)
     ),
     placed AS (SELECT k.*, pc.cell FROM concerned k JOIN point_cells pc ON pc.lat = k.lat AND pc.lon = k.lon),
     moments AS (
       SELECT service, cell, opened_at AS t, 0 AS kind, in_window, NULL::TIMESTAMPTZ AS closed FROM placed
       UNION ALL
       SELECT service, cell, closed_at, 1, false, closed_at FROM placed WHERE closed_at IS NOT NULL
     ),
     ordered AS (
       SELECT *, last_value(closed IGNORE NULLS) OVER (
         PARTITION BY service, cell ORDER BY t, kind ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS last_close
       FROM moments
     ),
     requests AS (
       SELECT service, cell, t, coalesce(t - last_close <= to_days($days::INTEGER), false) AS is_repeat
       FROM ordered WHERE kind = 0 AND in_window
     ),
     area_counts AS (SELECT cell, area, count(*) AS n FROM placed WHERE in_window GROUP BY cell, area),
     place_area AS (SELECT cell, area FROM area_counts QUALIFY row_number() OVER (PARTITION BY cell ORDER BY n DESC, area) = 1)
     SELECT r.cell, r.service, pa.area,
            count(*)::INTEGER AS requests,
            (count(*) FILTER (WHERE is_repeat))::INTEGER AS repeats,
            ${day('min(r.t)')} AS first_request,
            ${day('max(r.t)')} AS last_request,
            ${day('max(r.t) FILTER (WHERE is_repeat)')} AS last_repeat
     FROM requests r JOIN place_area pa ON pa.cell = r.cell
     GROUP BY r.cell, r.service, pa.area
     HAVING count(*) FILTER (WHERE is_repeat) > 0
     ORDER BY repeats DESC, requests DESC, r.cell, r.service`,
    { ...c.params, cells },
  );
}

/** Requests opened in the window with a point, and how many had none (they cannot be placed). */
export function buildRepeatCoverageQuery(sel: CaseSelection): Query {
  const base = selectCases(sel, { columns: [`(${VALID_POINT}) AS has_point`] });
  return query(`SELECT (count(*) FILTER (WHERE has_point))::INTEGER AS with_point, (count(*) FILTER (WHERE NOT has_point))::INTEGER AS without_point FROM (${base.sql})`, base.params);
}
