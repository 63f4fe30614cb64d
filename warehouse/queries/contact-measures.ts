// The contact-centre measure registry, beside the case one (measures.ts): one entry per measure —
// name, unit, label, one-sentence definition and SQL — from which the query's select list, the
// API's rows and CSV columns, GET /api/measures and the methodology are generated. And the pure
// SQL builder that computes them over the interactions table.
//
// What counts (DESIGN.md "Contact centre, by channel and team"):
// - A contact is *offered* when it is inbound and has a recorded wait: it queued for someone (a
//   phone call, a walk-in at a counter, a live chat). Web forms, app reports and e-mails carry no
//   wait and are not offered. So every channel that queues is measured, and `by=channel` or
//   `channel=phone` separates them; "calls" in the labels means any queued contact.
// - *Abandoned*: offered with the outcome `abandoned` (the caller left before an answer). Every
//   other offered contact was *answered*. A caller who hangs up within a few seconds is still
//   abandoned and still offered: nothing is excluded, so the rates' denominators are all offered.
// - A contact belongs to a period by the local day it started (in the jurisdiction's zone, as case
//   periods are cut) and counts once it started by the as-of time.
// - Scope: an interaction linked to a case inherits that case's agency. A caller scoped to
//   agencies sees only interactions linked to cases of those agencies; calls linked to no case
//   (abandoned calls, enquiries that opened nothing) belong to no agency and only an unscoped
//   caller sees them. The `agency` filter means the same, so a scoped caller sees exactly what an
//   unscoped one sees filtering by their agency (as on every other route).
import { query, type Params, type Query } from '../db.ts';
import { agencyScopeParams, agencyScopeSql, contactedByAsOf, instantPeriodSql, MISSING_LABELS, onOrAfterFromDay, onOrBeforeToDay, type CaseScope, type CaseWindow } from './case-predicates.ts';

/** The outcome value that records a contact abandoned before an answer. */
export const ABANDONED_OUTCOME = 'abandoned';
/** The target wait of the service level when a caller names none (DESIGN.md: 20 s). */
export const DEFAULT_TARGET_WAIT_SECONDS = 20;
export const MIN_TARGET_WAIT_SECONDS = 1;
export const MAX_TARGET_WAIT_SECONDS = 3600;
/** The label of an interaction with no team. */
export const NO_TEAM = '(no team)';

export type ContactUnit = 'contacts' | 'share' | 'seconds';

interface Base {
  name: string;
  unit: ContactUnit;
  /** Short label for table headers. */
  label: string;
  /** One sentence that says exactly what is counted. */
  definition: string;
}
/** A count of offered contacts: an aggregate over one row per offered contact. */
export interface ContactCountMeasure extends Base { kind: 'count'; sql: string }
/** numerator ÷ denominator (both counts); null when the denominator is 0. */
export interface ContactRatioMeasure extends Base { kind: 'ratio'; numerator: string; denominator: string }
/** A mean over some offered contacts (an aggregate); null when there are none. */
export interface ContactMeanMeasure extends Base { kind: 'mean'; sql: string }
export type ContactMeasure = ContactCountMeasure | ContactRatioMeasure | ContactMeanMeasure;

// Columns of the per-contact rows (buildContactMeasuresQuery): abandoned, wait_seconds, handle_seconds.
const answered = 'NOT abandoned';

export const CONTACT_MEASURES = [
  { name: 'offered', kind: 'count', unit: 'contacts', sql: 'count(*)',
    label: 'Offered', definition: 'Inbound contacts with a recorded wait (they queued: calls, counter visits) that started on a local day of the period, by the as-of time; web forms, app reports and e-mails have no wait and are not offered.' },
  { name: 'answered', kind: 'count', unit: 'contacts', sql: `count(*) FILTER (WHERE ${answered})`,
    label: 'Answered', definition: 'Offered contacts whose outcome is not abandoned.' },
  { name: 'answered_within_target', kind: 'count', unit: 'contacts', sql: `count(*) FILTER (WHERE ${answered} AND wait_seconds <= $target_wait)`,
    label: 'Answered within target', definition: 'Answered contacts that waited no longer than the target wait (20 s unless the request names another; a wait of exactly the target counts).' },
  { name: 'abandoned', kind: 'count', unit: 'contacts', sql: `count(*) FILTER (WHERE abandoned)`,
    label: 'Abandoned', definition: `Offered contacts with the outcome ${ABANDONED_OUTCOME}: the caller left before an answer, however short the wait (short abandons are not excluded).` },
  { name: 'service_level', kind: 'ratio', numerator: 'answered_within_target', denominator: 'offered', unit: 'share',
    label: 'Service level', definition: 'Answered within the target wait ÷ offered (abandoned contacts stay in the denominator).' },
  { name: 'abandonment_rate', kind: 'ratio', numerator: 'abandoned', denominator: 'offered', unit: 'share',
    label: 'Abandonment rate', definition: 'Abandoned ÷ offered.' },
  { name: 'asa_seconds', kind: 'mean', unit: 'seconds', sql: `avg(wait_seconds) FILTER (WHERE ${answered})`,
    label: 'Average speed of answer', definition: 'Mean wait of the answered contacts, in seconds.' },
  { name: 'aht_seconds', kind: 'mean', unit: 'seconds', sql: `avg(handle_seconds) FILTER (WHERE ${answered})`,
    label: 'Average handle time', definition: 'Mean handle time (talk, hold and wrap-up as the source records it) of the answered contacts that have one, in seconds.' },
] as const satisfies readonly ContactMeasure[];

