// Case predicates, written once and used by every analysis (KPIs, trends, hot-spots, equity,
// reports): the window (local days in the jurisdiction's zone), the filters, the area (of one kind
// at a time), what had happened to a case by the as-of time, and data errors. Two surfaces that
// show the same measure for the same cases agree because they build their SQL from these.
// Identifiers come only from the allow-lists here; every value is bound (`$name`).
import { query, type Params, type Query } from '../db.ts';

/** The one label for a case that is in no area of the kind asked for. */
export const NO_AREA = '(no area)';
/**
 * The pseudo area kind of the source's own area names (`area_name` in a profile): what a city that
 * names its neighbourhoods but loads no polygons sees. Loaded polygon kinds take precedence as the
 * default (see `defaultAreaKind`).
 */
export const SOURCE_AREA_KIND = 'source';

/** The window every analysis shares: local days [from, to] and what "now" is for open cases. */
export interface CaseWindow {
  /** First local day (YYYY-MM-DD), inclusive. */
  from: string;
  /** Last local day (YYYY-MM-DD), inclusive. */
  to: string;
  /** ISO timestamp: what "now" is for open cases; nothing after it is seen. */
  as_of: string;
  /** IANA zone the days are cut in. */
  timezone: string;
}

/** Filters, each one value: only cases that match all of them are counted. */
export interface CaseFilter {
  /** A service code or name. */
  service?: string;
  service_group?: string;
  agency?: string;
  channel?: string;
  /** An area id or name, of the selection's area kind. */
  area?: string;
}
export const FILTER_NAMES = ['service', 'service_group', 'agency', 'channel', 'area'] as const satisfies readonly (keyof CaseFilter)[];

/**
 * Who is asking: a principal scoped to agencies sees only their cases. Part of the case predicate,
 * so no route filters rows itself. `null` agencies = every agency.
 */
export interface CaseScope {
  agencies?: readonly string[] | null;
  /**
   * Services (as outputs label them) left out entirely: the public audience's sensitive services
   * (disclosure.sensitive_services). Not only hidden by area: Open311 lists every other request,
   * so any public total that still held them would give their count away by subtraction.
   */
  exclude_services?: readonly string[] | null;
  /** Service codes left out likewise (a case named otherwise, or not named, is still its code's). */
  exclude_service_codes?: readonly string[] | null;
}

/** Everything that decides which cases an analysis counts and how they are labelled. */
export interface CaseSelection {
  window: CaseWindow;
  filter?: CaseFilter;
  /** The area kind areas are taken from (a loaded polygon kind, or `source`). */
  area_kind: string;
  scope?: CaseScope;
  /**
   * Every case's stored local days (`opened_day`, `closed_day`: migration 010) are cut in the
   * window's zone, so days are read, not converted per row (analytics/dimensions.ts decides).
   */
  local_days?: boolean;
  /**
   * false: no case's state at the as-of time needs the event log (none was reopened and changed
   * after it), so `state` reads the cases row alone. Reading the log scans every close, cancel
   * and reopening of the warehouse (10M events: about 2 s a query) even when it matches nothing.
   * Unset: the log is read (analytics/dimensions.ts decides).
   */
  state_log?: boolean;
  /** false: no case in the warehouse was ever reopened, so no reopening needs looking up. */
  reopenings?: boolean;
  /**
   * true: the settled cases' masks stored in `cases` hold the KPI table's predicates as this code
   * writes them (kpi-sql.ts settledMasksSql), so the KPI table reads them. Unset: every case's
   * predicates are evaluated (analytics/dimensions.ts decides).
   */
  settled_masks?: boolean;
}

/** The labels the outputs give a missing value; each is a valid filter value too. */
export const MISSING_LABELS = {
  service: '(unknown service)',
  service_group: '(no service group)',
  agency: '(unknown agency)',
  channel: '(unknown channel)',
  area: NO_AREA,
} as const;

