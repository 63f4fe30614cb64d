// Pure SQL builders for the KPI queries: the cases come from the shared case predicates
// (case-predicates.ts), the aggregates from the measure registry (measures.ts). Dimensions come
// only from the allow-lists; dates, zone, as-of time and filter values are bound values.
import { createHash } from 'node:crypto';
import { query, type Query } from '../db.ts';
import {
  cancelledByAsOf,
  contactedByAsOf,
  SURVEY_ANSWERS_SQL,
  dimensionSql,
  rowStateColumns,
  selectCases,
  type CaseSelection,
  type Dimension,
} from './case-predicates.ts';
import { MEASURES, SUM_COLUMNS, sqlMeasures, type Cohort, type Measure } from './measures.ts';

export { DIMENSION_NAMES, FILTER_NAMES, isDimension, type CaseFilter as KpiFilter, type CaseWindow as KpiWindow, type Dimension } from './case-predicates.ts';

/** The outcome value an agent records for "resolved at first contact" (reported FCR). */
export const RESOLVED_FIRST_CONTACT = 'resolved_first_contact';
const DAY_US = 86_400_000_000;
/** Reopen rate: a reopening within this long after the first close counts. */
export const REOPEN_WINDOW_DAYS = 30;
/** Measured FCR: no new contact or reopening within this long after closing. */
export const FCR_WINDOW_DAYS = 7;

const CASE_COLUMNS = ['c.case_id', 'c.opened_at', 'c.first_response_at', 'c.closed_at', 'c.cancelled_at', 'c.due_at', 'c.status', 'c.reopen_count', 'c.last_event_at'];

/** Whole days a case had been open at the as-of time: 0–2 means under 3 days, and so on. */
export const ageDaysSql = (p = 'k.') => `floor((epoch_us($as_of::TIMESTAMPTZ) - epoch_us(${p}opened_at)) / ${DAY_US})`;

/** The survey columns of the opened cohort's rows (what the survey measures sum). */
const SURVEY_COLUMNS = SUM_COLUMNS.surveys;

/**
 * The opened cohort's cases, one row each (the relation `st`), with what the opened and backlog
 * measures read — whether it was open at the as-of time, its age then, its survey answers given
 * by then (unless `surveys` is false: none are read and the survey columns are null — no case
 * count reads them, and a warehouse without answers sums to 0 either way). With `sinceEver`,
 * every case opened up to the window's end (the backlog's cohort). The KPI counts aggregate these
 * rows; the case list (case-list-sql.ts) selects from them by a measure's predicate.
 */
export function openedCohortRows(by: readonly Dimension[], sel: CaseSelection, o: { sinceEver?: boolean; surveys?: boolean; storedMasks?: SettledColumns } = {}): Query {
  const stored = sel.settled_masks ? [`c.${SETTLED.opened.at}`, `c.${SETTLED.opened.mask}`] : [];
  // Read off stored masks (storedMasksFor), a settled case's state and age are read by nothing.
  const unless = o.storedMasks ? settledAt(o.storedMasks, 'c.') : undefined;
  const k = selectCases(sel, { by, columns: [...CASE_COLUMNS, `${dimensionSql('channel', sel.area_kind)} AS channel_label`, ...stored], sinceEver: o.sinceEver, state: true, stateUnless: unless });
  const surveys = o.surveys !== false;
  // Held once only when the survey answers are matched to its cases: holding a year of a large
  // city's cases cost more than half of the whole count.
  const sql = `
WITH k AS ${surveys ? 'MATERIALIZED' : 'NOT MATERIALIZED'} (
  ${k.sql}
)${surveys ? `, answers AS (
  ${SURVEY_ANSWERS_SQL}
), surveys AS (
  SELECT case_id,
         count(*) AS n,
         count(csat) AS csat_n,
         sum(csat) AS csat_sum,
         count(*) FILTER (WHERE csat >= 4) AS csat_top2,
         count(nps) AS nps_n,
         count(*) FILTER (WHERE nps >= 9) AS promoters,
         count(*) FILTER (WHERE nps <= 6) AS detractors
  FROM answers
  WHERE case_id IN (SELECT case_id FROM k)
  GROUP BY case_id
)` : ''}, st AS (
  SELECT k.*,
         ${unless ? `CASE WHEN ${settledAt(o.storedMasks!, 'k.')} THEN NULL ELSE ${ageDaysSql()} END` : ageDaysSql()} AS age_days,
         ${surveys ? 'v.n AS sv_n, v.csat_n, v.csat_sum, v.csat_top2, v.nps_n, v.promoters, v.detractors' : SURVEY_COLUMNS.map((c) => `NULL::BIGINT AS ${c}`).join(', ')}
  FROM k${surveys ? `
  LEFT JOIN surveys v ON v.case_id = k.case_id` : ''}
)`;
  return query(sql, k.params);
}

