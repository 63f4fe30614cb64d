// Pure builders for the Open311 GeoReport v2 read API (api/routes/open311/): the service list, the
// window of a request query, a page of requests, and the public status trail of some requests.
//
// Why not `selectCases` (case-predicates.ts): its window is local *days* at an as-of time, while
// Open311's start_date/end_date are instants and a request's status is its current one. What is
// shared is the case model itself: `cases.status` is the case's state after every event (closed,
// cancelled, or reopened since: refresh-cases.sql), the service label falls back as the analyses'
// does (name, then code, then MISSING_LABELS.service), and the times a request shows are the
// case's own columns. Every value is bound; the only identifiers are constants here.
import { query, type Params, type Query } from '../db.ts';
import { MISSING_LABELS } from './case-predicates.ts';

/** What a request's `service_code` is: the source's code, or its name where it gave no code (so every request has one). */
export const OPEN311_CODE_SQL = (p = 'c.') => `coalesce(${p}service_code, ${p}service_name, '${MISSING_LABELS.service}')`;
/** The service's name: the case's, else the catalogue's, else the code. */
const NAME_SQL = `coalesce(c.service_name, s.name, c.service_code, '${MISSING_LABELS.service}')`;

/** Event types a resident may see on the public trail (no notes: a note may be the resident's own words, and its time a contact). */
export const PUBLIC_TRAIL_EVENTS = ['opened', 'acknowledged', 'assigned', 'status_changed', 'closed', 'reopened', 'cancelled'] as const;
/** The trail's event types as an SQL list of constants (from the allow-list above, never from input). */
const TRAIL_SQL = PUBLIC_TRAIL_EVENTS.map((t) => `'${t}'`).join(', ');

/** Services withheld everywhere (disclosure.sensitive_services), by code and by name, bound as `$sens_code_<i>` / `$sens_name_<i>`. */
export interface SensitiveServices {
  codes: readonly string[];
  names: readonly string[];
}

function sensitiveSql(s: SensitiveServices, codeExpr: string, nameExpr: string): { sql: string; params: Params } {
  const parts: string[] = [];
  const params: Params = {};
  if (s.codes.length) {
    parts.push(`${codeExpr} IN (${s.codes.map((_, i) => `$sens_code_${i}`).join(', ')})`);
    s.codes.forEach((v, i) => (params[`sens_code_${i}`] = v));
  }
  if (s.names.length) {
    parts.push(`${nameExpr} IN (${s.names.map((_, i) => `$sens_name_${i}`).join(', ')})`);
    s.names.forEach((v, i) => (params[`sens_name_${i}`] = v));
  }
  // coalesce: a case with no code matches no code, and must not turn the whole test NULL.
  return { sql: parts.length ? `NOT coalesce(${parts.join(' OR ')}, false)` : 'true', params };
}

/** A case a public Open311 answer may show: it has an opening time and is of no sensitive service. */
function publicCaseSql(s: SensitiveServices): { sql: string; params: Params } {
  // The label the analyses give a case's service (coalesce of name and code), and its code.
  const sens = sensitiveSql(s, 'c.service_code', `coalesce(c.service_name, c.service_code, '${MISSING_LABELS.service}')`);
  return { sql: `c.opened_at IS NOT NULL AND ${sens.sql}`, params: sens.params };
}

/** The catalogue's services by code and name (with the cases' own, what a sensitive-service entry of the configuration is matched against). */
export function buildOpen311ServiceKeysQuery(): Query {
  return query(`SELECT service_code AS code, name FROM services`, {});
}

/**
 * Every service a request may be of: the catalogue's (`services`), then the codes the cases use
 * that the catalogue does not hold (a city whose export names services the catalogue lacks), less
 * the sensitive ones. Columns: service_code, service_name, service_group, agency, sla_hours.
 */
export function buildOpen311ServicesQuery(s: SensitiveServices): Query {
  const catalogue = sensitiveSql(s, 's.service_code', 's.name');
  const pub = publicCaseSql(s);
  return query(
    `SELECT service_code, service_name, service_group, agency, sla_hours FROM (
       SELECT s.service_code, s.name AS service_name, s.service_group, s.agency, s.sla_hours FROM services s WHERE ${catalogue.sql}
       UNION ALL
       SELECT ${OPEN311_CODE_SQL()} AS service_code, any_value(coalesce(c.service_name, c.service_code, '${MISSING_LABELS.service}')) AS service_name,
              NULL AS service_group, any_value(c.agency) AS agency, NULL::DOUBLE AS sla_hours
       FROM cases c
       WHERE ${pub.sql} AND ${OPEN311_CODE_SQL()} NOT IN (SELECT service_code FROM services)
       GROUP BY 1
     )
     ORDER BY service_code`,
    { ...catalogue.params, ...pub.params },
  );
}

