// The cases behind a count, and one case with its trail ("down to the cases", issue 11 item 6).
// A list is the rows a count measure aggregates, kept where its predicate holds (queries/
// case-list-sql.ts); its total is that measure's own aggregate over the same rows, so the list
// behind a figure on any page has exactly that many cases. The window, filters, area kind and
// scope are resolved as for the KPIs (resolveSelection): the same request means the same cases.
import { TooManyRowsError, type Warehouse } from '../db.ts';
import { CivicError, closest, ParameterError } from '../errors.ts';
import {
  buildCaseCountQuery,
  buildCaseEventsQuery,
  buildCaseInteractionsQuery,
  buildCaseListQuery,
  buildCaseRowQuery,
  buildCaseSurveysQuery,
  CASE_ROW_COLUMNS,
  CASE_SORTS,
  INTERACTION_COLUMNS_SQL,
  SORT_ORDERS,
  type CaseRow,
  type CaseSort,
  type SortOrder,
} from '../queries/case-list-sql.ts';
import { appliedFilter, type CaseFilter, type CaseScope, type CaseWindow } from '../queries/case-predicates.ts';
import { DRILLABLE_MEASURES, drillableMeasure, measure as findMeasure, type CaseCountMeasure } from '../queries/measures.ts';
import { resolveSelection } from './dimensions.ts';
import { resolveWindow } from './window.ts';

export { CASE_ROW_COLUMNS, CASE_SORTS, SORT_ORDERS, type CaseRow, type CaseSort, type SortOrder } from '../queries/case-list-sql.ts';

/** Dates and durations read newest or longest first, except due times (the most overdue first); names and ids from the start of the alphabet. */
export const DEFAULT_ORDER: Readonly<Record<CaseSort, SortOrder>> = { opened_at: 'desc', closed_at: 'desc', hours_to_close: 'desc', due_at: 'asc', service: 'asc', area: 'asc', case_id: 'asc' };

/** The largest page a caller may ask for. */
export const MAX_PAGE_SIZE = 500;
export const DEFAULT_PAGE_SIZE = 50;

export interface CaseListRequest {
  /** A count of cases (a drillable measure of the registry). */
  measure: string;
  /** Default: opened_at. */
  sort?: CaseSort;
  /** Default: DEFAULT_ORDER of the sort. */
  order?: SortOrder;
  /** 1-based. */
  page?: number;
  page_size?: number;
  /** Every matching case instead of a page (the CSV); refused past `maxRows`. */
  all?: boolean;
  /** With `all`: the most cases one answer may hold (default: the warehouse's per-query row cap). */
  maxRows?: number;
  area_kind?: string;
  scope?: CaseScope;
}

export interface CaseListResult {
  measure: string;
  label: string;
  definition: string;
  from: string;
  to: string;
  as_of: string;
  timezone: string;
  area_kind: string;
  /** The filters applied (only those given). */
  filter: CaseFilter;
  /** Cases the measure counts: the KPI figure for the same request. */
  total: number;
  page: number;
  /** Null for every case at once (the CSV). */
  page_size: number | null;
  sort: CaseSort;
  order: SortOrder;
  rows: CaseRow[];
}

/** The drillable measure a name means, or a 400 that says why not and lists the valid names. */
export function caseMeasure(name: string): CaseCountMeasure {
  const m = drillableMeasure(name);
  if (m) return m;
  const valid = DRILLABLE_MEASURES.map((d) => d.name);
  const known = findMeasure(name);
  const why = !known
    ? `measure "${name}" is not a measure${closest(name, valid, 1, 6).length ? ` (did you mean "${closest(name, valid, 1, 6)[0]}"?)` : ''}`
    : known.kind === 'ratio'
      ? `measure "${name}" is a rate: its cases are those of ${known.numerator} (numerator) and ${known.denominator} (denominator)`
      : known.kind === 'count'
        ? `measure "${name}" counts ${known.unit}, not cases: no list of cases adds up to it`
        : `measure "${name}" is not a count of cases`;
  return fail('measure', `${why}. A case list is one of: ${valid.join(', ')}`);
}

const fail = (parameter: string, message: string): never => {
  throw new ParameterError(parameter, message);
};

function checkPage(r: CaseListRequest): { sort: CaseSort; order: SortOrder; page: number; page_size: number } {
  const sort = r.sort ?? 'opened_at';
  const order = r.order ?? DEFAULT_ORDER[sort as CaseSort] ?? 'desc';
  const page = r.page ?? 1;
  const size = r.page_size ?? DEFAULT_PAGE_SIZE;
  if (!(CASE_SORTS as readonly string[]).includes(sort)) fail('sort', `sort "${sort}" is not one of ${CASE_SORTS.join(', ')}`);
  if (!(SORT_ORDERS as readonly string[]).includes(order)) fail('order', `order "${order}" is not one of ${SORT_ORDERS.join(', ')}`);
  if (!Number.isInteger(page) || page < 1) fail('page', `page "${page}" must be a whole number from 1`);
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) fail('page_size', `page_size "${size}" must be a whole number from 1 to ${MAX_PAGE_SIZE}`);
  return { sort, order, page, page_size: size };
}

/**
 * The cases a count measure counts for a window, filters, area kind and scope — exactly the cases
 * of its /api/kpis figure — sorted and paged (or all of them, for a download).
 */