/**
 * The most predicates one mask holds: its bits are read in JavaScript with 32-bit operators.
 */
const MASK_BITS = 30;

/** The distinct predicates of a cohort's measures (and of `durations`' Kaplan–Meier terms), in the order their bits are numbered. */
function predicateBits(cohorts: readonly Cohort[], durations: readonly KmDuration[]) {
  const predicates: string[] = [];
  // The same predicate (closed by the as-of time is both a count and the end of time to close) is one bit.
  const bitOf = (where: string) => {
    const at = predicates.indexOf(where);
    return at >= 0 ? at : predicates.push(where) - 1;
  };
  for (const m of sqlMeasures(cohorts)) if (m.kind === 'count' && m.drillable && m.where !== 'TRUE') bitOf(m.where);
  for (const duration of durations) {
    const t = kmTerms(duration);
    bitOf(t.counted);
    bitOf(t.ended);
  }
  return { predicates, bitOf };
}

/** A case's mask: bit i set when predicate i holds. CASE WHEN, not casts and shifts: a predicate that is NULL counts no case, as count_if says. */
function maskSql(predicates: readonly string[]): string {
  return predicates.length ? `(${predicates.map((p, i) => `CASE WHEN ${p} THEN ${2 ** i} ELSE 0 END`).join('\n    + ')})` : '0';
}

/** The durations the registry's Kaplan–Meier measures read, in registry order (what the KPI table's opened cohort lists). */
export const KM_DURATIONS: readonly KmDuration[] = [...new Set((MEASURES as readonly Measure[]).flatMap((m) => (m.kind === 'km' ? [m.duration] : [])))];

/** The cohorts whose masks `cases` stores for settled cases, and the columns that hold them (migration 015). */
export type SettledCohort = 'opened' | 'closed';
interface SettledColumns { cohort: SettledCohort; at: string; mask: string }
/** Whether a case of the row `p` (an alias prefix) is settled at the as-of time: its stored mask is read then. */
const settledAt = (s: SettledColumns, p: string) => `${p}${s.at} <= $as_of::TIMESTAMPTZ`;
const SETTLED: Record<SettledCohort, SettledColumns> = {
  opened: { cohort: 'opened', at: 'opened_settled_at', mask: 'opened_mask' },
  closed: { cohort: 'closed', at: 'closed_settled_at', mask: 'closed_mask' },
};
/** The columns of `cases` that hold the stored masks (settledMasksSql): a source of rows to compute them from leaves them out. */
export const SETTLED_COLUMNS = Object.values(SETTLED).flatMap((c) => [c.at, c.mask]);

/**
 * The predicates a stored mask holds, in bit order: those of the KPI table's parts (the opened
 * cohort's counts with the backlog's and the Kaplan–Meier terms of KM_DURATIONS; the closed
 * cohort's counts). Another query's set of predicates is evaluated live.
 */
function settledPredicates(cohort: SettledCohort): string[] {
  return cohort === 'opened' ? predicateBits(['opened', 'backlog'], KM_DURATIONS).predicates : predicateBits(['closed'], []).predicates;
}

/**
 * How far past its settled time a case's mask is evaluated a second time (a mask that differs there
 * was not settled): 36,500 days of microseconds, added to the epoch as a number. A TIMESTAMPTZ plus
 * an INTERVAL is ICU's calendar arithmetic in DuckDB, about 0.23 µs a row: inlined in each of the
 * mask's predicates it was most of the masks' cost (1.5-1.8 s per 500,000 cases at ingest).
 */
const LATER_US = 36_500 * 86_400_000_000;
/**
 * A TIMESTAMPTZ `us` microseconds after `t`, without ICU (the same instant ICU gives in the
 * warehouse's UTC session). An infinite `t` gives NULL (epoch_us has no value for it): such a case's
 * mask is then not stored, and a KPI table evaluates it, as it does every unsettled case.
 */
