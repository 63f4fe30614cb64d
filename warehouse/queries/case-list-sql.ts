// Pure builders for the cases behind a count ("down to the cases"): the rows a count measure
// aggregates — the same cohort rows the KPI query builds (kpi-sql.ts cohortRows: window, filters,
// area kind, scope, as-of and local days as /api/kpis has them) — kept where the measure's
// predicate holds. The total is the measure's own aggregate over those rows, so a list's total is
// the KPI figure by construction, not by a second definition.
//
// What a row shows is chosen for a manager working a list, and nothing about the person who asked:
// no citizen key, name, phone, e-mail, address or free text (none of it is selected), and no exact
// point either — the area says where, and points stay in the warehouse (DESIGN.md: exact points
// never leave it; a list is easily forwarded). Sort keys come from an allow-list; every value is bound.
import { query, type Query } from '../db.ts';
import { answeredByAsOf, ATTRIBUTES, closedByAsOf, contactedByAsOf, pastDueAtAsOf, selectCases, type CaseSelection } from './case-predicates.ts';
import { ageDaysSql, cohortRows } from './kpi-sql.ts';
import type { CaseCountMeasure } from './measures.ts';

/** What a case list may be sorted by. */
export const CASE_SORTS = ['opened_at', 'closed_at', 'due_at', 'hours_to_close', 'service', 'area', 'case_id'] as const;
export type CaseSort = (typeof CASE_SORTS)[number];
export const SORT_ORDERS = ['asc', 'desc'] as const;
export type SortOrder = (typeof SORT_ORDERS)[number];

/** The columns of a case row, in order (the CSV's header). */
export const CASE_ROW_COLUMNS = [
  'case_id', 'service', 'service_code', 'service_group', 'agency', 'channel', 'area', 'status',
  'opened_at', 'first_response_at', 'closed_at', 'cancelled_at', 'due_at', 'hours_to_close', 'past_due', 'age_days', 'reopen_count',
] as const;

/** One case as a list and the case page show it: times in UTC (ISO 8601), each as it stood at the as-of time. */
export interface CaseRow {
  case_id: string;
  /** Service name (the code where the source gave no name), as the KPI rows label it. */
  service: string;
  service_code: string | null;
  service_group: string;
  agency: string;
  channel: string;
  /** The area of the selection's kind, or the "no area" label. */
  area: string;
  /** At the as-of time: open, closed or cancelled (a case reopened by then is open). */
  status: 'open' | 'closed' | 'cancelled';
  opened_at: string;
  /** Null when there was none by the as-of time (as closed_at and cancelled_at). */
  first_response_at: string | null;
  /** The first close, as time to close is measured; null when not closed by the as-of time. */
  closed_at: string | null;
  cancelled_at: string | null;
  /** Null when the case has no due time (no source due time, no service SLA). */
  due_at: string | null;
  /** First close − opening, in hours; null when not closed by the as-of time (negative: a data error). */
  hours_to_close: number | null;
  /** Open at the as-of time and past its due time then. */
  past_due: boolean;
  /** Whole days open at the as-of time; null when not open then. */
  age_days: number | null;
  /** Reopenings by the as-of time. */
  reopen_count: number;
}

export interface CasePage {
  sort: CaseSort;
  order: SortOrder;
  /** Rows to return; null: every matching row (the CSV). */
  limit: number | null;
  offset: number;
  /**
   * Number the rows in their order, in a column `rn` (1, 2, …), and leave them unsorted: the
   * reader orders them by `rn` (Warehouse.allAsJson, a long list's download), and a third sort of
   * hundreds of thousands of rows would be for nothing.
   */
  numbered?: boolean;
}

const iso = (expr: string) => `strftime(${expr}, '%Y-%m-%dT%H:%M:%S.%gZ')`;
const HOUR_US = 3_600_000_000;

/** The sort, with the case id as the last key so equal keys page the same way every time; empty values last either way. */
function orderBy(p: Pick<CasePage, 'sort' | 'order'>, alias: string): string {
  if (!(CASE_SORTS as readonly string[]).includes(p.sort)) throw new Error(`unknown sort ${String(p.sort)}`);
  const dir = p.order === 'asc' ? 'ASC' : 'DESC';
  if (p.sort === 'case_id') return `${alias}case_id ${dir}`;
  return `${alias}${p.sort} ${dir} NULLS LAST, ${alias}case_id ASC`;
}