/** A local wall time with microseconds and the zone's offset at that instant, in minutes: the caller writes `…T…±HH:MM`. */
const localColumns = (expr: string, name: string) => [
  `strftime(${expr} AT TIME ZONE $tz, '%Y-%m-%dT%H:%M:%S.%f') AS ${name}_local`,
  `((epoch_us(${expr} AT TIME ZONE $tz) - epoch_us(${expr})) // 60000000)::INTEGER AS ${name}_offset`,
];

/**
 * One bound of a request window: an instant with an offset (`at`), or a local wall time in the
 * jurisdiction's zone (`local`, "YYYY-MM-DD HH:MM:SS[.ffffff]"), or absent.
 */
export type Open311Bound = { at: string } | { local: string } | null;

/**
 * The window of a request query, resolved in SQL so local times and "90 days" use the zone rules
 * the warehouse cuts its days with (DuckDB's ICU): a local time is read in `$tz` (a time skipped by
 * a DST change moves forward an hour; one repeated reads as the later, standard-time instant), and
 * 90 days are 90 local calendar days, so a window across a DST change may be an hour longer or
 * shorter than 2,160 hours. A missing end is 90 days after the start, else the newest public request;
 * a missing start is 90 days before the end. Columns: start_at, end_at (ISO UTC with microseconds,
 * or null: no data), limit_local and limit_offset (start + 90 days, as the caller writes times),
 * start_after_end (bool), too_long (bool).
 */
export function buildOpen311WindowQuery(start: Open311Bound, end: Open311Bound, timezone: string, s: SensitiveServices): Query {
  const pub = publicCaseSql(s);
  const bound = (b: Open311Bound, name: string) =>
    b === null ? null : 'at' in b ? `$${name}_at::TIMESTAMPTZ` : `timezone($tz, $${name}_local::TIMESTAMP)`;
  const plus90 = (e: string) => `timezone($tz, (${e} AT TIME ZONE $tz) + INTERVAL 90 DAY)`;
  const minus90 = (e: string) => `timezone($tz, (${e} AT TIME ZONE $tz) - INTERVAL 90 DAY)`;
  const given = { start: bound(start, 'start'), end: bound(end, 'end') };
  const endSql = given.end ?? (given.start ? plus90(given.start) : `(SELECT max(c.opened_at) FROM cases c WHERE ${pub.sql})`);
  const startSql = given.start ?? minus90('e.end_at');
  const iso = (e: string) => `strftime(${e}, '%Y-%m-%dT%H:%M:%S.%fZ')`;
  const params: Params = { tz: timezone, ...pub.params };
  if (start && 'at' in start) params.start_at = start.at;
  if (start && 'local' in start) params.start_local = start.local;
  if (end && 'at' in end) params.end_at = end.at;
  if (end && 'local' in end) params.end_local = end.local;
  return query(
    `WITH e AS (SELECT ${endSql} AS end_at), w AS (SELECT ${startSql} AS start_at, e.end_at FROM e)
     SELECT ${iso('start_at')} AS start_at, ${iso('end_at')} AS end_at, ${localColumns(plus90('start_at'), 'limit').join(', ')},
            coalesce(start_at > end_at, false) AS start_after_end, coalesce(end_at > ${plus90('start_at')}, false) AS too_long
     FROM w`,
    params,
  );
}

/** Which requests a query asks for: by id (every other criterion ignored, as the spec says), or by window and filters. */
export type Open311Selection =
  | { ids: readonly string[] }
  | { start_at: string; end_at: string; service_codes: readonly string[] | null; status: readonly ('open' | 'closed')[] | null };

export interface Open311Page {
  limit: number;
  offset: number;
}


/**
 * A page of public requests, newest first, the case id breaking ties (a total order, so pages
 * neither skip nor repeat a request). Only public columns leave: the case id, service, agency,
 * status, times (local wall time + offset) and the H3 resolution-8 cell — never the point, the
 * area's name, an address, free text or anything about the person who asked. `updated` is the
 * last close or cancellation of a closed request (the spec: "the date the request was closed"),
 * else the case's last event.
 */