export type ContactMeasureName = (typeof CONTACT_MEASURES)[number]['name'];
type ValueOf<M> = M extends { kind: 'count' } ? number : number | null;
/** One value per measure: counts are numbers; rates and means null when there is nothing to divide. */
export type ContactMeasureValues = { [M in (typeof CONTACT_MEASURES)[number] as M['name']]: ValueOf<M> };

const REGISTRY = CONTACT_MEASURES as readonly ContactMeasure[];
const BY_NAME = new Map<string, ContactMeasure>(REGISTRY.map((m) => [m.name, m]));
export const contactMeasure = (name: string): ContactMeasure | undefined => BY_NAME.get(name);

/** Integrity of the registry: unique snake_case names, a ratio names two count measures. */
export function checkContactRegistry(): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  for (const m of REGISTRY) {
    if (names.has(m.name)) problems.push(`${m.name}: defined twice`);
    names.add(m.name);
    if (!/^[a-z][a-z0-9_]*$/.test(m.name)) problems.push(`${m.name}: not snake_case`);
    if (m.kind === 'ratio') {
      for (const part of [m.numerator, m.denominator]) if (BY_NAME.get(part)?.kind !== 'count') problems.push(`${m.name}: ${part} is not a count measure`);
    }
  }
  return problems;
}

/** The values of a row from the query's counts and means: ratios computed here (null over 0). */
export function contactValues(sqlRow: Record<string, unknown>): ContactMeasureValues {
  const values: Record<string, number | null> = {};
  for (const m of REGISTRY) if (m.kind === 'count') values[m.name] = Number(sqlRow[m.name] ?? 0);
  for (const m of REGISTRY) {
    if (m.kind === 'mean') values[m.name] = sqlRow[m.name] === null || sqlRow[m.name] === undefined ? null : Number(sqlRow[m.name]);
    else if (m.kind === 'ratio') {
      const den = values[m.denominator] as number;
      values[m.name] = den > 0 ? (values[m.numerator] as number) / den : null;
    }
  }
  return values as ContactMeasureValues;
}

const UNIT_TEXT: Record<ContactUnit, string> = {
  contacts: 'contacts', share: 'a share (0–1; shown as a percentage with its denominator)', seconds: 'seconds (shown in seconds under 2 minutes, else minutes)',
};

/** The methodology of the contact-centre measures, generated from the registry. */
export function contactMethodology(): { heading: string; measures: { name: string; label: string; unit: string; definition: string }[] } {
  return {
    heading: 'Contact centre: counted among the queued inbound contacts (calls, counter visits) started in the period, by channel and team',
    measures: REGISTRY.map((m) => ({ name: m.name, label: m.label, unit: UNIT_TEXT[m.unit], definition: m.definition })),
  };
}

// Dimensions ----------------------------------------------------------------------------------

export const CONTACT_ATTRIBUTES = ['channel', 'team'] as const;
export const CONTACT_PERIODS = ['day', 'week', 'month'] as const;
export const CONTACT_DIMENSIONS = [...CONTACT_ATTRIBUTES, ...CONTACT_PERIODS] as const;
export type ContactDimension = (typeof CONTACT_DIMENSIONS)[number];
export type ContactPeriod = (typeof CONTACT_PERIODS)[number];
export const isContactPeriod = (d: string): d is ContactPeriod => (CONTACT_PERIODS as readonly string[]).includes(d);

/** Labels of a contact's attributes (channel is never null in the table; team may be). */
const ATTRIBUTE_SQL: Record<(typeof CONTACT_ATTRIBUTES)[number], string> = {
  channel: `coalesce(i.channel, '(unknown channel)')`,
  team: `coalesce(i.team, '${NO_TEAM}')`,
};

const dimensionSql = (d: ContactDimension) => (isContactPeriod(d) ? instantPeriodSql(d, 'i.started_at') : ATTRIBUTE_SQL[d]);

/** What to count: the window, one channel and one team (as labelled), one agency of the linked cases, the caller's scope. */
export interface ContactSelection {
  window: CaseWindow;
  channel?: string;
  team?: string;
  /** Only contacts linked to a case of this agency (as case filters label it). */
  agency?: string;
  scope?: CaseScope;
  target_wait_seconds: number;
}

