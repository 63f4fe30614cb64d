// The measure registry: one entry per measure. The KPI query's select list, the KPI row type, the
// API's response schema, the CSV columns, report columns, dashboard labels (through
// GET /api/measures) and the methodology text are all generated from it. A new measure is one
// entry here (plus a column in a cohort's CTE in kpi-sql.ts only when it needs data no measure
// reads yet).
//
// SQL expressions are aggregates over one row per case of the cohort, with the columns the
// cohort's CTE provides (kpi-sql.ts), and the shared predicates of case-predicates.ts.
import { cancelledByAsOf, closedByAsOf, dataError, pastDueAtAsOf } from './case-predicates.ts';

/**
 * opened: cases opened in the period (by the as-of time); closed: cases first closed in the
 * period; backlog: cases open at the as-of time (for a row not cut by period, every such case,
 * however long ago it opened).
 */
export type Cohort = 'opened' | 'closed' | 'backlog';
export type Unit = 'cases' | 'answers' | 'contacts' | 'points' | 'share' | 'hours' | 'score' | 'nps' | 'contacts per case';
export type CsvSet = 'core' | 'all';

interface Base {
  name: string;
  cohort: Cohort;
  unit: Unit;
  /** Short label for table headers. */
  label: string;
  /** One sentence that says exactly what is counted. */
  definition: string;
  /** `core`: in every CSV (the established columns); `all`: with `columns=all`. */
  csv: CsvSet;
}
/**
 * A count of the cohort's cases for which `where` holds ('TRUE': every one). Its `sql` is derived
 * from `where` (countWhere), and the case list behind the figure (GET /api/cases) selects the
 * cases by the same `where` over the same cohort rows, so the figure and the list cannot differ.
 */
export interface CaseCountMeasure extends Base { kind: 'count'; drillable: true; where: string; sql: string }
/**
 * A sum over the cohort's cases (answers, points, contacts): a number, but no list of cases adds
 * up to it. `reads`: the data it sums — a warehouse that holds none (most 311 exports) has 0
 * without reading its cases. Its `sql` must add up over any split of the cohort's cases into
 * parts (a sum, or sums added and subtracted): the KPIs sum it per part (kpi-sql.ts cohortPartsQuery).
 */
export interface SumMeasure extends Base { kind: 'count'; drillable: false; reads: keyof typeof SUM_COLUMNS; sql: string }
/**
 * The columns of the cohorts' rows (kpi-sql.ts) a sum may read, by what they hold: a warehouse
 * holding no survey answers has them NULL, one holding no contacts has contacts_n 0, and the sums
 * that read them are 0 without a pass over the cases (checkRegistry holds each sum to its kind's).
 */
export const SUM_COLUMNS = {
  surveys: ['sv_n', 'csat_n', 'csat_sum', 'csat_top2', 'nps_n', 'promoters', 'detractors'],
  contacts: ['contacts_n'],
} as const;
/** A count or sum over the cohort's cases: an aggregate SQL expression. */
export type CountMeasure = CaseCountMeasure | SumMeasure;
/** numerator ÷ denominator (both count measures), times `scale`; null when the denominator is 0. */
export interface RatioMeasure extends Base { kind: 'ratio'; numerator: string; denominator: string; scale?: number }
/** A Kaplan–Meier statistic of a duration, in hours; null when the curve does not reach it. */
export interface DurationMeasure extends Base { kind: 'km'; duration: 'close' | 'first_response'; statistic: 'median' | 'median_lower' | 'median_upper' | 'p90' }
/** Shares of the cohort by a category: { value: share }. */
export interface MixMeasure extends Base { kind: 'mix'; sql: string }
export type Measure = CountMeasure | RatioMeasure | DurationMeasure | MixMeasure;

const closed = closedByAsOf('');
const cancelled = cancelledByAsOf('');
const error = dataError('');
/** Cases that can be on time or late: not data errors, not cancelled by the as-of time, with a due time. */
const judged = `NOT ${error} AND due_at IS NOT NULL AND NOT ${cancelled}`;
const open = 'open_at_as_of';