export function buildOpen311RequestsQuery(sel: Open311Selection, page: Open311Page, timezone: string, s: SensitiveServices): Query {
  const pub = publicCaseSql(s);
  const where = [pub.sql];
  const params: Params = { tz: timezone, limit: page.limit, offset: page.offset, ...pub.params };
  if ('ids' in sel) {
    where.push(sel.ids.length ? `c.case_id IN (${sel.ids.map((_, i) => `$id_${i}`).join(', ')})` : 'false');
    sel.ids.forEach((v, i) => (params[`id_${i}`] = v));
  } else {
    where.push('c.opened_at >= $start_at::TIMESTAMPTZ', 'c.opened_at <= $end_at::TIMESTAMPTZ');
    params.start_at = sel.start_at;
    params.end_at = sel.end_at;
    if (sel.service_codes) {
      where.push(sel.service_codes.length ? `${OPEN311_CODE_SQL()} IN (${sel.service_codes.map((_, i) => `$code_${i}`).join(', ')})` : 'false');
      sel.service_codes.forEach((v, i) => (params[`code_${i}`] = v));
    }
    if (sel.status && sel.status.length === 1) where.push(sel.status[0] === 'open' ? `c.status = 'open'` : `c.status IN ('closed', 'cancelled')`);
  }
  const sql = `WITH r AS (
      SELECT c.case_id, ${OPEN311_CODE_SQL()} AS service_code, ${NAME_SQL} AS service_name, c.agency,
             c.opened_at, c.due_at, c.status, c.reopen_count, c.last_event_at, c.closed_at, c.cancelled_at, c.h3_r8
      FROM cases c LEFT JOIN services s ON s.service_code = c.service_code
      WHERE ${where.join('\n        AND ')}
      ORDER BY c.opened_at DESC, c.case_id ASC
      LIMIT $limit OFFSET $offset
    ), ends AS (
      -- Only a case reopened since a close can have closed again later than its first close (the
      -- cases row keeps the first): those few read their last end from the log, as the case
      -- predicates' state at the as-of time does.
      SELECT e.case_id, max(e.occurred_at) AS last_end
      FROM case_events e SEMI JOIN (SELECT case_id FROM r WHERE reopen_count > 0 AND status <> 'open') k ON k.case_id = e.case_id
      WHERE e.event_type IN ('closed', 'cancelled')
      GROUP BY e.case_id
    ), touched AS (
      -- An open request was last updated by its last public event: the cases row's last_event_at
      -- counts notes too, whose times the public trail leaves out (a note's time is a contact's).
      SELECT e.case_id, max(e.occurred_at) AS last_public
      FROM case_events e SEMI JOIN (SELECT case_id FROM r WHERE status = 'open') k ON k.case_id = e.case_id
      WHERE e.event_type IN (${TRAIL_SQL})
      GROUP BY e.case_id
    ), t AS (
      SELECT r.*, CASE WHEN r.status = 'open' THEN coalesce(touched.last_public, r.opened_at)
                       ELSE coalesce(ends.last_end, greatest(r.closed_at, r.cancelled_at), r.opened_at) END AS updated_at
      FROM r LEFT JOIN ends ON ends.case_id = r.case_id LEFT JOIN touched ON touched.case_id = r.case_id
    )
    SELECT case_id, service_code, service_name, agency, status, reopen_count::INTEGER AS reopen_count, h3_r8,
           ${[...localColumns('opened_at', 'requested'), ...localColumns('updated_at', 'updated'), ...localColumns('due_at', 'expected')].join(',\n           ')}
    FROM t
    ORDER BY opened_at DESC, case_id ASC`;
  return query(sql, params);
}

/**
 * The public trail of some requests: each public event's type and time (local + offset), in time
 * order (events at one instant in lifecycle order: opened before acknowledged…); never a note or its text.
 */
export function buildOpen311TrailQuery(ids: readonly string[], timezone: string): Query {
  const params: Params = { tz: timezone };
  ids.forEach((v, i) => (params[`id_${i}`] = v));
  return query(
    `SELECT e.case_id, e.event_type, ${localColumns('e.occurred_at', 'at').join(', ')}
     FROM case_events e
     WHERE e.case_id IN (${ids.length ? ids.map((_, i) => `$id_${i}`).join(', ') : 'NULL'})
       AND e.event_type IN (${PUBLIC_TRAIL_EVENTS.map((t) => `'${t}'`).join(', ')})
     ORDER BY e.case_id, e.occurred_at, list_position([${PUBLIC_TRAIL_EVENTS.map((t) => `'${t}'`).join(', ')}], e.event_type)`,
    params,
  );
}
