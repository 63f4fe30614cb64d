// Contact-centre measures (DESIGN.md: service level, abandonment, average speed of answer and
// handle time, by channel and team) from the registry in queries/contact-measures.ts, and their
// trend: Mann–Kendall with Sen's slope on each team's weekly average speed of answer, with the
// before/after figures at the least-squares change point of the same weeks — one plain sentence each.
import type { Warehouse } from '../db.ts';
import { closest, ParameterError } from '../errors.ts';
import { compareLabels, type CaseScope, type CaseWindow } from '../queries/case-predicates.ts';
import {
  buildContactDimensionsQuery,
  buildContactMeasuresQuery,
  buildWeeklyAsaQuery,
  CONTACT_DIMENSIONS,
  contactValues,
  isContactPeriod,
  MAX_TARGET_WAIT_SECONDS,
  MIN_TARGET_WAIT_SECONDS,
  type ContactDimension,
  type ContactMeasureValues,
  type ContactSelection,
} from '../queries/contact-measures.ts';
import { periodsBetween } from '../queries/series-sql.ts';
import { mannKendall } from '../stats/mann-kendall.ts';
import { benjaminiHochberg } from '../stats/hotspots.ts';
import { meanShift } from '../stats/change-point.ts';
import { mapInTurns } from '../turns.ts';
import { parseDimensions, periodsIn, resolveSelection, TooManyCellsError } from './dimensions.ts';
import { formatP, formatSeconds } from './format.ts';

export { CONTACT_DIMENSIONS, type ContactDimension } from '../queries/contact-measures.ts';

/** One group's dimensions (periods labelled by their first local day; weeks start on Monday) and every contact measure. */
export type ContactRow = Partial<Record<ContactDimension, string>> & ContactMeasureValues;

export interface ContactFinding {
  kind: 'asa_trend';
  team: string;
  channel: string;
  /** Which way the weekly average speed of answer moves (falling = answered sooner). */
  direction: 'falling' | 'rising';
  /** Sen's slope of the weekly averages, in seconds a week. */
  slope_per_week_seconds: number;
  /** Mann–Kendall, two-sided. */
  p: number;
  /** Benjamini–Hochberg adjusted over every team and channel tested in the call. */
  q: number;
  /** The first week (Monday) after the shift (the least-squares change point of the weekly averages). */
  change_week: string;
  /** Mean of the weekly averages before and from that week, in seconds. */
  before_seconds: number;
  after_seconds: number;
  weeks_before: number;
  weeks_after: number;
  sentence: string;
}

export interface ContactCentreResult {
  from: string;
  to: string;
  as_of: string;
  timezone: string;
  target_wait_seconds: number;
  by: ContactDimension[];
  /** The filters applied (only those given). */
  filter: { channel?: string; team?: string; agency?: string };
  rows: ContactRow[];
  findings: ContactFinding[];
  /** Team and channel series with enough weeks to test. */
  series_tested: number;
}

export interface ContactCentreRequest {
  window: CaseWindow;
  by?: readonly ContactDimension[];
  channel?: string;
  team?: string;
  /** Only contacts linked to cases of this agency (checked as every case filter is). */
  agency?: string;
  target_wait_seconds?: number;
  scope?: CaseScope;
  /** False discovery rate of the trend findings (default 0.05). */
  alpha?: number;
}

export interface ContactDimensionsResult {
  /** Channels and teams of the queued inbound contacts the caller may see, with how many were offered (all time). */
  channels: { name: string; offered: number }[];
  teams: { name: string; offered: number }[];
}

/** A comma list of contact dimensions, each checked (400 with "did you mean"). */
export const parseContactDimensions = (list: string | undefined, parameter = 'by'): ContactDimension[] =>
  parseDimensions(list, parameter, CONTACT_DIMENSIONS) as string[] as ContactDimension[];