/**
 * `rows` (a WITH clause ending in `relation`, one row per case with its labels and state at the
 * as-of time) narrowed to `where`, as case rows, sorted and paged.
 */
function caseRowsSql(rows: Query, relation: string, where: string, page: CasePage): Query {
  const sql = `${rows.sql}
, hit AS (
  -- The predicate on the cohort's own columns, before any column here is renamed or masked.
  SELECT * FROM ${relation} WHERE ${where}
), listed AS (
  SELECT h.case_id, h.service, h.service_group, h.agency, h.channel, h.area,
         CASE WHEN h.cancelled_at_as_of THEN 'cancelled' WHEN h.open_at_as_of THEN 'open' ELSE 'closed' END AS status,
         h.opened_at, h.due_at,
         CASE WHEN ${closedByAsOf('h.')} THEN h.closed_at END AS closed_at,
         CASE WHEN ${closedByAsOf('h.')} THEN (epoch_us(h.closed_at) - epoch_us(h.opened_at)) / ${HOUR_US} END AS hours_to_close,
         coalesce(h.open_at_as_of AND ${pastDueAtAsOf('h.')}, false) AS past_due,
         CASE WHEN h.open_at_as_of THEN ${ageDaysSql('h.')} END AS age_days
  FROM hit h
), page AS (
  SELECT * FROM listed
  ORDER BY ${orderBy(page, '')}
  ${page.limit === null ? '' : 'LIMIT $limit OFFSET $offset'}
), reopens AS (
  -- Reopenings by the as-of time, read from the log only for the cases that changed since.
  SELECT e.case_id, count(*) AS n
  FROM case_events e
  WHERE e.event_type = 'reopened' AND e.occurred_at <= $as_of::TIMESTAMPTZ
    AND e.case_id IN (SELECT p.case_id FROM page p JOIN cases c ON c.case_id = p.case_id
                      WHERE c.reopen_count > 0 AND NOT coalesce(c.last_event_at <= $as_of::TIMESTAMPTZ, false))
  GROUP BY e.case_id
)
SELECT p.case_id, p.service, c.service_code, p.service_group, p.agency, p.channel, p.area, p.status,
       ${iso('p.opened_at')} AS opened_at,
       ${iso('CASE WHEN c.first_response_at <= $as_of::TIMESTAMPTZ THEN c.first_response_at END')} AS first_response_at,
       ${iso('p.closed_at')} AS closed_at,
       ${iso('CASE WHEN c.cancelled_at <= $as_of::TIMESTAMPTZ THEN c.cancelled_at END')} AS cancelled_at,
       ${iso('p.due_at')} AS due_at,
       p.hours_to_close::DOUBLE AS hours_to_close,
       p.past_due,
       p.age_days::INTEGER AS age_days,
       (CASE WHEN c.reopen_count > 0 AND NOT coalesce(c.last_event_at <= $as_of::TIMESTAMPTZ, false) THEN coalesce(r.n, 0) ELSE c.reopen_count END)::INTEGER AS reopen_count${page.numbered ? `,
       row_number() OVER (ORDER BY ${orderBy(page, 'p.')}) AS rn` : ''}
FROM page p
JOIN cases c ON c.case_id = p.case_id
LEFT JOIN reopens r ON r.case_id = p.case_id${page.numbered ? '' : `
ORDER BY ${orderBy(page, 'p.')}`}`;
  return query(sql, { ...rows.params, limit: page.limit ?? 0, offset: page.offset });
}

/** The cohort rows a measure counts, labelled with every attribute a case row shows. */
const measureRows = (m: CaseCountMeasure, sel: CaseSelection) => cohortRows(m.cohort, ATTRIBUTES, sel, { surveys: false });

/** How many cases a measure counts: its own aggregate over its cohort's rows (the KPI figure). */
export function buildCaseCountQuery(m: CaseCountMeasure, sel: CaseSelection): Query {
  const rows = measureRows(m, sel);
  return query(`${rows.sql}\nSELECT (${m.sql})::BIGINT AS total FROM ${rows.relation}`, rows.params);
}

/** The cases a measure counts, as case rows: one page, or every one (`limit` null). */
export function buildCaseListQuery(m: CaseCountMeasure, sel: CaseSelection, page: CasePage): Query {
  const rows = measureRows(m, sel);
  return caseRowsSql(rows, rows.relation, m.where, page);
}