const plusUs = (t: string, us: string) => `make_timestamptz(epoch_us(${t}) + ${us})`;

/**
 * The rows of `source` (cases rows, without the stored-mask columns) with each settled case's
 * masks: `opened_settled_at` and `opened_mask`, `closed_settled_at` and `closed_mask` (migration
 * 015). A case's mask of a cohort's predicates (settledPredicates) depends on the as-of time only
 * through comparisons with its own timestamps, its age at the as-of time and, for the closed
 * cohort, how long since its close (the 30- and 7-day windows). Past the latest of those (its
 * settled time) nothing it is compared with lies ahead, so the mask is the same at every later
 * as-of time but for age, and age counts only while a case is open. So a case's mask is stored,
 * with its settled time, when at that time it is not open and its mask is the same 100 years on
 * (a predicate that read the age of a case no longer open would differ there). A case ever
 * reopened is stored for the opened cohort only once its row alone tells its state
 * (`last_event_at` known), and not at all for the closed cohort (its reopening is looked up in the
 * events); the closed cohort's mask is computed without contacts (a warehouse that holds contacts
 * reads them live). A KPI table reads a case's stored mask when the as-of time is at or after its
 * settled time, and evaluates every other case's (cohortPartsQuery): on the bench's 5M cases the
 * predicates were about half of each cohort's scan. The SQL's digest says which predicates the
 * stored masks hold: masks stored under another digest are not read (analytics/settled-masks.ts).
 */
export function settledMasksSql(source: string): Query & { digest: string } {
  const at = (expr: string, t: string) => expr.replaceAll('$as_of::TIMESTAMPTZ', t);
  const params = { reopen_us: REOPEN_WINDOW_DAYS * DAY_US, fcr_us: FCR_WINDOW_DAYS * DAY_US };
  // The state columns as selectCases gives them from the row alone (right at any as-of time past the last event).
  const state = (t: string) => rowStateColumns().map((c) => at(c, t)).join(', ');
  const lastTime = 'greatest(c.opened_at, c.first_response_at, c.closed_at, c.cancelled_at, c.due_at, c.last_event_at)';
  // One cohort's mask at its settled time (settle_t) and 100 years on: kept where both agree and the case is not open at the first.
  const levels = (cohort: SettledCohort, from: string, extra: (t: string) => string[]) => {
    const mask = maskSql(settledPredicates(cohort));
    const { at: atCol, mask: maskCol } = SETTLED[cohort];
    const added = ['cancelled_at_as_of', 'open_at_as_of', ...extra('t').map((c) => c.slice(c.lastIndexOf(' AS ') + 4))].join(', ');
    const columns = (t: string) => [...rowStateColumns(), ...extra(t)].map((c) => at(c, t)).join(',\n         ');
    // The later time is a column of its own, computed once per row, and so is the mask there.
    return `${cohort}_1 AS (
  SELECT * EXCLUDE (${added}), ${at(mask, 'settle_t')} AS mask_1, coalesce(NOT open_at_as_of, false) AS ended_1
  FROM (SELECT c.*,
         ${columns('c.settle_t')}
        FROM ${from} c)
), ${cohort}_2 AS (
  SELECT * EXCLUDE (${added}, settle_t, later_t, mask_1, ended_1, mask_2),
         CASE WHEN ended_1 AND mask_1 = mask_2 THEN settle_t END AS ${atCol},
         CASE WHEN ended_1 AND mask_1 = mask_2 THEN mask_1 END AS ${maskCol}
  FROM (SELECT *, ${at(mask, 'later_t')} AS mask_2
        FROM (SELECT c.*,
               ${columns('c.later_t')}
              FROM (SELECT *, ${plusUs('settle_t', String(LATER_US))} AS later_t FROM ${cohort}_1) c))
)`;
  };
  const sql = `WITH src AS (
  ${source}
), opened_0 AS (
  -- A case reopened is settled only once its row alone tells its state (selectCases reads the log otherwise).
  SELECT c.*, CASE WHEN c.reopen_count = 0 OR c.last_event_at IS NOT NULL THEN ${lastTime} END AS settle_t FROM src c
), ${levels('opened', 'opened_0', () => [`${ageDaysSql('c.')} AS age_days`])}, closed_0 AS (
  SELECT c.*, CASE WHEN c.closed_at IS NOT NULL AND c.reopen_count = 0
    THEN greatest(${lastTime}, ${plusUs('c.closed_at', '$reopen_us')}, ${plusUs('c.closed_at', '$fcr_us')}) END AS settle_t
  FROM opened_2 c
), ${levels('closed', 'closed_0', () => closedRowColumns({ reopens: false, contacts: false }, 'c.'))}
SELECT * FROM closed_2`;
  if (sql.includes('$as_of')) throw new Error('settledMasksSql: an as-of time left unbound');
  return { ...query(sql, params), digest: createHash('sha256').update(sql).update(JSON.stringify(params)).digest('hex') };
}

