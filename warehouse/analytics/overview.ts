// The managers' overview (issue 11, item 1): the headline figures of a window beside the previous
// window of the same length, each with its weekly values, and the services and areas furthest
// below their on-time targets. Every figure comes from computeKpis — the measure registry over
// the shared case predicates — so the overview can never disagree with /api/kpis: no measure is
// defined here. Reports call this too.
import type { Warehouse } from '../db.ts';
import { NO_AREA, compareLabels, type CaseFilter, type CaseScope, type CaseWindow, type Dimension } from '../queries/case-predicates.ts';
import { measure, type Measure, type MeasureName } from '../queries/measures.ts';
import { computeKpis, type KpiResult, type KpiRow } from './kpis.ts';
import { listDimensions } from './dimensions.ts';
import { memoByData, memoKey } from './memo.ts';
import { requestSpan } from './window.ts';
import { DEFAULT_MIN_DENOMINATOR, targetStatus, tooFewCases, type TargetStatus } from './format.ts';
import { DEFAULT_TARGETS, onTimeTargets, weightedTarget, type OnTimeTargets, type TargetsConfig } from './targets.ts';

/** The headline measures, in the order a manager reads them (registry names). */
export const HEADLINE_MEASURES = [
  'opened', 'median_hours_to_close', 'on_time_rate', 'backlog', 'backlog_past_due_share',
  'csat_top2', 'csat_mean', 'fcr_measured', 'fcr_reported', 'contacts_per_case',
] as const satisfies readonly MeasureName[];

export interface OverviewOptions {
  area_kind?: string;
  scope?: CaseScope;
  targets?: TargetsConfig;
  /** Rates and medians over fewer cases read "too few cases" (display.min_denominator). */
  min_denominator?: number;
}

export interface WeeklyPoint {
  /** Monday the week starts on (local day). */
  week: string;
  value: number | null;
  denominator?: number;
  /** The week is cut by the window's first or last day: fewer than 7 days of it count. */
  partial: boolean;
}

export interface HeadlineFigure {
  name: MeasureName;
  label: string;
  unit: string;
  definition: string;
  value: number | null;
  numerator?: number;
  /** What a rate or median rests on: judged cases, closed cases, answers… (registry name in `denominator_name`). */
  denominator?: number;
  denominator_name?: string;
  /** The median's 95% interval (hours). */
  interval?: { lower: number | null; upper: number | null };
  previous: number | null;
  previous_denominator?: number;
  /** value − previous: cases for counts, percentage points for shares, hours for durations; null when either is null. */
  change: number | null;
  change_unit: string;
  /** on_time_rate only: the case-weighted target of the services counted (see targets.ts). */
  target?: number | null;
  status: TargetStatus | null;
  weekly: WeeklyPoint[];
  /** What a weekly value means when it is not the measure over that week's cases. */
  weekly_definition?: string;
}

export interface TargetRow {
  opened: number;
  on_time: number;
  on_time_denominator: number;
  on_time_rate: number | null;
  target: number | null;
  /** on_time_rate − target (a share; negative = below target). */
  gap: number | null;
  median_hours_to_close: number | null;
  /** Open at backlog_as_of (as the headline's backlog), and of those, past due. */
  backlog: number;
  backlog_past_due: number;
  status: TargetStatus | null;
}
/** A service as the KPI rows label it (its name), with its code when the name has exactly one. */
export type ServiceTargetRow = { service: string; service_code: string | null } & TargetRow;
/** An area of the overview's area kind, with its id (null for cases in no area). */
export type AreaTargetRow = { area: string; area_id: string | null } & TargetRow;

export interface Overview {
  from: string;
  to: string;
  previous: {
    from: string;
    to: string;
    /** The previous window's opened- and closed-cohort figures are taken at the same as-of time. */
    as_of: string;
    /** Backlog figures are taken at the end of the previous window (the start of this one): the backlog then, against the backlog now. */
    backlog_as_of: string;
    /** The data starts after the previous window does: its counts cover only part of it, so their change is left out. */
    partial: boolean;
  };
  as_of: string;
  /** When the backlog figures are taken: the as-of time, or the end of a window that ends before it (its last day's end). */
  backlog_as_of: string;
  timezone: string;
  area_kind: string;
  filter: CaseFilter;
  min_denominator: number;
  /** The on-time target of a service without one of its own (targets.on_time). */
  default_target: number;
  headline: HeadlineFigure[];
  worst_services: ServiceTargetRow[];
  worst_areas: AreaTargetRow[];
  /** Things the reader should know (a configured target naming no service). */
  warnings: string[];
}