/** Case attributes an analysis may group by, each labelled when missing (constants, no quotes in them). */
const ATTRIBUTE_SQL = {
  service: `coalesce(c.service_name, c.service_code, '${MISSING_LABELS.service}')`,
  // `s` is services, joined only when a query needs it.
  service_group: `coalesce(s.service_group, '${MISSING_LABELS.service_group}')`,
  agency: `coalesce(c.agency, '${MISSING_LABELS.agency}')`,
  channel: `coalesce(c.channel, '${MISSING_LABELS.channel}')`,
} as const;

/** The area of a case, of the selection's kind: the loaded polygon's name, or the source's name. */
function areaSql(kind: string): string {
  return kind === SOURCE_AREA_KIND ? `coalesce(c.area_name, '${MISSING_LABELS.area}')` : `coalesce(a.name, '${MISSING_LABELS.area}')`;
}

export const ATTRIBUTES = ['service', 'service_group', 'agency', 'channel', 'area'] as const;
export type Attribute = (typeof ATTRIBUTES)[number];

/** Calendar periods, cut in the jurisdiction's time zone and labelled by their first local day. */
export const PERIODS = ['day', 'week', 'month', 'quarter'] as const;
export type Period = (typeof PERIODS)[number];
export const isPeriod = (d: string): d is Period => (PERIODS as readonly string[]).includes(d);

export const DIMENSION_NAMES = [...ATTRIBUTES, ...PERIODS] as const;
export type Dimension = (typeof DIMENSION_NAMES)[number];
export const isDimension = (d: string): d is Dimension => (DIMENSION_NAMES as readonly string[]).includes(d);

/** Which time places a case in the window: the opened cohort by opening, the closed cohort by its first close. */
export type CohortTime = 'opened_at' | 'closed_at';

/** The stored local day of a cohort time (migration 010). */
const DAY_COLUMN: Record<CohortTime, string> = { opened_at: 'opened_day', closed_at: 'closed_day' };

/**
 * The local day of a case's `at` time, as a DATE: the stored column when the selection's zone is
 * the one it was cut in, else converted here. `AT TIME ZONE` makes a local wall-clock time, so a
 * day starts at local midnight whatever the UTC offset is that day (DST included).
 */
export function localDaySql(at: CohortTime = 'opened_at', localDays = false, alias = 'c.'): string {
  return localDays ? `${alias}${DAY_COLUMN[at]}` : `(${alias}${at} AT TIME ZONE $tz)::DATE`;
}

export function periodSql(unit: Period, at: CohortTime = 'opened_at', alias = 'c.', localDays = false): string {
  return periodOfDaySql(unit, localDaySql(at, localDays, alias));
}

/**
 * The period a local DATE falls in, as the DATE of its first day (`week` starts on Monday, ISO);
 * it reaches JavaScript as its label, "YYYY-MM-DD". Kept a DATE inside the query, not formatted
 * per row: grouping, sorting and partitioning millions of cases on a 4-byte date instead of a
 * string made a KPI table's aggregation about twice as fast (a year of 5M cases: 0.40 s → 0.12 s).
 */
const periodOfDaySql = (unit: Period, day: string) => (unit === 'day' ? day : `date_trunc('${unit}', ${day})::DATE`);

/**
 * The period of any instant column that is not a case's (an interaction's `i.started_at`), cut in
 * the zone `$tz` and labelled exactly as case periods are.
 */
export const instantPeriodSql = (unit: Period, column: string) => periodOfDaySql(unit, `(${column} AT TIME ZONE $tz)::DATE`);

/** An instant on or after the start of the local day `$from` / before the end of the local day `$to` (DST included). */
export const onOrAfterFromDay = (column: string) => `${column} >= timezone($tz, $from::DATE::TIMESTAMP)`;
export const onOrBeforeToDay = (column: string) => `${column} <  timezone($tz, ($to::DATE + 1)::TIMESTAMP)`;

/** The caller's agency scope over an agency column: null = every agency, [] = none. Values bound as `$scope_agency_<i>`. */
export function agencyScopeSql(agencies: readonly string[] | null, column: string): string[] {
  if (!agencies) return [];
  return [agencies.length ? `${column} IN (${agencies.map((_, i) => `$scope_agency_${i}`).join(', ')})` : 'false'];
}
export const agencyScopeParams = (agencies: readonly string[] | null): Params => Object.fromEntries((agencies ?? []).map((a, i) => [`scope_agency_${i}`, a]));