/** Where a cohort's parts (cohortPartsQuery) keep each measure, for foldCohortParts. */
export interface CohortPartsLayout {
  /** Each case count: the bit of its predicate, or null for `TRUE` (every case of the part). */
  counts: { name: string; bit: number | null }[];
  /** Sums (survey answers, contacts): one column each, added part to part; those the warehouse holds no data for are 0, unread. */
  sums: { name: string; read: boolean }[];
  /** Mixes (histograms, maps of value → cases): one column each, added key by key. */
  mixes: string[];
  /**
   * Each duration's list column (its durations other than zero), the column counting its zero
   * durations, and the bits of "counted by Kaplan–Meier" and "ended by the as-of time".
   */
  durations: { duration: KmDuration; column: string; zeros: string; counted: number; ended: number }[];
}
export type CohortPartsQuery = Query & { layout: CohortPartsLayout };

/**
 * A cohort's cases summed into parts: one row per group of `by` and combination of predicates
 * (`mask`: bit i set when the cohort's i-th distinct predicate holds for the case — every case
 * count's `where` of the registry, and, for each duration asked for, kmTerms' `counted` and
 * `ended`), with the part's case count `n`, the registry's sums and mixes over its cases and, per
 * duration, its cases' durations in seconds (`<duration>_s`, a list) other than those of zero,
 * which are only counted (`<duration>_zeros`). A measure's figure for a group is then the sum of
 * `n` over the group's parts whose mask has its bit (foldCohortParts), and a duration's ended and
 * censored observations the parts' lists and zeros with the bits set or not.
 *
 * Zeros apart: a request answered or closed the moment it was opened (an automatic
 * acknowledgement, a request closed on the call) has a duration of exactly zero. The fold writes a
 * group's zeros back into its array before the sort (ListsTogether), so Kaplan–Meier sorts and
 * walks the same numbers; counting them costs a comparison, where listing them cost DuckDB
 * building the list and a copy into JavaScript for each (the sort passes over a pile of zeros
 * cheaply: every digit shared). On the bench's 5M cases, whose first responses are all at
 * opening, that was half the values of a year's table; LA's 2017 subset has 15% of its closes at
 * zero.
 *
 * One aggregate (the case count) per part, instead of one count_if per measure and a filtered list
 * per duration and kind of observation, made the opened cohort's counts and both durations' lists
 * one scan at about two thirds of the three scans' time (bench's 5M cases, back to back: 12 weeks
 * 0.44 → 0.29 s, a year 1.52 → 1.06 s); a case evaluates each predicate once, in its mask, and
 * the aggregates no longer filter. Folding the parts into groups in SQL as well (a second GROUP BY
 * with flatten) cost more than it saved. A registry sum must add up over any split of the cases
 * into parts (SumMeasure); a mix is a histogram, added key by key. cohort-parts.test.ts holds the
 * folded figures to the registry's own aggregate of each measure.
 */
