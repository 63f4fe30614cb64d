// The Kaplan–Meier curve itself (issue 11, item 4): the distribution of time to close (or to first
// response), not only its median. Built in SQL (kpi-sql.ts buildKmCurveQuery over
// buildKmObservationsQuery) over the same cases as the KPIs' medians (kmTerms: censored at the
// as-of time). S is summed in logs here and multiplied step by step for the KPIs, so the two can
// differ in the last bits; the quantiles read off them are the same (kpis-measures.test.ts reads
// both, at three as-of times).
import type { Warehouse } from '../db.ts';
import { buildKmCurveQuery, KM_MAX_STEPS, type KmDuration } from '../queries/kpi-sql.ts';
import { appliedFilter, compareLabels, type CaseFilter, type CaseScope, type CaseWindow } from '../queries/case-predicates.ts';
import { KM_TARGETS, kmSummary, type KmCurve } from '../stats/kaplan-meier.ts';
import { computeKpis, type KpiResult } from './kpis.ts';
import { resolveSelection } from './dimensions.ts';
import { memoByData, memoKey } from './memo.ts';

/** A chart shows at most this many series (DESIGN.md): past it, the largest groups less one, and the rest pooled. */
export const MAX_SURVIVAL_GROUPS = 8;
export type SurvivalBy = 'service' | 'area';
/** The pooled group's label (brackets, like "(no area)": no service or area is named so). */
export const OTHER_LABEL: Record<SurvivalBy, string> = { service: '(other services)', area: '(other areas)' };

export interface SurvivalPoint {
  group?: string;
  hours: number;
  /** S(t): the share of cases not yet ended after `hours`. */
  survival: number;
  /** The 95% log interval of S(t), as R survival; null once S reaches 0. */
  lower: number | null;
  upper: number | null;
  /** Cases still open just before this time. */
  at_risk: number;
  /** Cases that ended (closed / had a first response) at exactly this time. */
  events: number;
  /** Cases followed up to this time and no further (still open at the as-of time). */
  censored: number;
}

export interface SurvivalGroup {
  group?: string;
  /** Cases in the curve (cancelled-before-close and data errors left out, as the KPI does). */
  n: number;
  events: number;
  /** The KPI's Kaplan–Meier median, its 95% interval and P90, in hours (null: the curve does not get there). */
  median_hours: number | null;
  median_lower_hours: number | null;
  median_upper_hours: number | null;
  p90_hours: number | null;
  /** Distinct event times: the curve's steps. */
  steps: number;
  /** true: more steps than `max_steps`, so the points are those at evenly spaced quantiles of the event times. */
  thinned: boolean;
  /** The pooled group of the smaller services or areas, and which ones it holds. */
  pooled?: string[];
}

export interface SurvivalResult {
  from: string;
  to: string;
  as_of: string;
  timezone: string;
  area_kind: string;
  filter: CaseFilter;
  duration: KmDuration;
  by: SurvivalBy | null;
  max_steps: number;
  /** Any group thinned. */
  thinned: boolean;
  groups: SurvivalGroup[];
  points: SurvivalPoint[];
}

export interface SurvivalOptions {
  duration?: KmDuration;
  by?: SurvivalBy | null;
  area_kind?: string;
  scope?: CaseScope;
  maxSteps?: number;
}

const hours = (s: number | null) => (s === null ? null : s / 3600);
type SqlRow = Record<string, unknown>;

/** The curve(s) for a window and filters, memoized per data version. */
export function computeSurvival(wh: Warehouse, window: CaseWindow, filter: CaseFilter = {}, o: SurvivalOptions = {}): Promise<SurvivalResult> {
  const opts = { duration: o.duration ?? 'close', by: o.by ?? null, area_kind: o.area_kind, scope: o.scope, maxSteps: o.maxSteps ?? KM_MAX_STEPS };
  return memoByData(wh, memoKey('survival', window, filter, opts), () => buildSurvival(wh, window, filter, opts), (r) => r.points.length);
}

