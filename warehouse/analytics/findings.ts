// Trend and anomaly findings from the warehouse: what, where, which way, how much, since when
// and how sure — each as a record and as one plain sentence a manager can act on.
import type { Warehouse } from '../db.ts';
import { buildCountSeriesQuery, periodCount, periodsBetween, type SeriesPeriod as Period, type SeriesGroup } from '../queries/series-sql.ts';
import { appliedFilter, type CaseFilter, type CaseScope, type CaseSelection, type CaseWindow } from '../queries/case-predicates.ts';
import { resolveSelection, TooManyCellsError } from './dimensions.ts';
import { forEachInTurns, mapInTurns } from '../turns.ts';
import { areaPhrase } from './format.ts';
import { mannKendall, seasonalMannKendall } from '../stats/mann-kendall.ts';
import { cusum } from '../stats/control-charts.ts';
import { mad, median, negBinomialCdf, poissonCdf } from '../stats/distributions.ts';
import { benjaminiHochberg } from '../stats/hotspots.ts';

/** A count series; `area_phrase` is how a sentence names its area (see format.ts areaPhrase). */
export interface Series { service?: string; area?: string; area_phrase?: string; periods: string[]; counts: number[] }

export interface TrendFinding {
  kind: 'trend';
  service: string | null;
  area: string | null;
  direction: 'rising' | 'falling';
  /** Sen's slope: change in cases per week. */
  per_week: number;
  since: string;
  p: number;
  /** Benjamini–Hochberg adjusted over every series tested in the call. */
  q: number;
  sentence: string;
}

export interface AnomalyFinding {
  kind: 'anomaly';
  service: string | null;
  area: string | null;
  from: string;
  to: string;
  observed: number;
  expected: number;
  ratio: number;
  p: number;
  sentence: string;
}

/** Zero-filled counts per group and period, each series from where its group's data starts. */
export async function countSeries(wh: Warehouse, by: readonly SeriesGroup[], period: Period, sel: CaseSelection): Promise<Series[]> {
  const q = buildCountSeriesQuery(by, period, sel);
  const rows = await wh.all<{ service?: string; area?: string; start: string; last: string; period: string; n: number }>(q.sql, q.params);
  // The query is sparse (periods with requests only): the zeros are filled here, from each
  // group's start, which is where ten years of daily series for every service in every area would
  // take the memory and the event loop. Their number is known before any is built: past the
  // warehouse's cell budget, a 413 that says what to narrow.
  const limit = wh.limits.maxCells;
  if (Number.isFinite(limit)) {
    const spans = new Map(rows.map((r) => [JSON.stringify([r.service ?? null, r.area ?? null]), periodCount(r.start, r.last, period)]));
    const points = [...spans.values()].reduce((a, b) => a + b, 0);
    // Anomalies are read from daily series whatever the period asked for: say so, or "week instead of day" would puzzle.
    if (points > limit) throw new TooManyCellsError(points, limit, `points of ${period === 'day' ? 'daily series' : 'weekly series'} (${[...by, period].join(' × ')}${period === 'day' ? '; anomalies are found in daily series whatever the period' : ''})`, true);
  }
  const out = new Map<string, Series & { index: Map<string, number> }>();
  // In turns: a group's first row builds its whole zero-filled series (a year of days each).
  await forEachInTurns(rows, (r) => {
    const key = JSON.stringify([r.service ?? null, r.area ?? null]);
    let s = out.get(key);
    if (!s) {
      const periods = periodsBetween(r.start, r.last, period);
      out.set(key, (s = {
        ...(r.service !== undefined ? { service: r.service } : {}),
        ...(r.area !== undefined ? { area: r.area, area_phrase: areaPhrase(r.area, sel.area_kind) } : {}),
        periods, counts: new Array<number>(periods.length).fill(0), index: new Map(periods.map((p, i) => [p, i])),
      }));
    }
    const i = s.index.get(r.period);
    if (i !== undefined) s.counts[i] = Number(r.n);
  }, 1000);
  return [...out.values()].map(({ index: _index, ...s }) => s);
}

/** A trend under this many requests a week is not worth a sentence (it would read "about 0.00"). */
const MIN_REPORTED_PER_WEEK = 0.01;
const fmtP = (p: number) => (p < 0.001 ? 'p < 0.001' : `p = ${p.toFixed(3)}`);
const what = (s: { service?: string | null; area?: string | null; area_phrase?: string }) => {
  // "General Requests" stays as it is, not "General Requests requests".
  const subject = s.service ? (/\brequests?$/i.test(s.service) ? s.service : `${s.service} requests`) : 'All requests';
  return `${subject}${s.area ? ` in ${s.area_phrase ?? s.area}` : ''}`;
};
const monthDay = (iso: string) => new Date(`${iso}T00:00:00Z`).toLocaleDateString('en-US', { month: 'long', day: 'numeric', year: 'numeric', timeZone: 'UTC' });