function cohortPartsQuery(
  rows: Query,
  relation: 'st' | 'kc',
  by: readonly Dimension[],
  cohorts: readonly Cohort[],
  o: { durations?: readonly KmDuration[]; held: { surveys?: boolean; contacts?: boolean }; onlyCounted?: boolean; settled?: SettledColumns },
): CohortPartsQuery {
  const { predicates, bitOf } = predicateBits(cohorts, o.durations ?? []);
  const measures = sqlMeasures(cohorts);
  const layout: CohortPartsLayout = { counts: [], sums: [], mixes: [], durations: [] };
  const columns: string[] = [];
  for (const m of measures) {
    if (m.kind === 'mix') {
      layout.mixes.push(m.name);
      columns.push(`${m.sql} AS ${m.name}`);
    } else if (m.drillable) {
      layout.counts.push({ name: m.name, bit: m.where === 'TRUE' ? null : bitOf(m.where) });
    } else {
      // A sum of nothing held is 0: summing a column of NULLs still cost a pass over every case.
      const read = o.held[m.reads] !== false;
      layout.sums.push({ name: m.name, read });
      if (read) columns.push(`(${m.sql})::BIGINT AS ${m.name}`);
    }
  }
  for (const duration of o.durations ?? []) {
    const t = kmTerms(duration);
    const column = `${duration}_s`;
    const zeros = `${duration}_zeros`;
    layout.durations.push({ duration, column, zeros, counted: bitOf(t.counted), ended: bitOf(t.ended) });
    columns.push(`list((${t.us}) / 1e6) FILTER (WHERE (${t.us}) <> 0) AS ${column}`, `count(*) FILTER (WHERE (${t.us}) = 0) AS ${zeros}`);
  }
  if (predicates.length > MASK_BITS) throw new Error(`a cohort's parts hold at most ${MASK_BITS} predicates, not ${predicates.length}`);
  const live = maskSql(predicates);
  // A settled case's mask as stored (settledMasksSql): its predicates no longer change once the
  // as-of time reaches its settled time. Any other case is evaluated here. The rows' state and age
  // columns were computed for those cases only (storedMasksFor), so the stored masks must hold
  // these very predicates in this order.
  if (o.settled && JSON.stringify(predicates) !== JSON.stringify(settledPredicates(o.settled.cohort))) {
    throw new Error(`cohortPartsQuery: the stored ${o.settled.cohort} masks hold other predicates`);
  }
  const mask = o.settled ? `CASE WHEN ${settledAt(o.settled, '')} THEN ${o.settled.mask} ELSE ${live} END` : live;
  // A case no measure counts adds only to parts whose counts nobody reads: with `onlyCounted`,
  // and when every measure is a count with a predicate (no TRUE, sum, mix or duration, which read
  // every case), such cases are left out before they are grouped. Otherwise every case is read.
  const countedOnly = o.onlyCounted === true && predicates.length > 0 && columns.length === 0 && layout.sums.length === 0 && layout.counts.every((c) => c.bit !== null);
  const sql = `${rows.sql}
SELECT ${[...by, `(${mask})::INTEGER AS mask`, 'count(*) AS n', ...columns].join(',\n  ')}
FROM ${relation}${countedOnly ? `
WHERE ${predicates.map((p) => `(${p})`).join('\n   OR ')}` : ''}
GROUP BY ALL`;
  return { ...query(sql, rows.params), layout };
}

/**
 * The opened cohort's parts (cohortPartsQuery over openedCohortRows): the registry's opened and
 * backlog measures (a row cut by period keeps the backlog of its own period's cases), and the
 * lists of the `durations` asked for. A row not cut by period reads its backlog from
 * buildBacklogPartsQuery.
 */
export function buildOpenedPartsQuery(by: readonly Dimension[], sel: CaseSelection, o: { surveys?: boolean; durations?: readonly KmDuration[] } = {}): CohortPartsQuery {
  const settled = storedMasksFor(sel, 'opened', ['opened', 'backlog'], o.durations ?? []);
  return cohortPartsQuery(openedCohortRows(by, sel, { ...o, storedMasks: settled }), 'st', by, ['opened', 'backlog'], { durations: o.durations, held: { surveys: o.surveys }, settled });
}

/**
 * The stored masks a cohort's parts read: the warehouse's are current (CaseSelection.settled_masks)
 * and hold exactly the parts' predicates, in order (settledPredicates); else none, and every case
 * is evaluated. Reading them, the parts' rows compute a case's state and age at the as-of time only
 * for the cases not settled then (selectCases' `stateUnless`): computing them for every case was
 * 0.3 s of a year's 5M cases, for the 3% whose stored mask is not read.
 */
function storedMasksFor(sel: CaseSelection, cohort: SettledCohort, cohorts: readonly Cohort[], durations: readonly KmDuration[]): SettledColumns | undefined {
  if (!sel.settled_masks) return undefined;
  return JSON.stringify(predicateBits(cohorts, durations).predicates) === JSON.stringify(settledPredicates(cohort)) ? SETTLED[cohort] : undefined;
}