/**
 * The aggregate that counts the cases a predicate holds for ('TRUE': every case of the cohort):
 * the figure's definition, which the case list's total reads (case-list-sql.ts). The KPI table
 * counts the same predicates in parts instead (kpi-sql.ts cohortPartsQuery: one count per
 * combination of predicates, faster than a count_if each), held to this by cohort-parts.test.ts.
 * count_if, not count(*) FILTER: measured about 30% faster. count_if is a sum: NULL, not 0, over no
 * case or where the predicate is NULL for every case, hence the coalesce (count(*) FILTER gives 0 there).
 */
export const countWhere = (where: string) => (where === 'TRUE' ? 'count(*)' : `coalesce(count_if(${where}), 0)`);
/** A count of cases: its SQL comes from its predicate (see CaseCountMeasure). */
const cases = <const M extends Omit<CaseCountMeasure, 'kind' | 'drillable' | 'sql'>>(m: M) =>
  ({ ...m, kind: 'count' as const, drillable: true as const, sql: countWhere(m.where) });

export const MEASURES = [
  // Opened cohort ------------------------------------------------------------------------------
  cases({ name: 'opened', cohort: 'opened', unit: 'cases', csv: 'core', where: 'TRUE',
    label: 'Opened', definition: 'Cases opened in the period (local days), up to the as-of time.' }),
  cases({ name: 'closed', cohort: 'opened', unit: 'cases', csv: 'core', where: closed,
    label: 'Closed', definition: 'Of the cases opened in the period, those closed by the as-of time.' }),
  cases({ name: 'cancelled', cohort: 'opened', unit: 'cases', csv: 'core', where: cancelled,
    label: 'Cancelled', definition: 'Of the cases opened in the period, those cancelled by the as-of time; left out of durations and on-time rates.' }),
  { name: 'median_hours_to_close', kind: 'km', duration: 'close', statistic: 'median', cohort: 'opened', unit: 'hours', csv: 'core',
    label: 'Median time to close', definition: 'Kaplan–Meier median of first close − opening; cases still open are censored at the as-of time, cancelled cases and data errors left out; empty while more than half are open.' },
  { name: 'median_hours_ci_lower', kind: 'km', duration: 'close', statistic: 'median_lower', cohort: 'opened', unit: 'hours', csv: 'core',
    label: 'Median, 95% interval from', definition: 'Lower end of the 95% interval of the median time to close (log interval, as R survival).' },
  { name: 'median_hours_ci_upper', kind: 'km', duration: 'close', statistic: 'median_upper', cohort: 'opened', unit: 'hours', csv: 'core',
    label: 'Median, 95% interval to', definition: 'Upper end of the 95% interval of the median time to close; empty when the interval is open-ended.' },
  { name: 'p90_hours_to_close', kind: 'km', duration: 'close', statistic: 'p90', cohort: 'opened', unit: 'hours', csv: 'core',
    label: '90th percentile time to close', definition: 'Kaplan–Meier 90th percentile of the time to close, censored as the median is.' },
  { name: 'on_time_rate', kind: 'ratio', numerator: 'on_time', denominator: 'on_time_denominator', cohort: 'opened', unit: 'share', csv: 'core',
    label: 'On time', definition: 'Opened cohort: closed by the due time ÷ (closed + open and past due); open and not yet due is pending, cases without a due time are counted apart.' },
  cases({ name: 'on_time', cohort: 'opened', unit: 'cases', csv: 'core', where: `${judged} AND ${closed} AND closed_at <= due_at`,
    label: 'Closed on time', definition: 'Opened in the period and closed by the as-of time, at or before the due time.' }),
  cases({ name: 'on_time_denominator', cohort: 'opened', unit: 'cases', csv: 'core', where: `${judged} AND (${closed} OR ${pastDueAtAsOf('')})`,
    label: 'Judged for on time', definition: 'Opened in the period with a due time, not cancelled: closed by the as-of time, or open and past due.' }),
  cases({ name: 'pending', cohort: 'opened', unit: 'cases', csv: 'core', where: `due_at IS NOT NULL AND NOT ${cancelled} AND NOT ${closed} AND due_at >= $as_of::TIMESTAMPTZ`,
    label: 'Pending', definition: 'Open and not yet due at the as-of time: neither on time nor late yet.' }),
  cases({ name: 'excluded_data_errors', cohort: 'opened', unit: 'cases', csv: 'core', where: error,
    label: 'Data errors', definition: 'Closed before they opened: excluded from durations and on-time rates, and counted here.' }),
  cases({ name: 'closed_without_due_time', cohort: 'opened', unit: 'cases', csv: 'core', where: `NOT ${error} AND due_at IS NULL AND NOT ${cancelled} AND ${closed}`,
    label: 'Closed without a due time', definition: 'Closed by the as-of time but with neither a source due time nor a service SLA: left out of the on-time rate, and counted here.' }),
  { name: 'median_hours_to_first_response', kind: 'km', duration: 'first_response', statistic: 'median', cohort: 'opened', unit: 'hours', csv: 'all',
    label: 'Median time to first response', definition: 'Kaplan–Meier median from opening to the first action of the city (acknowledged, assigned, status change, close or cancel); cases without one censored at the as-of time.' },
  cases({ name: 'excluded_first_response_errors', cohort: 'opened', unit: 'cases', csv: 'all', where: 'first_response_at < opened_at',
    label: 'First-response data errors', definition: 'First response stamped before opening: excluded from the time to first response, and counted here.' }),
  { name: 'channel_mix', kind: 'mix', cohort: 'opened', unit: 'share', csv: 'all', sql: 'histogram(channel_label)',
    label: 'Channel mix', definition: 'Share of the cases opened in the period by intake channel.' },
  { name: 'survey_responses', kind: 'count', drillable: false, cohort: 'opened', unit: 'answers', csv: 'all', reads: 'surveys', sql: 'coalesce(sum(sv_n), 0)',
    label: 'Survey answers', definition: 'Survey answers given by the as-of time about the cases opened in the period.' },
  { name: 'csat_responses', kind: 'count', drillable: false, cohort: 'opened', unit: 'answers', csv: 'all', reads: 'surveys', sql: 'coalesce(sum(csat_n), 0)',
    label: 'CSAT answers', definition: 'Of those, answers with a satisfaction score (1–5).' },
  { name: 'csat_top2_count', kind: 'count', drillable: false, cohort: 'opened', unit: 'answers', csv: 'all', reads: 'surveys', sql: 'coalesce(sum(csat_top2), 0)',
    label: 'CSAT 4–5 answers', definition: 'Satisfaction answers of 4 or 5.' },
  { name: 'csat_sum', kind: 'count', drillable: false, cohort: 'opened', unit: 'points', csv: 'all', reads: 'surveys', sql: 'coalesce(sum(csat_sum), 0)',
    label: 'CSAT points', definition: 'Sum of the satisfaction scores (for the mean).' },
  { name: 'csat_top2', kind: 'ratio', numerator: 'csat_top2_count', denominator: 'csat_responses', cohort: 'opened', unit: 'share', csv: 'all',
    label: 'CSAT (top-2 box)', definition: 'Share of satisfaction answers that are 4 or 5, given by the as-of time.' },
  { name: 'csat_mean', kind: 'ratio', numerator: 'csat_sum', denominator: 'csat_responses', cohort: 'opened', unit: 'score', csv: 'all',
    label: 'CSAT mean', definition: 'Mean satisfaction score, 1 to 5.' },
  { name: 'nps_responses', kind: 'count', drillable: false, cohort: 'opened', unit: 'answers', csv: 'all', reads: 'surveys', sql: 'coalesce(sum(nps_n), 0)',
    label: 'NPS answers', definition: 'Answers with a likelihood-to-recommend score (0–10).' },
  { name: 'nps_net', kind: 'count', drillable: false, cohort: 'opened', unit: 'answers', csv: 'all', reads: 'surveys', sql: 'coalesce(sum(promoters), 0) - coalesce(sum(detractors), 0)',
    label: 'Promoters − detractors', definition: 'Answers of 9–10 minus answers of 0–6.' },
  { name: 'nps', kind: 'ratio', numerator: 'nps_net', denominator: 'nps_responses', scale: 100, cohort: 'opened', unit: 'nps', csv: 'all',
    label: 'NPS', definition: 'Net promoter score, −100 to 100: %(9–10) − %(0–6).' },

  // Backlog at the as-of time -------------------------------------------------------------------
  cases({ name: 'backlog', cohort: 'backlog', unit: 'cases', csv: 'all', where: open,
    label: 'Backlog', definition: 'Open at the as-of time (not closed or cancelled by then, or reopened since); a row not cut by period counts every such case, however long ago it opened.' }),
  cases({ name: 'backlog_0_2d', cohort: 'backlog', unit: 'cases', csv: 'all', where: `${open} AND age_days < 3`,
    label: 'Backlog 0–2 days', definition: 'Backlog open under 3 whole days at the as-of time.' }),
  cases({ name: 'backlog_3_7d', cohort: 'backlog', unit: 'cases', csv: 'all', where: `${open} AND age_days >= 3 AND age_days < 8`,
    label: 'Backlog 3–7 days', definition: 'Backlog open 3 to 7 whole days.' }),
  cases({ name: 'backlog_8_30d', cohort: 'backlog', unit: 'cases', csv: 'all', where: `${open} AND age_days >= 8 AND age_days < 31`,
    label: 'Backlog 8–30 days', definition: 'Backlog open 8 to 30 whole days.' }),
  cases({ name: 'backlog_over_30d', cohort: 'backlog', unit: 'cases', csv: 'all', where: `${open} AND age_days >= 31`,
    label: 'Backlog over 30 days', definition: 'Backlog open more than 30 whole days.' }),
  cases({ name: 'backlog_past_due', cohort: 'backlog', unit: 'cases', csv: 'all', where: `${open} AND ${pastDueAtAsOf('')}`,
    label: 'Backlog past due', definition: 'Backlog past its due time at the as-of time.' }),
  { name: 'backlog_past_due_share', kind: 'ratio', numerator: 'backlog_past_due', denominator: 'backlog', cohort: 'backlog', unit: 'share', csv: 'all',
    label: 'Backlog share past due', definition: 'Backlog past due ÷ backlog.' },

  // Closed cohort -------------------------------------------------------------------------------
  cases({ name: 'closed_in_period', cohort: 'closed', unit: 'cases', csv: 'all', where: 'TRUE',
    label: 'Closed in period', definition: 'Closed cohort: cases first closed in the period (by the as-of time); a period dimension cuts them by that close.' }),
  { name: 'on_time_rate_closed_cohort', kind: 'ratio', numerator: 'on_time_closed_cohort', denominator: 'on_time_closed_cohort_denominator', cohort: 'closed', unit: 'share', csv: 'all',
    label: 'On time (closed cohort)', definition: 'Closed-cohort variant of the on-time rate: closed in the period by the due time ÷ closed in the period with a due time (cancelled cases and data errors left out).' },
  cases({ name: 'on_time_closed_cohort', cohort: 'closed', unit: 'cases', csv: 'all', where: `${judged} AND closed_at <= due_at`,
    label: 'Closed on time (closed cohort)', definition: 'Closed in the period at or before the due time.' }),
  cases({ name: 'on_time_closed_cohort_denominator', cohort: 'closed', unit: 'cases', csv: 'all', where: judged,
    label: 'Closed with a due time', definition: 'Closed in the period with a due time, not cancelled, not a data error.' }),
  { name: 'reopen_rate', kind: 'ratio', numerator: 'reopened_within_30d', denominator: 'closed_in_period', cohort: 'closed', unit: 'share', csv: 'all',
    label: 'Reopen rate', definition: 'Closed in the period and reopened within 30 days of that first close ÷ closed in the period.' },
  cases({ name: 'reopened_within_30d', cohort: 'closed', unit: 'cases', csv: 'all', where: 'reopened_30d',
    label: 'Reopened within 30 days', definition: 'Closed in the period and reopened within 30 days (by the as-of time).' }),
  cases({ name: 'reopen_pending', cohort: 'closed', unit: 'cases', csv: 'all', where: 'NOT reopened_30d AND watching_30d',
    label: 'Reopen window open', definition: 'Closed in the period, not reopened, and fewer than 30 days since at the as-of time.' }),
  { name: 'fcr_measured', kind: 'ratio', numerator: 'fcr_measured_resolved', denominator: 'fcr_cases', cohort: 'closed', unit: 'share', csv: 'all',
    label: 'First-contact resolution (measured)', definition: 'Closed cases whose first inbound contact was their only one up to closing, with no new inbound contact or reopening within 7 days of closing ÷ closed cases with at least one inbound contact.' },
  { name: 'fcr_reported', kind: 'ratio', numerator: 'fcr_reported_resolved', denominator: 'fcr_cases', cohort: 'closed', unit: 'share', csv: 'all',
    label: 'First-contact resolution (reported)', definition: 'Closed cases whose first inbound contact has the outcome resolved_first_contact, as agents report it ÷ closed cases with at least one inbound contact.' },
  cases({ name: 'fcr_cases', cohort: 'closed', unit: 'cases', csv: 'all', where: 'contacts_n > 0',
    label: 'Closed with a contact', definition: 'Closed in the period with at least one inbound contact.' }),
  cases({ name: 'fcr_measured_resolved', cohort: 'closed', unit: 'cases', csv: 'all', where: 'fcr',
    label: 'Resolved at first contact (measured)', definition: 'Numerator of the measured first-contact resolution.' }),
  cases({ name: 'fcr_reported_resolved', cohort: 'closed', unit: 'cases', csv: 'all', where: 'first_resolved',
    label: 'Resolved at first contact (reported)', definition: 'Numerator of the reported first-contact resolution.' }),
  cases({ name: 'fcr_pending', cohort: 'closed', unit: 'cases', csv: 'all', where: 'fcr AND watching_7d',
    label: 'FCR window open', definition: 'Counted as resolved at first contact, but fewer than 7 days since closing at the as-of time.' }),
  { name: 'contacts_per_case', kind: 'ratio', numerator: 'inbound_contacts', denominator: 'closed_in_period', cohort: 'closed', unit: 'contacts per case', csv: 'all',
    label: 'Contacts per case', definition: 'Inbound contacts linked to the cases closed in the period ÷ those cases (failure demand, as NI 14 defined it).' },
  { name: 'inbound_contacts', kind: 'count', drillable: false, cohort: 'closed', unit: 'contacts', csv: 'all', reads: 'contacts', sql: 'coalesce(sum(contacts_n), 0)',
    label: 'Inbound contacts', definition: 'Inbound contacts linked to the cases closed in the period (by the as-of time).' },
  { name: 'repeat_contact_rate', kind: 'ratio', numerator: 'repeat_contact_cases', denominator: 'fcr_cases', cohort: 'closed', unit: 'share', csv: 'all',
    label: 'Repeat-contact rate', definition: 'Cases closed in the period with two or more inbound contacts within 7 days of the first ÷ closed cases with at least one inbound contact (chasing).' },
  cases({ name: 'repeat_contact_cases', cohort: 'closed', unit: 'cases', csv: 'all', where: 'within_7d >= 2',
    label: 'Cases chased', definition: 'Closed in the period with two or more inbound contacts within 7 days of the first.' }),
] as const satisfies readonly Measure[];