const DAY_MS = 86_400_000;
const dayMs = (d: string) => Date.parse(`${d}T00:00:00Z`);
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const dayAfter = (d: string) => isoDay(dayMs(d) + DAY_MS);

/** The window of the same number of days that ends the day before `from`. */
export function previousWindow(w: CaseWindow): CaseWindow {
  const days = (dayMs(w.to) - dayMs(w.from)) / DAY_MS + 1;
  const to = dayMs(w.from) - DAY_MS;
  return { from: isoDay(to - (days - 1) * DAY_MS), to: isoDay(to), as_of: w.as_of, timezone: w.timezone };
}

/** Mondays of the weeks a window touches (weeks as computeKpis cuts them: ISO, Monday first). */
export function weeksOf(w: Pick<CaseWindow, 'from' | 'to'>): { week: string; partial: boolean }[] {
  const from = dayMs(w.from);
  const to = dayMs(w.to);
  const weekday = (new Date(from).getUTCDay() + 6) % 7; // Monday 0
  const out: { week: string; partial: boolean }[] = [];
  for (let m = from - weekday * DAY_MS; m <= to; m += 7 * DAY_MS) out.push({ week: isoDay(m), partial: m < from || m + 6 * DAY_MS > to });
  return out;
}

/** What a rate or median rests on, for the "too few cases" rule: a ratio's denominator; closed cases for a time to close. */
export function denominatorOf(m: Measure): MeasureName | null {
  if (m.kind === 'ratio') return m.denominator as MeasureName;
  if (m.kind === 'km') return m.duration === 'close' ? 'closed' : null;
  return null;
}

const CHANGE_UNIT: Record<string, string> = { share: 'percentage points', hours: 'hours', score: 'points' };

/** value − previous in the unit a reader compares: percentage points for shares, hours for durations. */
export function changeOf(m: Measure, value: number | null, previous: number | null): number | null {
  if (value === null || previous === null || !Number.isFinite(value) || !Number.isFinite(previous)) return null;
  return m.unit === 'share' ? (value - previous) * 100 : value - previous;
}

const num = (row: KpiRow | undefined, name: string): number | null => {
  const v = row ? (row as unknown as Record<string, unknown>)[name] : undefined;
  return typeof v === 'number' ? v : null;
};

/** When the local day `day` starts, as an instant (ISO, UTC) — the end of the day before. */
async function startOfDay(wh: Warehouse, day: string, timezone: string): Promise<string> {
  const r = await wh.one<{ t: string }>(`SELECT strftime(timezone($tz, $day::DATE::TIMESTAMP), '%Y-%m-%dT%H:%M:%S.%gZ') AS t`, { tz: timezone, day });
  return r!.t;
}

/** computeKpis under the same memo key as the KPI route: the overview and /api/kpis share their tables. */
function kpis(wh: Warehouse, by: Dimension[], window: CaseWindow, filter: CaseFilter, opts: OverviewOptions): Promise<KpiResult> {
  return memoByData(wh, memoKey('kpis', by, window, filter, opts.area_kind, opts.scope),
    () => computeKpis(wh, by, window, filter, { area_kind: opts.area_kind, scope: opts.scope }), (r) => r.rows.length);
}

/** Runs the tasks together when the warehouse has connections to spare, else one after another. */
async function together<T extends unknown[]>(wh: Warehouse, tasks: { [K in keyof T]: () => Promise<T[K]> }): Promise<T> {
  if (wh.connections > 1) return (await Promise.all(tasks.map((t) => t()))) as T;
  const out: unknown[] = [];
  for (const t of tasks) out.push(await t());
  return out as T;
}

function targetRow(r: KpiRow, target: number | null, min: number): TargetRow {
  const rate = r.on_time_rate;
  return {
    opened: r.opened,
    on_time: r.on_time,
    on_time_denominator: r.on_time_denominator,
    on_time_rate: rate,
    target,
    gap: rate === null || target === null ? null : rate - target,
    median_hours_to_close: r.median_hours_to_close,
    backlog: r.backlog,
    backlog_past_due: r.backlog_past_due,
    status: targetStatus(rate, target, r.on_time_denominator, min),
  };
}

/**
 * Worst first: the largest shortfall against target (most negative gap) first, rows meeting
 * their target after those below it, and "too few cases" rows last; ties by volume.
 */
