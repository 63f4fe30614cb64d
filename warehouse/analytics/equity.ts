// Equity: the same service measured area by area — time to close, on-time rate, satisfaction —
// within one area kind, with the spread between the best and worst areas and a test of whether
// the differences are beyond chance, so a planner sees where service is unequal rather than where
// it is noisy. The figures are the KPIs' own (computeKpis by area), so equity and /api/kpis agree
// to the last digit for the same cases, window and as-of.
import type { Warehouse } from '../db.ts';
import { ParameterError } from '../errors.ts';
import { compareLabels, NO_AREA, SOURCE_AREA_KIND, type CaseFilter, type CaseScope, type CaseWindow } from '../queries/case-predicates.ts';
import { buildKmDurationsQuery } from '../queries/kpi-sql.ts';
import { DistinctTimes } from '../stats/kaplan-meier.ts';
import { LogRankWalk, proportionsTest, type GroupTest } from '../stats/group-tests.ts';
import { GroupDurationsSort } from '../stats/sort-durations.ts';
import { DoubleArena } from '../double-arena.ts';
import { Pacer, VALUES_PER_TURN } from '../turns.ts';
import { resolveSelection } from './dimensions.ts';
import { areaPhrase, DEFAULT_MIN_DENOMINATOR, finiteRatio, formatHours, formatP, tooFewCases } from './format.ts';
import { wilsonInterval } from '../stats/wilson.ts';
import { loadAreaPolygons } from './area-locator.ts';
import { computeKpis } from './kpis.ts';

/** Which figure the areas are sorted by, worst first (a longer median, a lower rate). */
export const EQUITY_SORTS = ['median_hours_to_close', 'on_time_rate', 'csat_top2'] as const;
export type EquitySort = (typeof EQUITY_SORTS)[number];

export interface EquityOptions {
  window: CaseWindow; filter?: CaseFilter; area_kind?: string; scope?: CaseScope; minCases?: number;
  /** Worst first by this figure (default: the median time to close); areas without it last. */
  sort?: EquitySort;
  /** The "too few cases" rule's minimum denominator (display.min_denominator, 20). */
  minDenominator?: number;
}

export interface EquityArea {
  area: string;
  /** The loaded polygon's id (null for the source's own area names): the area page's key. */
  area_id: string | null;
  /** Cases opened in the window (the KPIs' `opened`). */
  cases: number;
  median_hours_to_close: number | null;
  /** The KPI's 95% interval of the median (log interval, as R survival); the upper end null when open-ended. */
  median_hours_ci_lower: number | null;
  median_hours_ci_upper: number | null;
  /** Cases of the opened cohort closed by the as-of time: what the median rests on. */
  closed: number;
  on_time_rate: number | null;
  on_time: number;
  on_time_denominator: number;
  /** Wilson 95% interval of the on-time rate; null without judged cases. */
  on_time_ci_lower: number | null;
  on_time_ci_upper: number | null;
  csat_top2: number | null;
  csat_top2_count: number;
  csat_responses: number;
  /** Wilson 95% interval of the top-2 share; null without answers. */
  csat_ci_lower: number | null;
  csat_ci_upper: number | null;
  /** Under the minimum denominator (closed cases, judged cases, answers): shown as "too few cases". */
  too_few: { time_to_close: boolean; on_time: boolean; csat: boolean };
}

export type EquityTest = GroupTest;

export interface EquityResult {
  from: string;
  to: string;
  as_of: string;
  timezone: string;
  area_kind: string;
  filter: CaseFilter;
  min_cases: number;
  min_denominator: number;
  /** The figure the areas are sorted by, worst first. */
  sort: EquitySort;
  /** The period in words: "cases opened 2026-08-24 to 2026-11-15 (America/New_York), as of 2026-11-16T04:22Z". */
  period: string;
  /** Areas left out for having fewer than min_cases cases (and cases in no area of the kind). */
  areas_too_small: number;
  cases_in_no_area: number;
  areas: EquityArea[];
  time_to_close: { best: string | null; worst: string | null; ratio: number | null; test: EquityTest | null };
  on_time: { best: string | null; worst: string | null; gap: number | null; test: EquityTest | null };
  satisfaction: { best: string | null; worst: string | null; gap: number | null; test: EquityTest | null };
  sentence: string;
}