/**
 * The backlog's parts for a row not cut by period (cohortPartsQuery over openedCohortRows with
 * `sinceEver`): every case opened up to the window's end, of which only those some backlog
 * measure counts (each is a case open at the as-of time) are grouped. Reading the opened cohort's
 * measures, survey answers and channel mix for every case ever opened, as this query did, was
 * most of a table by service on a large city (bench's 5M cases, 12 weeks: 1.06 s of which the
 * backlog about half) for figures the backlog row never reads.
 */
export function buildBacklogPartsQuery(by: readonly Dimension[], sel: CaseSelection): CohortPartsQuery {
  return cohortPartsQuery(openedCohortRows(by, sel, { sinceEver: true, surveys: false }), 'st', by, ['backlog'], { held: { surveys: false }, onlyCounted: true });
}

/**
 * The closed cohort's cases, one row each (the relation `kc`; periods cut by the first close):
 * every case first closed in the window, with whether it was reopened within 30 days, its inbound
 * contacts up to and after closing, whether the first was reported resolved, and how many came
 * within 7 days of the first. Only what had happened by the as-of time counts. With `contacts`
 * false (the warehouse holds none: most 311 exports), the contact columns are their no-contact
 * values without reading them. The KPI counts aggregate these rows; the case list
 * (case-list-sql.ts) selects from them by a measure's predicate.
 */
export function closedCohortRows(by: readonly Dimension[], sel: CaseSelection, o: { contacts?: boolean; storedMasks?: SettledColumns } = {}): Query {
  const contacts = o.contacts !== false;
  // Stored masks are computed without contacts: a warehouse that holds some evaluates them all.
  const stored = sel.settled_masks && !contacts ? [`c.${SETTLED.closed.at}`, `c.${SETTLED.closed.mask}`] : [];
  if (o.storedMasks && !stored.length) throw new Error('closedCohortRows: stored masks asked for where none are read');
  const k = selectCases(sel, { by, at: 'closed_at', columns: ['c.case_id', 'c.opened_at', 'c.closed_at', 'c.cancelled_at', 'c.due_at', 'c.status', 'c.reopen_count', ...stored], state: true,
    stateUnless: o.storedMasks ? settledAt(o.storedMasks, 'c.') : undefined });
  // A warehouse in which no case was ever reopened has no reopening to look up (and joining the
  // empty lookup to a year of closes was planned the wrong way round: seconds for nothing).
  const reopens = sel.reopenings !== false;
  const sinceClose = (t: string) => `(epoch_us(${t}) - epoch_us(k.closed_at))`;
  // The cases are held once only when the contacts are matched to them: holding a year of a
  // large city's closes cost most of the whole count. Reopenings are read for every reopened case
  // (few), from the cases table itself, so they need no hold.
  const sql = `
WITH k AS ${contacts ? 'MATERIALIZED' : 'NOT MATERIALIZED'} (
  ${k.sql}
)${reopens ? `, reopened AS (
  SELECT c.case_id, min(epoch_us(e.occurred_at) - epoch_us(c.closed_at)) AS first_reopen_us
  FROM cases c JOIN case_events e ON e.case_id = c.case_id
  WHERE c.reopen_count > 0 AND e.event_type = 'reopened'
    AND e.occurred_at >= c.closed_at AND e.occurred_at <= $as_of::TIMESTAMPTZ
  GROUP BY c.case_id
)` : ''}${contacts ? `, contacts AS (
  SELECT k.case_id,
         count(*) AS n,
         count(*) FILTER (WHERE i.started_at <= k.closed_at) AS up_to_close,
         count(*) FILTER (WHERE i.started_at > k.closed_at AND ${sinceClose('i.started_at')} <= $fcr_us) AS after_close,
         -- The first contact's time and whether it was reported resolved, in one number (a plain
         -- min is far cheaper than arg_min); at a tie the resolved one counts as first.
         min(epoch_us(i.started_at) * 2 + CASE WHEN i.outcome = $resolved THEN 0 ELSE 1 END) % 2 = 0 AS first_resolved
  FROM k JOIN interactions i ON i.case_id = k.case_id
  WHERE i.direction = 'inbound' AND ${contactedByAsOf()}
  GROUP BY k.case_id
), repeats AS (
  -- Chasing: inbound contacts within 7 days of the case's first one (failure demand).
  SELECT case_id, count(*) FILTER (WHERE us - first_us <= $fcr_us) AS within_7d
  FROM (SELECT k.case_id, epoch_us(i.started_at) AS us, min(epoch_us(i.started_at)) OVER (PARTITION BY k.case_id) AS first_us
        FROM k JOIN interactions i ON i.case_id = k.case_id
        WHERE i.direction = 'inbound' AND ${contactedByAsOf()})
  GROUP BY case_id
)` : ''}, kc AS (
  SELECT k.*,
         ${closedRowColumns({ reopens, contacts }).join(',\n         ')}
  FROM k${reopens ? `
  LEFT JOIN reopened r ON r.case_id = k.case_id` : ''}${contacts ? `
  LEFT JOIN contacts n ON n.case_id = k.case_id
  LEFT JOIN repeats rp ON rp.case_id = k.case_id` : ''}
)`;
  return query(sql, {
    ...k.params,
    resolved: RESOLVED_FIRST_CONTACT,
    reopen_us: REOPEN_WINDOW_DAYS * DAY_US,
    fcr_us: FCR_WINDOW_DAYS * DAY_US,
  });
}

