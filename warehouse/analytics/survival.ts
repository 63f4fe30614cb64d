// The Kaplan–Meier curve itself (issue 11, item 4): the distribution of time to close (or to first
// response), not only its median. Drawn from the same durations as the KPIs' medians
// (buildKmDurationsQuery: censored at the as-of time), sorted and walked the same way
// (KmCurveWalk), so its quantiles are the KPIs' to the bit. It was drawn in SQL with window
// functions until a large city's 12 weeks in one curve (1.1M cases) took minutes.
import type { Warehouse } from '../db.ts';
import { buildKmDurationsQuery, type KmDuration } from '../queries/kpi-sql.ts';
import { appliedFilter, compareLabels, type CaseFilter, type CaseScope, type CaseWindow } from '../queries/case-predicates.ts';
import { KmCurveWalk } from '../stats/kaplan-meier.ts';
import { GroupDurationsSort } from '../stats/sort-durations.ts';
import { DoubleArena, listsTogether } from '../double-arena.ts';
import { Pacer, VALUES_PER_TURN } from '../turns.ts';
import { computeKpis, type KpiResult } from './kpis.ts';
import { resolveSelection } from './dimensions.ts';
import { memoByData, memoKey } from './memo.ts';

/** A drawn curve keeps every step up to this many; past it, this many evenly spaced quantiles. */
export const KM_MAX_STEPS = 400;

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
  // Each group's durations (the KPIs' cases: kmTerms), the groups not kept pooled into one.
  const q = buildKmDurationsQuery(by ? [by] : [], sel, o.duration);
  const arena = new DoubleArena();
  const listed = await wh.allWithLists(q.sql, q.params, ['ends', 'censored'] as const, { arena });
  const lists = new Map<string, { ends: Float64Array[]; censored: Float64Array[] }>();
  const keep = new Set(lump?.keep);
  for (const r of listed) {
    const label = by ? String(r[by]) : '';
    const g = lump && !keep.has(label) ? lump.label : label;
    const l = lists.get(g) ?? { ends: [], censored: [] };
    l.ends.push(r.ends);
    l.censored.push(r.censored);
    lists.set(g, l);
  }

  const order = [...lists.keys()].sort((a, b) => (a === lump?.label ? 1 : b === lump?.label ? -1 : compareLabels(a, b)));
  const pacer = new Pacer(VALUES_PER_TURN);
  // A group's lists in one array (a lumped or pooled group has several), copied in steps.
  const together = (parts: Float64Array[]) => listsTogether(parts, arena, pacer);
  const groups: SurvivalGroup[] = [];
  const points: SurvivalPoint[] = [];
  try {
    for (const g of order) {
      const l = lists.get(g)!;
      const ends = await together(l.ends);
      const censored = await together(l.censored);
      await pacer.run(new GroupDurationsSort({ ends, censored }));
      const walk = new KmCurveWalk(ends, censored, o.maxSteps);
      await pacer.run(walk);
      const c = walk.result();
      const s = c.summary;
      groups.push({
        ...(by ? { group: g } : {}),
        n: c.n, events: c.events,
        median_hours: hours(s.median), median_lower_hours: hours(s.median_lower), median_upper_hours: hours(s.median_upper), p90_hours: hours(s.p90),
        steps: c.steps, thinned: c.thinned,
        ...(lump && g === lump.label ? { pooled } : {}),
      });
      for (const p of c.points) {
        points.push({ ...(by ? { group: g } : {}), hours: p.time / 3600, survival: p.surv, lower: p.lower, upper: p.upper, at_risk: p.n_risk, events: p.n_event, censored: p.n_censor });
      }
    }
  } finally {
    arena.release();
  }
  return {
    from: window.from, to: window.to, as_of: window.as_of, timezone: window.timezone, area_kind: sel.area_kind, filter: appliedFilter(sel.filter),
    duration: o.duration, by, max_steps: o.maxSteps, thinned: groups.some((g) => g.thinned), groups, points,
  };
}