/**
 * Scope and agency filter, inherited from the linked case: a contact linked to no case is in no
 * agency (the case filter's label for a case without one, "(unknown agency)", matches as it does for cases).
 */
function linkedCaseSql(agencies: readonly string[] | null, agency: string | undefined): string[] {
  const on = [...agencyScopeSql(agencies, 'c.agency'), ...(agency !== undefined ? [`coalesce(c.agency, '${MISSING_LABELS.agency}') = $f_agency`] : [])];
  return on.length ? [`EXISTS (SELECT 1 FROM cases c WHERE c.case_id = i.case_id AND ${on.join(' AND ')})`] : [];
}

/** The offered contacts of a selection, one row each, labelled with `by` (pure; values bound). */
export function selectOfferedContacts(sel: ContactSelection, by: readonly ContactDimension[], columns: readonly string[] = []): Query {
  const agencies = sel.scope?.agencies ?? null;
  const where = [
    `i.direction = 'inbound'`,
    'i.wait_seconds IS NOT NULL',
    onOrAfterFromDay('i.started_at'),
    onOrBeforeToDay('i.started_at'),
    contactedByAsOf('i.'),
    ...(sel.channel !== undefined ? [`${ATTRIBUTE_SQL.channel} = $f_channel`] : []),
    ...(sel.team !== undefined ? [`${ATTRIBUTE_SQL.team} = $f_team`] : []),
    ...linkedCaseSql(agencies, sel.agency),
  ];
  const select = [...by.map((d) => `${dimensionSql(d)} AS ${d}`), ...columns];
  const params: Params = { tz: sel.window.timezone, from: sel.window.from, to: sel.window.to, as_of: sel.window.as_of, ...agencyScopeParams(agencies) };
  if (sel.channel !== undefined) params.f_channel = sel.channel;
  if (sel.team !== undefined) params.f_team = sel.team;
  if (sel.agency !== undefined) params.f_agency = sel.agency;
  return query(`SELECT ${select.length ? select.join(', ') : '1 AS one'} FROM interactions i WHERE ${where.join('\n  AND ')}`, params);
}

/**
 * The registry's counts and means per group of `by` (none: one overall row, even when nothing
 * matched). Ratios are not in SQL: contactValues divides, so a 0 denominator is null, not NaN.
 */
export function buildContactMeasuresQuery(sel: ContactSelection, by: readonly ContactDimension[]): Query {
  const rows = selectOfferedContacts(sel, by, [`coalesce(i.outcome = '${ABANDONED_OUTCOME}', false) AS abandoned`, 'i.wait_seconds', 'i.handle_seconds']);
  const items = REGISTRY.filter((m): m is ContactCountMeasure | ContactMeanMeasure => m.kind !== 'ratio').map((m) =>
    m.kind === 'count' ? `(${m.sql})::BIGINT AS ${m.name}` : `(${m.sql})::DOUBLE AS ${m.name}`,
  );
  const positions = by.map((_, i) => i + 1).join(', ');
  const sql = `
WITH r AS (
  ${rows.sql}
)
SELECT ${[...by, ...items].join(',\n  ')}
FROM r
${by.length ? `GROUP BY ${positions} ORDER BY ${positions}` : ''}`;
  return query(sql, { ...rows.params, target_wait: sel.target_wait_seconds });
}

/**
 * Weekly average speed of answer per team and channel (the trend findings' series): answered
 * contacts and their mean wait per local week (Monday). Weeks without an answered contact are absent.
 */
export function buildWeeklyAsaQuery(sel: ContactSelection): Query {
  const rows = selectOfferedContacts(sel, ['team', 'channel', 'week'], [`coalesce(i.outcome = '${ABANDONED_OUTCOME}', false) AS abandoned`, 'i.wait_seconds']);
  const sql = `
SELECT team, channel, week, count(*)::INTEGER AS answered, avg(wait_seconds)::DOUBLE AS asa_seconds
FROM (${rows.sql})
WHERE NOT abandoned
GROUP BY team, channel, week
ORDER BY team, channel, week`;
  return query(sql, rows.params);
}

/** The channels and teams of the offered contacts a caller may see, with how many each (any time). */
export function buildContactDimensionsQuery(scope: CaseScope = {}): Query {
  const agencies = scope.agencies ?? null;
  const sql = `
SELECT 'channel' AS dimension, ${ATTRIBUTE_SQL.channel} AS value, count(*)::INTEGER AS offered FROM interactions i WHERE %W GROUP BY ALL
UNION ALL
SELECT 'team', ${ATTRIBUTE_SQL.team}, count(*)::INTEGER FROM interactions i WHERE %W GROUP BY ALL
ORDER BY 1, 2`;
  const where = [`i.direction = 'inbound'`, 'i.wait_seconds IS NOT NULL', ...linkedCaseSql(agencies, undefined)].join(' AND ');
  return query(sql.replaceAll('%W', where), agencyScopeParams(agencies));
}