/**
 * The columns closedCohortRows adds to each closed case (`p`: the alias of its row): whether it was
 * reopened within 30 days (from `r`, the reopenings looked up, when `reopens`), whether the 30-
 * and 7-day windows were still open at the as-of time, and its contacts (from `n` and `rp`, when
 * `contacts`; else their no-contact values). settledMasksSql computes the closed cohort's stored
 * masks with the same columns.
 */
export function closedRowColumns(o: { reopens: boolean; contacts: boolean }, p = 'k.'): string[] {
  const reopenedWithin = (param: string) => (o.reopens ? `coalesce(r.first_reopen_us <= $${param}, false)` : 'false');
  const stillWatching = (param: string) => `(epoch_us($as_of::TIMESTAMPTZ) - epoch_us(${p}closed_at)) < $${param}`;
  return [
    `${reopenedWithin('reopen_us')} AS reopened_30d`,
    `${stillWatching('reopen_us')} AS watching_30d`,
    `${stillWatching('fcr_us')} AS watching_7d`,
    ...(o.contacts
      ? ['coalesce(n.n, 0) AS contacts_n',
        `coalesce(n.up_to_close = 1 AND n.after_close = 0 AND NOT ${reopenedWithin('fcr_us')}, false) AS fcr`,
        'coalesce(n.first_resolved, false) AS first_resolved',
        'coalesce(rp.within_7d, 0) AS within_7d']
      : ['0 AS contacts_n', 'false AS fcr', 'false AS first_resolved', '0 AS within_7d']),
  ];
}

/** The closed cohort's parts (cohortPartsQuery over closedCohortRows): the registry's closed-cohort measures. */
export function buildClosedPartsQuery(by: readonly Dimension[], sel: CaseSelection, o: { contacts?: boolean } = {}): CohortPartsQuery {
  const settled = o.contacts === false ? storedMasksFor(sel, 'closed', ['closed'], []) : undefined;
  return cohortPartsQuery(closedCohortRows(by, sel, { ...o, storedMasks: settled }), 'kc', by, ['closed'], { held: { contacts: o.contacts }, settled });
}

/**
 * The rows a cohort's measures are computed over, and the relation that holds them: the opened
 * cohort's cases (`st`), the backlog's (`st`, every case opened up to the window's end: the figure
 * of a row not cut by period) or the closed cohort's (`kc`).
 */
export function cohortRows(cohort: Cohort, by: readonly Dimension[], sel: CaseSelection, o: { surveys?: boolean } = {}): Query & { relation: 'st' | 'kc' } {
  if (cohort === 'closed') return { ...closedCohortRows(by, sel), relation: 'kc' };
  return { ...openedCohortRows(by, sel, { sinceEver: cohort === 'backlog', surveys: o.surveys }), relation: 'st' };
}

/** The durations Kaplan–Meier can estimate: opened → first close, opened → first response. */
export type KmDuration = 'close' | 'first_response';