export async function contactDimensions(wh: Warehouse, scope: CaseScope = {}): Promise<ContactDimensionsResult> {
  const q = buildContactDimensionsQuery(scope);
  const rows = await wh.all<{ dimension: 'channel' | 'team'; value: string; offered: number }>(q.sql, q.params);
  const of = (d: 'channel' | 'team') => rows.filter((r) => r.dimension === d).map((r) => ({ name: r.value, offered: Number(r.offered) })).sort((a, b) => compareLabels(a.name, b.name));
  return { channels: of('channel'), teams: of('team') };
}

function checkTarget(seconds: number): number {
  if (!Number.isFinite(seconds) || seconds < MIN_TARGET_WAIT_SECONDS || seconds > MAX_TARGET_WAIT_SECONDS) {
    throw new ParameterError('target_wait', `target_wait "${seconds}" must be seconds from ${MIN_TARGET_WAIT_SECONDS} to ${MAX_TARGET_WAIT_SECONDS}`);
  }
  return seconds;
}

/**
 * The contact-centre measures per group of `by` (none: one overall row, zeros when nothing
 * matched) for the window, and the trend findings of every team and channel under the same
 * filters. A channel or team the caller's data does not have is a 400 with the closest names.
 */
export async function computeContactCentre(wh: Warehouse, req: ContactCentreRequest): Promise<ContactCentreResult> {
  const by = [...(req.by ?? [])];
  const target = checkTarget(req.target_wait_seconds ?? 20);
  const dims = await contactDimensions(wh, req.scope);
  for (const [parameter, value, list] of [['channel', req.channel, dims.channels], ['team', req.team, dims.teams]] as const) {
    if (value === undefined) continue;
    const names = list.map((x) => x.name);
    if (!names.includes(value)) {
      throw new ParameterError(parameter, names.length
        ? `${parameter} "${value}" is not a ${parameter} of the queued contacts; closest: ${closest(value, names).map((v) => `"${v}"`).join(', ')} (all: GET /api/contact-centre/dimensions)`
        : `${parameter} "${value}" is not a ${parameter} of the queued contacts: there are none in the data`);
    }
  }
  // The agency is checked against the cases the caller may see, with the message every route gives.
  if (req.agency !== undefined) await resolveSelection(wh, req.window, { filter: { agency: req.agency }, scope: req.scope });
  // Groups × periods, known before any query: past the warehouse's cell budget, a 413.
  const estimate = by.reduce((n, d) => n * (isContactPeriod(d) ? periodsIn(req.window, d) : d === 'channel' ? (req.channel ? 1 : dims.channels.length) : req.team ? 1 : dims.teams.length), 1);
  if (Number.isFinite(wh.limits.maxCells) && estimate > wh.limits.maxCells) throw new TooManyCellsError(estimate, wh.limits.maxCells, `rows (one per ${by.join(' × ')})`);

  const sel: ContactSelection = { window: req.window, channel: req.channel, team: req.team, agency: req.agency, scope: req.scope, target_wait_seconds: target };
  const q = buildContactMeasuresQuery(sel, by);
  const sqlRows = await wh.all<Record<string, unknown>>(q.sql, q.params, { maxRows: wh.limits.maxRows, what: by.length ? `rows (one per ${by.join(' × ')})` : 'rows' });
  const rows = await mapInTurns(sqlRows, (r) => {
    const row: Record<string, unknown> = {};
    for (const d of by) row[d] = String(r[d]);
    return Object.assign(row, contactValues(r)) as ContactRow;
  });
  rows.sort((a, b) => {
    for (const d of by) {
      const c = compareLabels(a[d] as string, b[d] as string);
      if (c !== 0) return c;
    }
    return 0;
  });
  const { findings, tested } = await asaTrends(wh, sel, req.alpha ?? 0.05);
  const w = req.window;
  return {
    from: w.from, to: w.to, as_of: w.as_of, timezone: w.timezone, target_wait_seconds: target, by,
    filter: Object.fromEntries(Object.entries({ channel: req.channel, team: req.team, agency: req.agency }).filter(([, v]) => v !== undefined)),
    rows, findings, series_tested: tested,
  };
}