/** The SQL label of a dimension for a selection; a period is cut by the cohort's own time. */
export function dimensionSql(d: Dimension, areaKind: string, at: CohortTime = 'opened_at', localDays = false): string {
  if (isPeriod(d)) return periodSql(d, at, 'c.', localDays);
  if (d === 'area') return areaSql(areaKind);
  return ATTRIBUTE_SQL[d];
}

// What had happened to a case by the as-of time. `p` is the alias prefix of the cases row ('c.',
// 'k.' or '' inside a CTE that kept the columns' names).
export const closedByAsOf = (p = 'c.') => `(${p}closed_at IS NOT NULL AND ${p}closed_at <= $as_of::TIMESTAMPTZ)`;
/**
 * Cancelled as seen at the as-of time (a column of `selectCases(…, { state: true })`): a case
 * cancelled later was not cancelled then, and one cancelled, reopened and closed since was.
 */
export const cancelledByAsOf = (p = 'c.') => `${p}cancelled_at_as_of`;
/** Open at the as-of time (a column of `selectCases(…, { state: true })`). */
export const openAtAsOf = (p = 'c.') => `${p}open_at_as_of`;

/**
 * A case's state at the as-of time. Its `cases` row says what is true now; that is also what was
 * true at the as-of time unless something happened to it since (`last_event_at` after as-of) and
 * it was ever reopened — then only the event log knows the order of closes, cancels and reopens
 * up to the as-of time. Those few cases get their last close, cancel and reopen from the log.
 */
const STATE_LOG_SQL = `
  SELECT e.case_id,
         max(e.occurred_at) FILTER (WHERE e.event_type = 'closed') AS last_close,
         max(e.occurred_at) FILTER (WHERE e.event_type = 'cancelled') AS last_cancel,
         max(e.occurred_at) FILTER (WHERE e.event_type = 'reopened') AS last_reopen
  FROM case_events e
  WHERE e.event_type IN ('closed', 'cancelled', 'reopened') AND e.occurred_at <= $as_of::TIMESTAMPTZ
    AND e.case_id IN (SELECT case_id FROM cases WHERE reopen_count > 0 AND NOT coalesce(last_event_at <= $as_of::TIMESTAMPTZ, false))
  GROUP BY e.case_id`;
const NEEDS_LOG = `(c.reopen_count > 0 AND NOT coalesce(c.last_event_at <= $as_of::TIMESTAMPTZ, false))`;
const LAST_END = `greatest(sl.last_close, sl.last_cancel)`;
/** A case's state at the as-of time from its row alone: right for every case that does not need the log. */
const CANCELLED_FROM_ROW = `coalesce(c.status = 'cancelled' AND c.cancelled_at <= $as_of::TIMESTAMPTZ, false)`;
const OPEN_FROM_ROW = `CASE WHEN c.reopen_count > 0 THEN c.status = 'open'
        ELSE NOT coalesce(c.closed_at <= $as_of::TIMESTAMPTZ OR c.cancelled_at <= $as_of::TIMESTAMPTZ, false) END`;
const STATE_COLUMNS = [
  `CASE WHEN ${NEEDS_LOG} THEN coalesce(sl.last_cancel >= coalesce(sl.last_close, sl.last_cancel) AND sl.last_cancel > coalesce(sl.last_reopen, '-infinity'::TIMESTAMPTZ), false)
        ELSE ${CANCELLED_FROM_ROW} END AS cancelled_at_as_of`,
  `CASE WHEN ${NEEDS_LOG} THEN ${LAST_END} IS NULL OR coalesce(sl.last_reopen >= ${LAST_END}, false)
        ELSE ${OPEN_FROM_ROW} END AS open_at_as_of`,
];
/** STATE_COLUMNS when no case needs the log (CaseSelection.state_log false). */
const STATE_COLUMNS_WITHOUT_LOG = [`${CANCELLED_FROM_ROW} AS cancelled_at_as_of`, `${OPEN_FROM_ROW} AS open_at_as_of`];
/** The state columns from a cases row `c` alone: right at any as-of time at or after its last event (the stored masks: kpi-sql.ts settledMasksSql). */
export const rowStateColumns = () => [...STATE_COLUMNS_WITHOUT_LOG];
/** Closed before it opened: excluded from durations and on-time rates, and counted. */
export const dataError = (p = 'c.') => `coalesce(${p}closed_at < ${p}opened_at, false)`;
export const pastDueAtAsOf = (p = 'c.') => `${p}due_at < $as_of::TIMESTAMPTZ`;
/** Survey answers count once given, by the as-of time. */
export const answeredByAsOf = (p = 'r.') => `${p}answered_at <= $as_of::TIMESTAMPTZ`;
/** A contact counts once it started, by the as-of time. */
export const contactedByAsOf = (p = 'i.') => `${p}started_at <= $as_of::TIMESTAMPTZ`;

