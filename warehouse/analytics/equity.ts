// Equity: the same service measured area by area — time to close, on-time rate, satisfaction —
// within one area kind, with the spread between the best and worst areas and a test of whether
// the differences are beyond chance, so a planner sees where service is unequal rather than where
// it is noisy. The figures are the KPIs' own (computeKpis by area), so equity and /api/kpis agree
// to the last digit for the same cases, window and as-of.
import type { Warehouse } from '../db.ts';
import { ParameterError } from '../errors.ts';
import { NO_AREA, type CaseFilter, type CaseScope, type CaseWindow } from '../queries/case-predicates.ts';
import { buildKmObservationsQuery } from '../queries/kpi-sql.ts';
import type { KmObservation } from '../stats/kaplan-meier.ts';
import { logRank, proportionsTest, type GroupTest } from '../stats/group-tests.ts';
import { resolveSelection } from './dimensions.ts';
import { areaPhrase, finiteRatio, formatHours, formatP } from './format.ts';
import { computeKpis } from './kpis.ts';

export interface EquityOptions { window: CaseWindow; filter?: CaseFilter; area_kind?: string; scope?: CaseScope; minCases?: number }

export interface EquityArea {
  area: string;
  /** Cases opened in the window (the KPIs' `opened`). */
  cases: number;
  median_hours_to_close: number | null;
  on_time_rate: number | null;
  on_time: number;
  on_time_denominator: number;
  csat_top2: number | null;
  csat_responses: number;
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
  const keep = new Set(rows.map((r) => r.area!));
  const obsQ = buildKmObservationsQuery(['area'], sel, 'close');
  // Areas in the KPI rows' (sorted) order, observations by time: the test sums in a fixed order,
  // so the same cases give the same statistic to the last bit, whoever asks (scoped or filtered).
  const byArea = new Map<string, KmObservation[]>(rows.map((r) => [r.area!, []]));
  for (const r of await wh.all<{ area: string; seconds: number; events: number; censored: number }>(obsQ.sql, obsQ.params)) {
    if (!keep.has(r.area)) continue;
    byArea.get(r.area)!.push({ time: Number(r.seconds), events: r.events, censored: r.censored });
  }
  for (const [area, list] of byArea) {
    if (list.length === 0) byArea.delete(area);
    else list.sort((a, b) => a.time - b.time);
  }
  const areas: EquityArea[] = rows.map((r) => ({
    area: r.area!,
    cases: r.opened,
    median_hours_to_close: r.median_hours_to_close,
    on_time_rate: r.on_time_rate,
    on_time: r.on_time,
    on_time_denominator: r.on_time_denominator,
    csat_top2: r.csat_top2,
    csat_responses: r.csat_responses,
  }));
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
    areas_too_small: placed.length - rows.length,
    cases_in_no_area: kpis.rows.find((r) => r.area === NO_AREA)?.opened ?? 0,
    areas,
    time_to_close: {
      best: ttc.best?.area ?? null,
      worst: ttc.worst?.area ?? null,
      // A best median of 0 h (closed on opening) has no meaningful "times": no ratio then.
      ratio: ttc.best && ttc.worst ? finiteRatio(ttc.worst.median_hours_to_close, ttc.best.median_hours_to_close) : null,
      test: logRank(byArea),
    },
    on_time: { best: ot.best?.area ?? null, worst: ot.worst?.area ?? null, gap: ot.best && ot.worst ? ot.best.on_time_rate - ot.worst.on_time_rate : null, test: proportionsTest(areas.map((r) => ({ successes: r.on_time, trials: r.on_time_denominator }))) },
    satisfaction: {
      best: sat.best?.area ?? null, worst: sat.worst?.area ?? null, gap: sat.best && sat.worst ? sat.best.csat_top2 - sat.worst.csat_top2 : null,
      test: proportionsTest(rows.map((r) => ({ successes: r.csat_top2_count, trials: r.csat_responses }))),
    },
    sentence: '',
  };
  result.sentence = describeEquity(result);
  return result;
}

function describeEquity(r: EquityResult): string {
  const what = r.filter.service ? `${r.filter.service} requests` : 'Requests';
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