export async function computeEquity(wh: Warehouse, o: EquityOptions): Promise<EquityResult> {
  const minCases = o.minCases ?? 20;
  if (!Number.isInteger(minCases) || minCases < 1) throw new ParameterError('min_cases', `min_cases "${o.minCases}" must be a whole number of cases, at least 1`);
  const kpis = await computeKpis(wh, ['area'], o.window, o.filter, { area_kind: o.area_kind, scope: o.scope });
  const sel = await resolveSelection(wh, o.window, { filter: o.filter, area_kind: o.area_kind, scope: o.scope });
  const placed = kpis.rows.filter((r) => r.area !== NO_AREA);
  const rows = placed.filter((r) => r.opened >= minCases);
  // Each area's durations (the KPIs' own cases: kmTerms), sorted here, walked by the log-rank test
  // straight off the sorted arrays: a large city's year is millions of distinct times, too many
  // to send as rows (the row cap refused them) or to hold as an object each. Areas in the KPI
  // rows' (sorted) order: the test sums in a fixed order, so the same cases give the same
  // statistic to the last bit, whoever asks (scoped or filtered).
  const q = buildKmDurationsQuery(['area'], sel, 'close');
  const arena = new DoubleArena();
  let timeToCloseTest: GroupTest | null;
  try {
    const lists = new Map((await wh.allWithLists(q.sql, q.params, ['ends', 'censored'] as const, { arena })).map((g) => [String(g.area), g]));
    const pacer = new Pacer(VALUES_PER_TURN);
    const withCases = rows.flatMap((r) => {
      const g = lists.get(r.area!);
      return g && g.ends.length + g.censored.length > 0 ? [g] : [];
    });
    for (const g of withCases) await pacer.run(new GroupDurationsSort(g));
    const test = new LogRankWalk(withCases.map((g) => new DistinctTimes(g.ends, g.censored)), withCases.map((g) => g.ends.length + g.censored.length));
    await pacer.run(test);
    timeToCloseTest = test.result();
  } finally {
    arena.release();
  }
  const minDen = o.minDenominator ?? DEFAULT_MIN_DENOMINATOR;
  const ids = new Map(sel.area_kind === SOURCE_AREA_KIND ? [] : (await loadAreaPolygons(wh, sel.area_kind)).map((a) => [a.name, a.area_id]));
  const areas: EquityArea[] = rows.map((r) => {
    const ot = wilsonInterval(r.on_time, r.on_time_denominator);
    const cs = wilsonInterval(r.csat_top2_count, r.csat_responses);
    return {
      area: r.area!,
      area_id: ids.get(r.area!) ?? null,
      cases: r.opened,
      median_hours_to_close: r.median_hours_to_close,
      median_hours_ci_lower: r.median_hours_ci_lower,
      median_hours_ci_upper: r.median_hours_ci_upper,
      closed: r.closed,
      on_time_rate: r.on_time_rate,
      on_time: r.on_time,
      on_time_denominator: r.on_time_denominator,
      on_time_ci_lower: ot?.lower ?? null,
      on_time_ci_upper: ot?.upper ?? null,
      csat_top2: r.csat_top2,
      csat_top2_count: r.csat_top2_count,
      csat_responses: r.csat_responses,
      csat_ci_lower: cs?.lower ?? null,
      csat_ci_upper: cs?.upper ?? null,
      too_few: { time_to_close: tooFewCases(r.closed, minDen), on_time: tooFewCases(r.on_time_denominator, minDen), csat: tooFewCases(r.csat_responses, minDen) },
    };
  });
  const extreme = <K extends 'median_hours_to_close' | 'on_time_rate' | 'csat_top2'>(key: K, better: 'low' | 'high') => {
    const ok = areas.filter((a) => a[key] !== null) as (EquityArea & Record<K, number>)[];
    if (ok.length < 2) return { best: null, worst: null };
    const sorted = [...ok].sort((a, b) => (better === 'low' ? a[key] - b[key] : b[key] - a[key]));
    return { best: sorted[0], worst: sorted[sorted.length - 1] };
  };
  const ttc = extreme('median_hours_to_close', 'low');
  const ot = extreme('on_time_rate', 'high');
  const sat = extreme('csat_top2', 'high');
  const w = o.window;
  const result: EquityResult = {
    from: w.from, to: w.to, as_of: w.as_of, timezone: w.timezone, area_kind: kpis.area_kind, filter: kpis.filter,
    min_cases: minCases,
    min_denominator: minDen,
    sort: o.sort ?? 'median_hours_to_close',
    period: `cases opened ${w.from} to ${w.to} (${w.timezone}), as of ${w.as_of}`,
    areas_too_small: placed.length - rows.length,
    cases_in_no_area: kpis.rows.find((r) => r.area === NO_AREA)?.opened ?? 0,
    areas,
    time_to_close: {
      best: ttc.best?.area ?? null,
      worst: ttc.worst?.area ?? null,
      // A best median of 0 h (closed on opening) has no meaningful "times": no ratio then.
      ratio: ttc.best && ttc.worst ? finiteRatio(ttc.worst.median_hours_to_close, ttc.best.median_hours_to_close) : null,
      test: timeToCloseTest,
    },
    on_time: { best: ot.best?.area ?? null, worst: ot.worst?.area ?? null, gap: ot.best && ot.worst ? ot.best.on_time_rate - ot.worst.on_time_rate : null, test: proportionsTest(areas.map((r) => ({ successes: r.on_time, trials: r.on_time_denominator }))) },
    satisfaction: {
      best: sat.best?.area ?? null, worst: sat.worst?.area ?? null, gap: sat.best && sat.worst ? sat.best.csat_top2 - sat.worst.csat_top2 : null,
      test: proportionsTest(rows.map((r) => ({ successes: r.csat_top2_count, trials: r.csat_responses }))),
    },
    sentence: '',
  };
  result.sentence = describeEquity(result);
  // Sorted for the reader only after every figure and test is computed: the tests sum over the
  // areas in the KPI rows' order, and must keep giving the same statistic to the last bit.
  result.areas = worstFirst(areas, result.sort);
  return result;
}