async function buildSurvival(wh: Warehouse, window: CaseWindow, filter: CaseFilter, o: Required<Omit<SurvivalOptions, 'area_kind' | 'scope'>> & Pick<SurvivalOptions, 'area_kind' | 'scope'>): Promise<SurvivalResult> {
  const sel = await resolveSelection(wh, window, { filter, area_kind: o.area_kind, scope: o.scope });
  const by = o.by;
  let lump: { keep: string[]; label: string } | undefined;
  let pooled: string[] = [];
  if (by) {
    // The largest groups by cases opened in the window: the same table the KPI route keeps.
    const table = await memoByData(wh, memoKey('kpis', [by], window, filter, o.area_kind, o.scope),
      () => computeKpis(wh, [by], window, filter, { area_kind: o.area_kind, scope: o.scope }), (r: KpiResult) => r.rows.length);
    const sizes = table.rows.filter((r) => r.opened > 0).map((r) => ({ label: r[by]!, opened: r.opened }));
    if (sizes.length > MAX_SURVIVAL_GROUPS) {
      sizes.sort((a, b) => b.opened - a.opened || compareLabels(a.label, b.label));
      lump = { keep: sizes.slice(0, MAX_SURVIVAL_GROUPS - 1).map((s) => s.label), label: OTHER_LABEL[by] };
      pooled = sizes.slice(MAX_SURVIVAL_GROUPS - 1).map((s) => s.label).sort(compareLabels);
    }
  }
  const q = buildKmCurveQuery(by ? [by] : [], sel, [o.duration], KM_TARGETS, { maxSteps: o.maxSteps, lump });
  const rows = await wh.all<SqlRow>(q.sql, q.params);

  const curves = new Map<string, { marks: KmCurve; steps: number; thinned: boolean; points: SurvivalPoint[] }>();
  for (const r of rows) {
    const g = by ? String(r[by]) : '';
    let c = curves.get(g);
    if (!c) curves.set(g, (c = { marks: { n: Number(r.n_total), events: Number(r.events_total), points: [] }, steps: Number(r.steps), thinned: Boolean(r.thinned), points: [] }));
    const surv = Number(r.surv);
    const lower = r.lower === null ? null : Number(r.lower);
    const upper = r.upper === null ? null : Number(r.upper);
    // The quantiles are read from the same points the KPI reads them from, in the same way.
    if (r.is_mark) {
      c.marks.points.push({
        time: Number(r.seconds), n_risk: Number(r.n_risk), n_event: Number(r.events), n_censor: Number(r.censored), surv,
        std_err: lower === null ? null : surv * Math.sqrt(Number(r.greenwood)), lower, upper,
      });
    }
    c.points.push({ ...(by ? { group: g } : {}), hours: Number(r.seconds) / 3600, survival: surv, lower, upper, at_risk: Number(r.n_risk), events: Number(r.events), censored: Number(r.censored) });
  }

  const order = [...curves.keys()].sort((a, b) => (a === lump?.label ? 1 : b === lump?.label ? -1 : compareLabels(a, b)));
  const groups: SurvivalGroup[] = [];
  const points: SurvivalPoint[] = [];
  for (const g of order) {
    const c = curves.get(g)!;
    c.marks.points.sort((a, b) => a.time - b.time);
    const s = kmSummary(c.marks);
    groups.push({
      ...(by ? { group: g } : {}),
      n: s.n, events: s.events,
      median_hours: hours(s.median), median_lower_hours: hours(s.median_lower), median_upper_hours: hours(s.median_upper), p90_hours: hours(s.p90),
      steps: c.steps, thinned: c.thinned,
      ...(lump && g === lump.label ? { pooled } : {}),
    });
    points.push(...c.points);
  }
  return {
    from: window.from, to: window.to, as_of: window.as_of, timezone: window.timezone, area_kind: sel.area_kind, filter: appliedFilter(sel.filter),
    duration: o.duration, by, max_steps: o.maxSteps, thinned: groups.some((g) => g.thinned), groups, points,
  };
}