export type MeasureName = (typeof MEASURES)[number]['name'];
type ValueOf<M> = M extends { kind: 'count' } ? number : M extends { kind: 'mix' } ? Record<string, number> : number | null;
/** One value per measure: counts are numbers, rates and durations null when undefined (denominator 0, curve not reaching it). */
export type MeasureValues = { [M in (typeof MEASURES)[number] as M['name']]: ValueOf<M> };

const BY_NAME = new Map<string, Measure>(MEASURES.map((m) => [m.name, m]));
export const measure = (name: string): Measure | undefined => BY_NAME.get(name);
export const isMeasureName = (name: string): name is MeasureName => BY_NAME.has(name);

/** The counts that have a list of cases behind them (GET /api/cases), in registry order. */
export const DRILLABLE_MEASURES: readonly CaseCountMeasure[] = (MEASURES as readonly Measure[]).filter((m): m is CaseCountMeasure => m.kind === 'count' && m.drillable);
/** A count with a list of cases behind it, by name. */
export const drillableMeasure = (name: string): CaseCountMeasure | undefined => DRILLABLE_MEASURES.find((m) => m.name === name);

/** The measures of a cohort whose value comes straight from SQL (counts and mixes). */
export function sqlMeasures(cohorts: readonly Cohort[]): (CountMeasure | MixMeasure)[] {
  return (MEASURES as readonly Measure[]).filter((m): m is CountMeasure | MixMeasure => (m.kind === 'count' || m.kind === 'mix') && cohorts.includes(m.cohort));
}