/**
 * What Kaplan–Meier reads of a case for one duration, as expressions over a row of selectCases
 * (with `state`): whether it ended by the as-of time (else it is censored there), its duration in
 * whole microseconds (to its end, or to the as-of time), and whether it is counted at all. Time to
 * close leaves out cases cancelled before any close, and data errors (closed before opened); time
 * to first response leaves out cases whose first response is stamped before their opening.
 */
function kmTerms(duration: KmDuration) {
  if (duration !== 'close' && duration !== 'first_response') throw new Error(`unknown duration ${String(duration)}`);
  const end = duration === 'close' ? 'closed_at' : 'first_response_at';
  const ended = `(${end} IS NOT NULL AND ${end} <= $as_of::TIMESTAMPTZ)`;
  return {
    end,
    ended,
    // Elapsed time from the microsecond counts: subtracting TIMESTAMPTZ values goes through the
    // session's calendar (an hour off across a DST change outside UTC, and far slower).
    us: `CASE WHEN ${ended} THEN epoch_us(${end}) ELSE epoch_us($as_of::TIMESTAMPTZ) END - epoch_us(opened_at)`,
    counted:
      duration === 'close'
        // A case cancelled without ever closing has no time to close; one closed first (then
        // reopened and cancelled) keeps its first close, as "first closed − opened" says.
        ? `NOT coalesce(${end} < opened_at, false) AND NOT (${cancelledByAsOf('')} AND NOT ${ended})`
        : `NOT coalesce(${end} < opened_at, false)`,
  };
}

/**
 * Each case Kaplan–Meier counts, one row per case (the relation `d`): its groups, its duration in
 * whole microseconds (`us`) and whether it ended by the as-of time (`ended`), as kmTerms says.
 */
function kmCaseRows(by: readonly Dimension[], sel: CaseSelection, duration: KmDuration): Query {
  const t = kmTerms(duration);
  const k = selectCases(sel, { by, columns: ['c.opened_at', `c.${t.end}`], state: true });
  const sql = `
WITH k AS (
  ${k.sql}
), d AS (
  SELECT ${[...by, `${t.us} AS us`, `${t.ended} AS ended`].join(', ')}
  FROM k
  WHERE ${t.counted}
)`;
  return query(sql, k.params);
}

/**
 * Duration observations per group for Kaplan–Meier: each distinct duration (seconds) with its
 * count of ends (events) and of cases not ended by the as-of time (censored there), over the
 * cases of kmCaseRows.
 */
export function buildKmObservationsQuery(by: readonly Dimension[], sel: CaseSelection, duration: KmDuration = 'close'): Query {
  const d = kmCaseRows(by, sel, duration);
  const sql = `${d.sql}
SELECT ${[...by, 'us / 1e6 AS seconds',
  `count(*) FILTER (WHERE ended)::INTEGER AS events`,
  `count(*) FILTER (WHERE NOT ended)::INTEGER AS censored`].join(', ')}
FROM d
GROUP BY ALL`;
  return query(sql, d.params);
}

/**
 * Each group's durations for Kaplan–Meier (seconds), as two lists in no particular order: `ends`,
 * the cases that ended by the as-of time, and `censored`, those that had not (censored there) —
 * the cases of kmCaseRows, as the drawn curve counts them. The KPIs sort them (DurationSort) and
 * read them with SortedKmWalk (stats/): only the numbers cross into JavaScript (read as
 * Float64Arrays, Warehouse.allWithLists). Reading the quantiles' points off window functions in
 * SQL cost several times a sort; sorting each list in DuckDB (list_sort) cost two to three times
 * building it, and more than the radix sort in TypeScript. The KPI table reads its durations from
 * the opened cohort's parts instead (buildOpenedPartsQuery: the same cases, the same values);
 * this query serves a duration on its own (the survival chart, the equity test, the public
 * release's medians). Seconds from whole microseconds keep every distinct duration distinct (and
 * in order) up to about 270 years.
 */
export function buildKmDurationsQuery(by: readonly Dimension[], sel: CaseSelection, duration: KmDuration): Query {
  const d = kmCaseRows(by, sel, duration);
  const sql = `${d.sql}
SELECT ${[...by,
    `list(us / 1e6) FILTER (WHERE ended) AS ends`,
    `list(us / 1e6) FILTER (WHERE NOT ended) AS censored`].join(',\n  ')}
FROM d
${by.length ? 'GROUP BY ALL' : ''}`;
  return query(sql, d.params);
}