/**
 * The survey answers given by the as-of time, with the case they are about: directly, or through
 * the contact they rate. Columns: case_id, csat, nps.
 */
export const SURVEY_ANSWERS_SQL = `
  SELECT r.case_id, r.csat, r.nps
  FROM survey_responses r
  WHERE r.case_id IS NOT NULL AND ${answeredByAsOf()}
  UNION ALL
  SELECT i.case_id, r.csat, r.nps
  FROM survey_responses r JOIN interactions i ON i.interaction_id = r.interaction_id
  WHERE r.case_id IS NULL AND ${answeredByAsOf()}`;

/** A filter matches what the outputs label a case with (so "(no area)" filters too), or its id. */
function filterSql(f: keyof CaseFilter, areaKind: string): string {
  switch (f) {
    case 'service':
      return `(c.service_code = $f_service OR ${ATTRIBUTE_SQL.service} = $f_service)`;
    case 'area':
      return areaKind === SOURCE_AREA_KIND ? `${areaSql(areaKind)} = $f_area` : `(ca.area_id = $f_area OR ${areaSql(areaKind)} = $f_area)`;
    default:
      return `${ATTRIBUTE_SQL[f]} = $f_${f}`;
  }
}



export interface SelectCasesOptions {
  /** Dimensions to label each case with (as columns named like the dimension). */
  by?: readonly Dimension[];
  /** Which time must fall in the window (default: opening). */
  at?: CohortTime;
  /** Further columns of `cases c` (or expressions over it) to select. */
  columns?: readonly string[];
  /**
   * Ignore the window's `from` (still never later than `to`'s day nor the as-of time): the backlog
   * at the as-of time counts every case still open, however long ago it opened.
   */
  sinceEver?: boolean;
  /** Add each case's state at the as-of time: `cancelled_at_as_of`, `open_at_as_of`. */
  state?: boolean;
  /**
   * A condition on `c` under which the caller reads neither state column: for those cases they
   * are NULL, and only the others' are computed. For the KPI table's parts read off the stored
   * masks (kpi-sql.ts cohortPartsQuery), which evaluate only the unsettled cases' predicates.
   */
  stateUnless?: string;
}

/** A state column (`<expression> AS <name>`) computed only where `unless` does not hold (NULL where it does). */
function stateOnlyWhereNot(column: string, unless: string): string {
  const as = column.lastIndexOf(' AS ');
  if (as < 0) throw new Error(`a state column without a name: ${column}`);
  return `CASE WHEN ${unless} THEN NULL ELSE (${column.slice(0, as)}) END${column.slice(as)}`;
}

/**
 * The cases of a selection: those whose `at` time falls on a local day in [from, to] and not
 * after the as-of time, matching every filter and the caller's scope; each labelled with `by`.
 */