export function worstFirst<T extends TargetRow>(label: (r: T) => string) {
  const rank = (r: T) => (r.status === 'too few cases' ? 2 : r.gap === null ? 1 : 0);
  return (a: T, b: T) => rank(a) - rank(b) || (a.gap ?? 0) - (b.gap ?? 0) || b.opened - a.opened || compareLabels(label(a), label(b));
}

/** The overview of a window (memoized per data version, window, filters, scope and settings). */
export async function computeOverview(wh: Warehouse, window: CaseWindow, filter: CaseFilter = {}, opts: OverviewOptions = {}): Promise<Overview> {
  const targetsConfig = opts.targets ?? DEFAULT_TARGETS;
  const min = opts.min_denominator ?? DEFAULT_MIN_DENOMINATOR;
  return memoByData(wh, memoKey('overview', window, filter, opts.area_kind, opts.scope, targetsConfig, min),
    () => buildOverview(wh, window, filter, { ...opts, targets: targetsConfig, min_denominator: min }),
    (o) => o.headline.length + o.worst_services.length + o.worst_areas.length);
}

async function buildOverview(wh: Warehouse, window: CaseWindow, filter: CaseFilter, opts: OverviewOptions & { targets: TargetsConfig; min_denominator: number }): Promise<Overview> {
  const min = opts.min_denominator;
  const prev = previousWindow(window);
  const windowStart = await startOfDay(wh, window.from, window.timezone);
  const backlogAsOf = windowStart < window.as_of ? windowStart : window.as_of;
  const prevBacklog: CaseWindow = { ...prev, as_of: backlogAsOf };

  // A window that ends before the as-of day: its backlog is taken at the window's end (the start of
  // the day after `to`), as the previous one is taken at its start — not the cases still open now.
  const windowEnd = await startOfDay(wh, dayAfter(window.to), window.timezone);
  const nowBacklog: CaseWindow | null = windowEnd < window.as_of ? { ...window, as_of: windowEnd } : null;

  // The current window first: it checks the filters (an unknown name is a 400 before anything else runs).
  const now = await kpis(wh, [], window, filter, opts);
  const [before, beforeBacklog, nowBacklogKpis, weekly, byService, byArea, byAreaService, serviceBacklog, areaBacklog] = await together<[KpiResult, KpiResult, KpiResult | null, KpiResult, KpiResult, KpiResult, KpiResult, KpiResult | null, KpiResult | null]>(wh, [
    () => kpis(wh, [], prev, filter, opts),
    () => kpis(wh, [], prevBacklog, filter, opts),
    () => (nowBacklog ? kpis(wh, [], nowBacklog, filter, opts) : Promise.resolve(null)),
    () => kpis(wh, ['week'], window, filter, opts),
    () => kpis(wh, ['service'], window, filter, opts),
    () => kpis(wh, ['area'], window, filter, opts),
    () => kpis(wh, ['area', 'service'], window, filter, opts),
    // The tables' backlogs are taken when the headline's is (as the staff report's are).
    () => (nowBacklog ? kpis(wh, ['service'], nowBacklog, filter, opts) : Promise.resolve(null)),
    () => (nowBacklog ? kpis(wh, ['area'], nowBacklog, filter, opts) : Promise.resolve(null)),
  ]);
  /** A group's row with its backlog figures taken at backlog_as_of. */
  const atBacklogTime = (r: KpiRow, dim: 'service' | 'area', at: KpiResult | null): KpiRow => {
    if (!at) return r;
    const b = at.rows.find((x) => x[dim] === r[dim]);
    return { ...r, backlog: b?.backlog ?? 0, backlog_past_due: b?.backlog_past_due ?? 0 };
  };
  const targets = await onTimeTargets(wh, opts.targets);
  const span = await requestSpan(wh, window.as_of, window.timezone);
  const partial = span.first_day === null || span.first_day > prev.from;
  // The backlog when the window began is unknown when the data itself begins inside the window
  // (LA's export starts on 27 December): it would read 0, and every case open now "new".
  const noBacklogBefore = span.first_day === null || span.first_day > window.from;

  const overallTarget = weightedTarget(byService.rows.map((r) => ({ target: targets.forService(r.service!), judged: r.on_time_denominator })));
  const row = now.rows[0];
  const weeks = weeksOf(window);
  const weekRows = new Map(weekly.rows.map((r) => [r.week!, r]));

  const headline = HEADLINE_MEASURES.map((name): HeadlineFigure => {
    const m = measure(name)!;
    const den = denominatorOf(m);
    const isBacklog = m.cohort === 'backlog';
    const prevRow = isBacklog ? beforeBacklog.rows[0] : before.rows[0];
    const nowRow = isBacklog && nowBacklogKpis ? nowBacklogKpis.rows[0] : row;
    const value = num(nowRow, name);
    const previous = num(prevRow, name);
    // A count over a previous window the data only partly covers is not comparable, nor is a rate
    // or median whose previous figure rests on fewer cases than the minimum ("too few cases").
    const comparable = !(partial && m.kind === 'count' && !isBacklog) && !(isBacklog && noBacklogBefore) && !(den && (tooFewCases(num(prevRow, den), min) || tooFewCases(num(nowRow, den), min)));
    const figure: HeadlineFigure = {
      name, label: m.label, unit: m.unit, definition: m.definition,
      value,
      previous,
      change: comparable ? changeOf(m, value, previous) : null,
      change_unit: CHANGE_UNIT[m.unit] ?? m.unit,
      status: den ? tooFewCases(num(nowRow, den), min) ? 'too few cases' : null : null,
      weekly: weeks.map(({ week, partial: p }) => {
        const w = weekRows.get(week);
        const v = w ? num(w, name) : m.kind === 'count' ? 0 : null;
        return den ? { week, value: v, denominator: w ? num(w, den)! : 0, partial: p } : { week, value: v, partial: p };
      }),
    };
    if (m.kind === 'ratio') figure.numerator = num(nowRow, m.numerator)!;
    if (den) {
      figure.denominator = num(nowRow, den)!;
      figure.denominator_name = den;
      figure.previous_denominator = num(prevRow, den)!;
    }
    if (name === 'median_hours_to_close') figure.interval = { lower: row.median_hours_ci_lower, upper: row.median_hours_ci_upper };
    if (name === 'on_time_rate') {
      figure.target = overallTarget;
      figure.status = targetStatus(value, overallTarget, figure.denominator, min);
    }
    if (isBacklog) {
      figure.weekly_definition = 'Per week: of the cases opened that week, those still open at the as-of time (the backlog by the week it came in); the change compares the backlog now with the backlog when the window began.';
    }
    return figure;
  });

  const dims = await listDimensions(wh);
  const codesOf = new Map<string, string[]>();
  for (const s of dims.services) if (s.code) codesOf.set(s.name, [...(codesOf.get(s.name) ?? []), s.code]);
  const worst_services = byService.rows
    .map((r): ServiceTargetRow => {
      const codes = [...new Set(codesOf.get(r.service!) ?? [])];
      return { service: r.service!, service_code: codes.length === 1 ? codes[0] : null, ...targetRow(atBacklogTime(r, 'service', serviceBacklog), targets.forService(r.service!), min) };
    })
    .sort(worstFirst((r) => r.service));

  const idOf = new Map<string, string>();
  for (const a of dims.areas) if (a.kind === now.area_kind && !idOf.has(a.name)) idOf.set(a.name, a.id);
  const partsOf = new Map<string, { target: number; judged: number }[]>();
  for (const r of byAreaService.rows) partsOf.set(r.area!, [...(partsOf.get(r.area!) ?? []), { target: targets.forService(r.service!), judged: r.on_time_denominator }]);
  const worst_areas = byArea.rows
    .map((r): AreaTargetRow => ({
      area: r.area!,
      area_id: r.area === NO_AREA ? null : (idOf.get(r.area!) ?? null),
      ...targetRow(atBacklogTime(r, 'area', areaBacklog), weightedTarget(partsOf.get(r.area!) ?? []), min),
    }))
    .sort(worstFirst((r) => r.area));

  return {
    from: window.from,
    to: window.to,
    previous: { from: prev.from, to: prev.to, as_of: prev.as_of, backlog_as_of: backlogAsOf, partial },
    as_of: window.as_of,
    backlog_as_of: nowBacklog ? nowBacklog.as_of : window.as_of,
    timezone: window.timezone,
    area_kind: now.area_kind,
    filter: now.filter,
    min_denominator: min,
    default_target: targets.default,
    headline,
    worst_services,
    worst_areas,
    warnings: unmatchedWarnings(targets),
  };
}

function unmatchedWarnings(t: OnTimeTargets): string[] {
  return t.unmatched.map((k) => `targets.services."${k}" names no service code or name in the data: its target is not used.`);
}