export async function listCases(wh: Warehouse, window: CaseWindow, filter: CaseFilter, r: CaseListRequest): Promise<CaseListResult> {
  const m = caseMeasure(r.measure);
  const p = checkPage(r);
  const sel = await resolveSelection(wh, window, { filter, area_kind: r.area_kind, scope: r.scope });
  const count = buildCaseCountQuery(m, sel);
  const total = Number((await wh.one<{ total: string | number }>(count.sql, count.params))?.total ?? 0);
  if (r.all) {
    const cap = r.maxRows ?? wh.limits.maxQueryRows;
    if (total > cap) throw new TooManyCasesError(total, cap);
  }
  const offset = r.all ? 0 : (p.page - 1) * p.page_size;
  let rows: CaseRow[] = [];
  if (total > offset) {
    const q = buildCaseListQuery(m, sel, { sort: p.sort, order: p.order, limit: r.all ? null : p.page_size, offset, numbered: r.all });
    // A download's rows (up to the row cap: hundreds of thousands) are read as JSON text, a chunk
    // at a time; a page (at most MAX_PAGE_SIZE) as any answer is.
    rows = r.all ? await wh.allAsJson<CaseRow>(q.sql, q.params, CASE_ROW_COLUMNS) : await wh.all<CaseRow>(q.sql, q.params);
  }
  return {
    measure: m.name,
    label: m.label,
    definition: m.definition,
    from: window.from,
    to: window.to,
    as_of: window.as_of,
    timezone: window.timezone,
    area_kind: sel.area_kind,
    filter: appliedFilter(sel.filter),
    total,
    page: r.all ? 1 : p.page,
    page_size: r.all ? null : p.page_size,
    sort: p.sort,
    order: p.order,
    rows,
  };
}

/** More cases match than one download may hold. */
export class TooManyCasesError extends CivicError {
  constructor(readonly total: number, readonly limit: number) {
    super(
      `${total.toLocaleString('en-US')} cases match; a download may hold at most ${limit.toLocaleString('en-US')} (limits.max_query_rows). ` +
        'Narrow it: a shorter window (from/to), a filter (service, agency, channel, area…), or page through the list as JSON.',
      { status: 413 },
    );
    this.name = 'Payload Too Large';
  }
}

export interface CaseEvent {
  event_id: string;
  event_type: string;
  occurred_at: string;
  source: string;
  batch_id: string;
  status: string | null;
  service_code: string | null;
  service_name: string | null;
  agency: string | null;
  channel: string | null;
  area_name: string | null;
  expected_at: string | null;
  quality_flags: string[];
}
export interface CaseInteraction {
  interaction_id: string;
  channel: string;
  direction: string;
  started_at: string;
  /** Present when the warehouse records when a contact was answered. */
  answered_at?: string | null;
  ended_at: string | null;
  wait_seconds: number | null;
  handle_seconds: number | null;
  outcome: string | null;
  team: string | null;
}
export interface CaseSurvey {
  response_id: string;
  answered_at: string;
  csat: number | null;
  nps: number | null;
  trust: number | null;
  interaction_id: string | null;
  /** `case`: an answer about the case; `interaction`: about one of its contacts. */
  about: 'case' | 'interaction';
}
export interface CaseDetail {
  as_of: string;
  timezone: string;
  area_kind: string;
  case: CaseRow;
  events: CaseEvent[];
  interactions: CaseInteraction[];
  surveys: CaseSurvey[];
}

const answeredAtColumn = new WeakMap<Warehouse, Promise<boolean>>();
/** Migrations run only when a warehouse is opened: the answer holds for its life. */
function hasAnsweredAt(wh: Warehouse): Promise<boolean> {
  let p = answeredAtColumn.get(wh);
  if (!p) {
    p = wh.all<{ name: string }>(INTERACTION_COLUMNS_SQL).then((cols) => cols.some((c) => c.name === 'answered_at'));
    p.catch(() => answeredAtColumn.delete(wh));
    answeredAtColumn.set(wh, p);
  }
  return p;
}

/**
 * One case as of a time (default: the data's), in an area kind, with its event trail, contacts
 * and survey answers up to then. Null when there is no such case the caller may see — a case of
 * another agency and a case that does not exist read the same, so a scope does not confirm it.
 */
export async function caseDetail(
  wh: Warehouse,
  caseId: string,
  o: { timezone: string; as_of?: string; area_kind?: string; scope?: CaseScope },
): Promise<CaseDetail | null> {
  // The as-of time checked and defaulted as every analysis does it (the newest event).
  const asOf = (await resolveWindow(wh, { as_of: o.as_of }, o.timezone)).as_of;
  // Any opening up to the as-of time: the window's days do not narrow a single case.
  const window: CaseWindow = { from: '1900-01-01', to: '2999-12-31', as_of: asOf, timezone: o.timezone };
  const sel = await resolveSelection(wh, window, { area_kind: o.area_kind, scope: o.scope });
  const q = buildCaseRowQuery(caseId, sel);
  const row = (await wh.all<CaseRow>(q.sql, q.params))[0];
  if (!row) return null;
  const events = buildCaseEventsQuery(caseId, asOf);
  const contacts = buildCaseInteractionsQuery(caseId, asOf, { answeredAt: await hasAnsweredAt(wh) });
  const surveys = buildCaseSurveysQuery(caseId, asOf);
  return {
    as_of: asOf,
    timezone: o.timezone,
    area_kind: sel.area_kind,
    case: row,
    events: await wh.all<CaseEvent>(events.sql, events.params),
    interactions: await wh.all<CaseInteraction>(contacts.sql, contacts.params),
    surveys: await wh.all<CaseSurvey>(surveys.sql, surveys.params),
  };
}