/**
 * Mann–Kendall with Sen's slope per series (weekly), or the seasonal test with period 7 on daily
 * series; significant at `alpha` after Benjamini–Hochberg across all series, so testing many
 * services and areas does not manufacture findings. "Since" is where a CUSUM on the series
 * first starts the run that signals, or the window's start.
 */
export function trendFindings(series: readonly Series[], period: Period, alpha = 0.05, minPerWeek = 0): TrendFinding[] {
  return trendsOfTested(series.filter(testable(period)).map((s) => testTrend(s, period)), period, alpha, minPerWeek);
}

/** The same, one series test per turn of the event loop (long daily series cost milliseconds each). */
export async function trendFindingsInTurns(series: readonly Series[], period: Period, alpha = 0.05, minPerWeek = 0): Promise<TrendFinding[]> {
  return trendsOfTested(await mapInTurns(series.filter(testable(period)), (s) => testTrend(s, period), 1), period, alpha, minPerWeek);
}

const testable = (period: Period) => (s: Series) => s.counts.length >= (period === 'day' ? 28 : 8) && s.counts.some((c) => c > 0);

function testTrend(s: Series, period: Period) {
  const r = period === 'day' ? seasonalMannKendall(s.counts, 7) : mannKendall(s.counts);
  // The weekly slope is per week already. The seasonal (daily) slope is the change per cycle
  // (a week) in one weekday's count: the week's volume, seven days, changes seven times that.
  return { s, r, perWeek: period === 'day' ? 7 * r.slope : r.slope };
}

function trendsOfTested(tested: ReturnType<typeof testTrend>[], period: Period, alpha: number, minPerWeek: number): TrendFinding[] {
  const q = benjaminiHochberg(tested.map((t) => t.r.p));
  return tested
    .map((t, i) => ({ ...t, q: q[i] }))
    .filter((t) => t.q < alpha && t.r.trend !== 'no trend' && Math.abs(t.perWeek) > Math.max(minPerWeek, MIN_REPORTED_PER_WEEK))
    .map(({ s, r, perWeek, q: qi }) => {
      const since = changeStart(s, period, perWeek > 0 ? 'up' : 'down');
      const direction: TrendFinding['direction'] = perWeek > 0 ? 'rising' : 'falling';
      const size = Math.abs(perWeek);
      const amount = size >= 10 ? Math.round(size).toString() : size >= 1 ? size.toFixed(1) : size.toFixed(2);
      return {
        kind: 'trend' as const,
        service: s.service ?? null,
        area: s.area ?? null,
        direction,
        per_week: perWeek,
        since,
        p: r.p,
        q: qi,
        sentence: `${what(s)} have ${direction === 'rising' ? 'risen' : 'fallen'} by about ${amount} ${amount === '1.0' ? 'request' : 'requests'} a week since ${monthDay(since)} (${fmtP(r.p)}).`,
      };
    })
    .sort((a, b) => a.q - b.q);
}

/** The start of the sustained shift a tabular CUSUM finds (target: the first quarter's median). */
function changeStart(s: Series, period: Period, way: 'up' | 'down'): string {
  const weekly = period === 'week' ? s.counts : weeklySums(s.counts);
  const starts = period === 'week' ? s.periods : s.periods.filter((_, i) => i % 7 === 0);
  const head = weekly.slice(0, Math.max(4, Math.floor(weekly.length / 4)));
  const target = median(head);
  const sigma = Math.max(mad(head), Math.sqrt(Math.max(target, 1)));
  const c = cusum(way === 'up' ? weekly : weekly.map((x) => 2 * target - x), { target, k: 0.5 * sigma, h: 5 * sigma });
  if (c.firstSignalIndex === null) return starts[0];
  let i = c.firstSignalIndex;
  while (i > 0 && c.points[i - 1].sHi > 0) i--;
  return starts[i] ?? starts[0];
}

function weeklySums(daily: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i + 7 <= daily.length; i += 7) out.push(daily.slice(i, i + 7).reduce((a, b) => a + b, 0));
  return out;
}

/**
 * Days far above the same-weekday robust baseline (median and MAD·1.4826 of the previous
 * `weeks` same weekdays), judged against a negative-binomial (Poisson when not over-dispersed)
 * upper tail; adjacent anomalous days of a series merge into one finding.
 */