export function selectCases(sel: CaseSelection, o: SelectCasesOptions = {}): Query {
  const by = o.by ?? [];
  const at = o.at ?? 'opened_at';
  const filter = sel.filter ?? {};
  const active = FILTER_NAMES.filter((f) => filter[f] !== undefined && filter[f] !== null);
  const uses = new Set<string>([...by, ...active]);
  const polygonArea = uses.has('area') && sel.area_kind !== SOURCE_AREA_KIND;
  const joins = [
    uses.has('service_group') ? 'LEFT JOIN services s ON s.service_code = c.service_code' : '',
    polygonArea ? 'LEFT JOIN case_areas ca ON ca.case_id = c.case_id AND ca.area_kind = $area_kind LEFT JOIN areas a ON a.area_id = ca.area_id' : '',
    o.state && sel.state_log !== false ? `LEFT JOIN (${STATE_LOG_SQL}) sl ON sl.case_id = c.case_id` : '',
  ].filter(Boolean);
  const agencies = sel.scope?.agencies ?? null;
  const excluded = sel.scope?.exclude_services ?? [];
  const excludedCodes = sel.scope?.exclude_service_codes ?? [];
  const day = sel.local_days ? `c.${DAY_COLUMN[at]}` : null;
  const where = [
    // On a stored local day, or else on the instants the local days begin and end.
    ...(o.sinceEver ? [] : [day ? `${day} >= $from::DATE` : onOrAfterFromDay(`c.${at}`)]),
    day ? `${day} <= $to::DATE` : onOrBeforeToDay(`c.${at}`),
    `c.${at} <= $as_of::TIMESTAMPTZ`,
    ...active.map((f) => filterSql(f, sel.area_kind)),
    ...agencyScopeSql(agencies, 'c.agency'),
    ...(excluded.length ? [`${ATTRIBUTE_SQL.service} NOT IN (${excluded.map((_, i) => `$scope_excluded_${i}`).join(', ')})`] : []),
    ...(excludedCodes.length ? [`coalesce(c.service_code, '') NOT IN (${excludedCodes.map((_, i) => `$scope_excluded_code_${i}`).join(', ')})`] : []),
  ];
  const state = (o.state ? (sel.state_log !== false ? STATE_COLUMNS : STATE_COLUMNS_WITHOUT_LOG) : []).map((c) => (o.stateUnless ? stateOnlyWhereNot(c, o.stateUnless) : c));
  const select = [...by.map((d) => `${dimensionSql(d, sel.area_kind, at, sel.local_days)} AS ${d}`), ...(o.columns ?? []), ...state];
  const sql = `SELECT ${select.length ? select.join(', ') : '1 AS one'}
    FROM cases c ${joins.join(' ')}
    WHERE ${where.join('\n      AND ')}`;
  const params: Params = { tz: sel.window.timezone, from: sel.window.from, to: sel.window.to, as_of: sel.window.as_of, area_kind: sel.area_kind };
  for (const f of active) params[`f_${f}`] = String(filter[f]);
  Object.assign(params, agencyScopeParams(agencies));
  excluded.forEach((name, i) => (params[`scope_excluded_${i}`] = name));
  excludedCodes.forEach((code, i) => (params[`scope_excluded_code_${i}`] = code));
  return query(sql, params);
}

/** The filters actually given (for stating them in an output). */
export function appliedFilter(filter: CaseFilter = {}): CaseFilter {
  return Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== undefined && v !== null)) as CaseFilter;
}

/** The area kind used when a caller names none: `district` if loaded, else the first polygon kind by name, else the source's names. */
export function defaultAreaKindOf(polygonKinds: readonly string[]): string {
  if (polygonKinds.includes('district')) return 'district';
  return [...polygonKinds].sort()[0] ?? SOURCE_AREA_KIND;
}

/** Below the surrogates, UTF-16 code units order strings as their UTF-8 bytes do. */
const BELOW_SURROGATES = /^[\u0000-\ud7ff]*$/;
/**
 * DuckDB's order of text: by the bytes of its UTF-8 (a histogram's keys, an ORDER BY of VARCHARs),
 * for JavaScript to keep the order DuckDB would have given. Not the order labels are shown in
 * (compareLabels).
 */
export function compareAsDuckDb(a: string, b: string): number {
  if (BELOW_SURROGATES.test(a) && BELOW_SURROGATES.test(b)) return a < b ? -1 : a > b ? 1 : 0;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Natural order for labels: "District 2" before "District 10"; the no-area label last. */
const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });
export function compareLabels(a: string, b: string): number {
  if (a === b) return 0;
  if (a === NO_AREA) return 1;
  if (b === NO_AREA) return -1;
  return collator.compare(a, b) || (a < b ? -1 : 1);
}