/** Worst first: the longest median, the lowest rate; areas without the figure last; ties by name. */
export function worstFirst(areas: readonly EquityArea[], sort: EquitySort): EquityArea[] {
  const sign = sort === 'median_hours_to_close' ? -1 : 1;
  return [...areas].sort((a, b) => {
    const x = a[sort], y = b[sort];
    if (x === null || y === null) return x === null && y === null ? compareLabels(a.area, b.area) : x === null ? 1 : -1;
    return x === y ? compareLabels(a.area, b.area) : sign * (x - y);
  });
}

/** One row per area for CSV: the figures and their intervals. */
export const EQUITY_COLUMNS = [
  'area', 'area_id', 'cases', 'closed', 'median_hours_to_close', 'median_hours_ci_lower', 'median_hours_ci_upper', 'too_few_time_to_close',
  'on_time', 'on_time_denominator', 'on_time_rate', 'on_time_ci_lower', 'on_time_ci_upper', 'too_few_on_time',
  'csat_top2_count', 'csat_responses', 'csat_top2', 'csat_ci_lower', 'csat_ci_upper', 'too_few_csat',
] as const;
export function equityRows(r: EquityResult): Record<string, unknown>[] {
  return r.areas.map(({ too_few, ...a }) => ({ ...a, too_few_time_to_close: too_few.time_to_close, too_few_on_time: too_few.on_time, too_few_csat: too_few.csat }));
}

function describeEquity(r: EquityResult): string {
  const what = r.filter.service ? `${r.filter.service} requests` : r.filter.service_group ? `${r.filter.service_group} requests` : 'Requests';
  const where = `(${r.area_kind === 'source' ? 'areas as the source names them' : `areas of kind ${r.area_kind}`}, opened ${r.from} to ${r.to})`;
  const t = r.time_to_close;
  if (!t.best || !t.worst || !t.test) return `${what} ${where}: too few cases per area to compare areas (at least ${r.min_cases} each in two areas).`;
  const best = r.areas.find((a) => a.area === t.best)!;
  const worst = r.areas.find((a) => a.area === t.worst)!;
  const [bestName, worstName] = [areaPhrase(best.area, r.area_kind), areaPhrase(worst.area, r.area_kind)];
  const sure = t.test.p < 0.05 ? `the difference between areas is beyond chance (${formatP(t.test.p)})` : `the difference between areas could be chance (${formatP(t.test.p)})`;
  const times = t.ratio !== null ? `, ${t.ratio.toFixed(1)} times ${bestName}'s ${formatHours(best.median_hours_to_close)}` : `; ${bestName}: ${formatHours(best.median_hours_to_close)}`;
  return `${what} ${where} take longest to close in ${worstName} (median ${formatHours(worst.median_hours_to_close)}${times}); ${sure}.`;
}