/**
 * One case's row, seen as of the selection's as-of time in its area kind and the caller's scope
 * (a case of another agency is no row at all). The window's days do not matter: any opening up to
 * the as-of time.
 */
export function buildCaseRowQuery(caseId: string, sel: CaseSelection): Query {
  const k = selectCases(sel, { by: ATTRIBUTES, sinceEver: true, state: true, columns: ['c.case_id', 'c.opened_at', 'c.closed_at', 'c.due_at'] });
  const rows = query(`WITH k AS (\n  ${k.sql}\n)`, k.params);
  const q = caseRowsSql(rows, 'k', 'case_id = $case_id', { sort: 'case_id', order: 'asc', limit: null, offset: 0 });
  return query(q.sql, { ...q.params, case_id: caseId });
}

/** The event type's place in a case's life, to order events stamped at the same instant. */
const EVENT_ORDER = `CASE e.event_type WHEN 'opened' THEN 0 WHEN 'acknowledged' THEN 1 WHEN 'assigned' THEN 2 WHEN 'status_changed' THEN 3
  WHEN 'note' THEN 4 WHEN 'duplicate_of' THEN 5 WHEN 'closed' THEN 6 WHEN 'cancelled' THEN 7 WHEN 'reopened' THEN 8 ELSE 9 END`;

/**
 * A case's event trail up to the as-of time, in time order. Only what the city's systems say about
 * the case: not the point (lat/lon) and not `attributes` (fields a profile keeps on purpose, which
 * may be free text or personal); quality flags are our own codes.
 */
export function buildCaseEventsQuery(caseId: string, asOf: string): Query {
  return query(
    `SELECT e.event_id, e.event_type, ${iso('e.occurred_at')} AS occurred_at, e.source, e.batch_id, e.status,
            e.service_code, e.service_name, e.agency, e.channel, e.area_name, ${iso('e.expected_at')} AS expected_at,
            coalesce(e.quality_flags, []) AS quality_flags
     FROM case_events e
     WHERE e.case_id = $case_id AND e.occurred_at <= $as_of::TIMESTAMPTZ
     ORDER BY e.occurred_at, ${EVENT_ORDER}, e.event_id`,
    { case_id: caseId, as_of: asOf },
  );
}

/**
 * The contacts linked to a case, started by the as-of time, in time order — never `citizen_key`.
 * `answeredAt`: the warehouse records when a call was answered (not every version has the column).
 */
export function buildCaseInteractionsQuery(caseId: string, asOf: string, o: { answeredAt: boolean }): Query {
  return query(
    `SELECT i.interaction_id, i.channel, i.direction, ${iso('i.started_at')} AS started_at,
            ${o.answeredAt ? `${iso('i.answered_at')} AS answered_at, ` : ''}${iso('i.ended_at')} AS ended_at,
            i.wait_seconds::DOUBLE AS wait_seconds, i.handle_seconds::DOUBLE AS handle_seconds, i.outcome, i.team
     FROM interactions i
     WHERE i.case_id = $case_id AND ${contactedByAsOf()}
     ORDER BY i.started_at, i.interaction_id`,
    { case_id: caseId, as_of: asOf },
  );
}

/**
 * The survey answers about a case given by the as-of time — directly, or through a contact of the
 * case (as the KPIs count them: case-predicates.ts SURVEY_ANSWERS_SQL) — scores only; comments are
 * not stored.
 */
export function buildCaseSurveysQuery(caseId: string, asOf: string): Query {
  return query(
    `SELECT r.response_id, ${iso('r.answered_at')} AS answered_at, r.csat::INTEGER AS csat, r.nps::INTEGER AS nps, r.trust::INTEGER AS trust,
            r.interaction_id, CASE WHEN r.case_id IS NOT NULL THEN 'case' ELSE 'interaction' END AS about
     FROM survey_responses r
     LEFT JOIN interactions i ON r.case_id IS NULL AND i.interaction_id = r.interaction_id
     WHERE (r.case_id = $case_id OR (r.case_id IS NULL AND i.case_id = $case_id)) AND ${answeredByAsOf()}
     ORDER BY r.answered_at, r.response_id`,
    { case_id: caseId, as_of: asOf },
  );
}

/** Whether the warehouse's interactions record when a contact was answered. */
export const INTERACTION_COLUMNS_SQL = `SELECT column_name AS name FROM information_schema.columns WHERE table_name = 'interactions'`;