/** A series needs this many weeks with answered contacts to be tested (as findings.ts asks of weekly counts). */
const MIN_WEEKS = 8;

// Seconds as a contact centre states them: the one rule, in format.ts (the dashboard uses it too).
export { formatSeconds };

const minus = (s: string) => s.replace(/^-/, '−');
const dayMonthYear = (iso: string) => new Date(`${iso}T00:00:00Z`).toLocaleDateString('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
const channelNoun = (channel: string) => (channel === 'phone' ? 'phone calls' : channel === 'walk_in' ? 'walk-in visits' : `${channel} contacts`);

/**
 * Weekly average speed of answer per team and channel over the window's weeks (a week with no
 * answered contact is missing, not zero), Mann–Kendall with Sen's slope on each, significant
 * after Benjamini–Hochberg across them; the least-squares change point splits the weeks for the
 * sentence's "from … to …". Everything said comes from the series.
 */
async function asaTrends(wh: Warehouse, sel: ContactSelection, alpha: number): Promise<{ findings: ContactFinding[]; tested: number }> {
  const q = buildWeeklyAsaQuery(sel);
  const rows = await wh.all<{ team: string; channel: string; week: string; answered: number; asa_seconds: number }>(q.sql, q.params);
  if (rows.length === 0) return { findings: [], tested: 0 };
  const weekOf = (iso: string) => {
    const d = new Date(`${iso}T00:00:00Z`);
    d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
    return d.toISOString().slice(0, 10);
  };
  const weeks = periodsBetween(weekOf(sel.window.from), weekOf(sel.window.to), 'week');
  const index = new Map(weeks.map((w, i) => [w, i]));
  const series = new Map<string, { team: string; channel: string; values: (number | null)[] }>();
  for (const r of rows) {
    const key = JSON.stringify([r.team, r.channel]);
    let s = series.get(key);
    if (!s) series.set(key, (s = { team: r.team, channel: r.channel, values: new Array<number | null>(weeks.length).fill(null) }));
    const i = index.get(r.week);
    if (i !== undefined) s.values[i] = Number(r.asa_seconds);
  }
  const testable = [...series.values()].filter((s) => s.values.filter((v) => v !== null).length >= MIN_WEEKS);
  const tested = await mapInTurns(testable, (s) => ({ s, mk: mannKendall(s.values) }), 1);
  const qs = benjaminiHochberg(tested.map((t) => t.mk.p));
  const findings: ContactFinding[] = [];
  tested.forEach(({ s, mk }, i) => {
    if (!(qs[i] < alpha) || mk.trend === 'no trend' || mk.slope === 0) return;
    const cp = meanShift(s.values);
    if (cp.index === null || cp.before === null || cp.after === null) return;
    const [b, a] = [cp.before, cp.after];
    // One unit for the whole sentence, chosen by its largest figure.
    const unit = Math.max(b, a) < 120 ? 's' : 'min';
    const change_week = weeks[cp.index];
    const verb = a < b ? 'fell' : 'rose';
    findings.push({
      kind: 'asa_trend', team: s.team, channel: s.channel, direction: mk.slope < 0 ? 'falling' : 'rising', slope_per_week_seconds: mk.slope, p: mk.p, q: qs[i],
      change_week, before_seconds: b, after_seconds: a, weeks_before: cp.n_before, weeks_after: cp.n_after,
      sentence:
        `Average speed of answer of ${channelNoun(s.channel)} for ${s.team} ${verb} from ${formatSeconds(b, unit)} to ${formatSeconds(a, unit)} ` +
        `(weekly averages, ${cp.n_before} weeks before vs ${cp.n_after} from ${dayMonthYear(change_week)}); ` +
        `Sen's slope ${minus(formatSeconds(mk.slope, unit))} a week, ${formatP(mk.p)}.`,
    });
  });
  findings.sort((x, y) => x.q - y.q || x.p - y.p);
  return { findings, tested: tested.length };
}