type AnomalyOptions = { weeks?: number; pMax?: number; minRatio?: number };

export function anomalyFindings(series: readonly Series[], opts: AnomalyOptions = {}): AnomalyFinding[] {
  return series.flatMap((s) => seriesAnomalies(s, opts)).sort((a, b) => a.p - b.p);
}

/** The same, one series per turn of the event loop. */
export async function anomalyFindingsInTurns(series: readonly Series[], opts: AnomalyOptions = {}): Promise<AnomalyFinding[]> {
  return (await mapInTurns(series, (s) => seriesAnomalies(s, opts), 1)).flat().sort((a, b) => a.p - b.p);
}

function seriesAnomalies(s: Series, opts: AnomalyOptions): AnomalyFinding[] {
  const weeks = opts.weeks ?? 8;
  const pMax = opts.pMax ?? 1e-4;
  const minRatio = opts.minRatio ?? 1.5;
  const out: AnomalyFinding[] = [];
  {
    const flagged: { i: number; expected: number; p: number }[] = [];
    for (let i = weeks * 7; i < s.counts.length; i++) {
      const same = Array.from({ length: weeks }, (_, w) => s.counts[i - 7 * (w + 1)]);
      const centre = Math.max(median(same), 0.5);
      // The baseline is itself an estimate from `weeks` values: judge against its upper
      // 95% bound, so a sparse series (1 a day) does not alarm at every 5.
      const mean = centre + 1.96 * Math.sqrt(centre / weeks);
      const variance = mad(same) ** 2;
      const x = s.counts[i];
      if (x < centre * minRatio || x - centre < 5) continue;
      // P(X ≥ x): over-dispersed counts get a negative binomial with the baseline's variance.
      const p = variance > mean ? 1 - negBinomialCdf(x - 1, mean, (mean * mean) / (variance - mean)) : 1 - poissonCdf(x - 1, mean);
      if (p < pMax) flagged.push({ i, expected: centre, p });
    }
    for (let j = 0; j < flagged.length; ) {
      let k = j;
      while (k + 1 < flagged.length && flagged[k + 1].i - flagged[k].i <= 2) k++;
      const run = flagged.slice(j, k + 1);
      const observed = run.reduce((a, f) => a + s.counts[f.i], 0);
      const expected = run.reduce((a, f) => a + f.expected, 0);
      const from = s.periods[run[0].i];
      const to = s.periods[run[run.length - 1].i];
      const ratio = observed / expected;
      const p = Math.min(...run.map((f) => f.p));
      out.push({
        kind: 'anomaly',
        service: s.service ?? null,
        area: s.area ?? null,
        from,
        to,
        observed,
        expected: Math.round(expected * 10) / 10,
        ratio: Math.round(ratio * 10) / 10,
        p,
        sentence: `${what(s)} were ${ratio.toFixed(1)} times the usual ${from === to ? `on ${monthDay(from)}` : `from ${monthDay(from)} to ${monthDay(to)}`}: ${observed} against about ${expected < 10 ? expected.toFixed(1) : Math.round(expected)} expected (${fmtP(p)}).`,
      });
      j = k + 1;
    }
  }
  return out;
}

export interface FindingsOptions {
  window: CaseWindow;
  by: SeriesGroup[];
  period: Period;
  alpha?: number;
  filter?: CaseFilter;
  area_kind?: string;
  scope?: CaseScope;
}

export interface FindingsResult {
  from: string;
  to: string;
  as_of: string;
  timezone: string;
  area_kind: string;
  by: SeriesGroup[];
  period: Period;
  filter: CaseFilter;
  trends: TrendFinding[];
  anomalies: AnomalyFinding[];
  series_tested: number;
}

export async function computeFindings(wh: Warehouse, o: FindingsOptions): Promise<FindingsResult> {
  const sel = await resolveSelection(wh, o.window, { filter: o.filter, area_kind: o.area_kind, scope: o.scope });
  const series = await countSeries(wh, o.by, o.period, sel);
  const daily = o.period === 'day' ? series : await countSeries(wh, o.by, 'day', sel);
  const w = o.window;
  return {
    from: w.from, to: w.to, as_of: w.as_of, timezone: w.timezone, area_kind: sel.area_kind, by: [...o.by], period: o.period, filter: appliedFilter(sel.filter),
    trends: await trendFindingsInTurns(series, o.period, o.alpha ?? 0.05),
    anomalies: await anomalyFindingsInTurns(daily),
    series_tested: series.length,
  };
}