/** CSV columns, in registry order: the core set, or every scalar measure. */
export function csvMeasureNames(set: CsvSet): MeasureName[] {
  return MEASURES.filter((m) => m.kind !== 'mix' && (set === 'all' || m.csv === 'core')).map((m) => m.name);
}

/** Integrity of the registry itself: a ratio names two count measures, names are unique. */
export function checkRegistry(): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  for (const m of MEASURES as readonly Measure[]) {
    if (names.has(m.name)) problems.push(`${m.name}: defined twice`);
    names.add(m.name);
    if (!/^[a-z][a-z0-9_]*$/.test(m.name)) problems.push(`${m.name}: not snake_case`);
    // A count of cases is derived from its predicate; anything else counted is a sum, with no list.
    if (m.kind === 'count' && m.drillable && (m.unit !== 'cases' || m.sql !== countWhere(m.where))) problems.push(`${m.name}: a case count whose SQL is not its predicate's`);
    if (m.kind === 'count' && !m.drillable && m.unit === 'cases') problems.push(`${m.name}: counts cases but has no predicate (where)`);
    // A sum is 0 unread where its kind of data is not held: it must read nothing else.
    if (m.kind === 'count' && !m.drillable) {
      const allowed = new Set<string>(SUM_COLUMNS[m.reads] ?? []);
      const read = [...m.sql.matchAll(/\b([a-z_][a-z0-9_]*)\b(?!\s*\()/g)].map((x) => x[1]);
      const other = read.filter((c) => !allowed.has(c));
      if (!allowed.size || other.length) problems.push(`${m.name}: reads ${other.join(', ') || 'nothing'} besides the ${m.reads} columns`);
    }
    if (m.kind === 'ratio') {
      for (const part of [m.numerator, m.denominator]) {
        const p = BY_NAME.get(part);
        if (!p || p.kind !== 'count') problems.push(`${m.name}: ${part} is not a count measure`);
      }
    }
  }
  return problems;
}

const COHORT_TEXT: Record<Cohort, string> = {
  opened: 'Counted among the cases opened in the period',
  closed: 'Counted among the cases first closed in the period',
  backlog: 'Counted at the as-of time',
};
const UNIT_TEXT: Record<Unit, string> = {
  cases: 'cases', answers: 'survey answers', contacts: 'contacts', points: 'points', share: 'a share (0–1; shown as a percentage with its denominator)',
  hours: 'hours (shown in hours under 48 h, else days)', score: 'a score from 1 to 5', nps: 'points from −100 to 100', 'contacts per case': 'contacts per case',
};

/** The methodology, generated from the registry: one line per measure, grouped by cohort. */
export function methodology(): { cohort: Cohort; heading: string; measures: { name: string; label: string; unit: string; definition: string }[] }[] {
  return (['opened', 'backlog', 'closed'] as const).map((cohort) => ({
    cohort,
    heading: COHORT_TEXT[cohort],
    measures: (MEASURES as readonly Measure[]).filter((m) => m.cohort === cohort).map((m) => ({ name: m.name, label: m.label, unit: UNIT_TEXT[m.unit], definition: m.definition })),
  }));
}
