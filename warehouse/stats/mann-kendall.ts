// Volume trends: Mann–Kendall with Sen's slope, and the seasonal (Hirsch–Slack) variant used on
// daily data with period 7. Formulated exactly as pyMannKendall (original_test, sens_slope,
// seasonal_test, seasonal_sens_slope) so our numbers match the reference implementation.

import { median, normalQuantile, twoSidedP } from './distributions.ts';

export type TrendDirection = 'increasing' | 'decreasing' | 'no trend';

export interface MannKendallResult {
  /** Non-missing values used for S and Var(S). */
  n: number;
  s: number;
  var_s: number;
  /** Continuity-corrected: (S − sign(S))/√Var(S). */
  z: number;
  /** Two-sided. */
  p: number;
  /** Whether the trend is significant at alpha. */
  h: boolean;
  /** Kendall's tau-a: S over the number of pairs. */
  tau: number;
  /** Sen's slope per time step (per full cycle for the seasonal test). */
  slope: number;
  intercept: number;
  trend: TrendDirection;
}

export interface MannKendallOptions {
  /** Significance level for `h` and `trend`; 0.05 by default. */
  alpha?: number;
}

type Series = readonly (number | null | undefined)[];

function isPresent(v: number | null | undefined): v is number {
  return v !== null && v !== undefined && Number.isFinite(v);
}

/** S = Σ_{i<j} sign(x_j − x_i) over the values in order. */
function mkScore(values: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < values.length - 1; i++) {
    const xi = values[i];
    for (let j = i + 1; j < values.length; j++) s += Math.sign(values[j] - xi);
  }
  return s;
}

/** Var(S) with the correction for tie groups. */
function mkVariance(values: readonly number[]): number {
  const n = values.length;
  const groups = new Map<number, number>();
  for (const v of values) groups.set(v, (groups.get(v) ?? 0) + 1);
  let ties = 0;
  for (const t of groups.values()) ties += t * (t - 1) * (2 * t + 5);
  return (n * (n - 1) * (2 * n + 5) - ties) / 18;
}

function zScore(s: number, varS: number): number {
  if (s === 0 || !(varS > 0)) return 0;
  return (s - Math.sign(s)) / Math.sqrt(varS);
}

function decide(z: number, alpha: number): { p: number; h: boolean; trend: TrendDirection } {
  const p = twoSidedP(z);
  const h = Math.abs(z) > normalQuantile(1 - alpha / 2);
  return { p, h, trend: !h ? 'no trend' : z < 0 ? 'decreasing' : 'increasing' };
}

/** Writes the pairwise slopes (x_j − x_i)/(t_j − t_i), points in increasing t, from `offset`. */
function pairwiseSlopes(values: readonly number[], times: readonly number[], into: Float64Array, offset: number): number {
  let k = offset;
  for (let i = 0; i < values.length - 1; i++) {
    for (let j = i + 1; j < values.length; j++) into[k++] = (values[j] - values[i]) / (times[j] - times[i]);
  }
  return k;
}

/** Rearranges buf so that buf[k] is its k-th smallest value (Hoare's quickselect). */
function selectInPlace(buf: Float64Array, k: number): number {
  let lo = 0;
  let hi = buf.length - 1;
  while (lo < hi) {
    const pivot = buf[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (buf[i] < pivot) i++;
      while (buf[j] > pivot) j--;
      if (i <= j) {
        const tmp = buf[i];
        buf[i] = buf[j];
        buf[j] = tmp;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return buf[k];
}

/**
 * Median of the slopes by selection in place: ten years of daily data give 6.7 million pairs,
 * too many to copy and sort. Slopes are always finite (times are distinct, values present).
 */
function medianInPlace(buf: Float64Array): number {
  const n = buf.length;
  if (n === 0) return NaN;
  const mid = n >> 1;
  const upper = selectInPlace(buf, mid);
  if (n % 2 === 1) return upper;
  // After selection everything left of mid is ≤ buf[mid]: the lower middle is their maximum.
  let lower = -Infinity;
  for (let i = 0; i < mid; i++) if (buf[i] > lower) lower = buf[i];
  return (lower + upper) / 2;
}

/**
 * Mann–Kendall trend test with Sen's slope. Missing values (null, NaN) are dropped for S and
 * Var(S), but every value keeps its original index as its time, so a gap does not shorten the
 * slope; t starts at 0.
 */
export function mannKendall(x: Series, opts: MannKendallOptions = {}): MannKendallResult {
  const alpha = opts.alpha ?? 0.05;
  const values: number[] = [];
  const times: number[] = [];
  x.forEach((v, t) => {
    if (isPresent(v)) {
      values.push(v);
      times.push(t);
    }
  });
  const n = values.length;
  const s = mkScore(values);
  const varS = mkVariance(values);
  const z = zScore(s, varS);
  const slopes = new Float64Array((n * (n - 1)) / 2);
  pairwiseSlopes(values, times, slopes, 0);
  const slope = medianInPlace(slopes);
  return {
    n,
    s,
    var_s: varS,
    z,
    ...decide(z, alpha),
    tau: n > 1 ? s / ((n * (n - 1)) / 2) : NaN,
    slope,
    intercept: median(values) - median(times) * slope,
  };
}

export interface SeasonalMannKendallResult extends MannKendallResult {
  period: number;
}

/**
 * Seasonal Mann–Kendall (Hirsch–Slack): the series is cut into cycles of `period` values, S and
 * Var(S) are computed within each season (position in the cycle) and summed, so the weekly or
 * yearly cycle cannot masquerade as a trend. The slope is the median of within-season pairwise
 * slopes, i.e. per full cycle; the intercept is in those units too, anchored at the median time
 * measured in cycles.
 */
export function seasonalMannKendall(x: Series, period: number, opts: MannKendallOptions = {}): SeasonalMannKendallResult {
  if (!Number.isInteger(period) || period < 1) throw new RangeError(`period must be a positive integer, got ${period}`);
  const alpha = opts.alpha ?? 0.05;
  const seasonValues: number[][] = Array.from({ length: period }, () => []);
  const seasonCycles: number[][] = Array.from({ length: period }, () => []);
  const allValues: number[] = [];
  const allTimes: number[] = [];
  x.forEach((v, t) => {
    if (!isPresent(v)) return;
    seasonValues[t % period].push(v);
    seasonCycles[t % period].push(Math.floor(t / period));
    allValues.push(v);
    allTimes.push(t);
  });
  let s = 0;
  let varS = 0;
  let pairs = 0;
  for (const values of seasonValues) {
    s += mkScore(values);
    varS += mkVariance(values);
    pairs += (values.length * (values.length - 1)) / 2;
  }
  const slopes = new Float64Array(pairs);
  let filled = 0;
  for (let season = 0; season < period; season++) {
    filled = pairwiseSlopes(seasonValues[season], seasonCycles[season], slopes, filled);
  }
  const z = zScore(s, varS);
  const slope = medianInPlace(slopes);
  return {
    period,
    n: allValues.length,
    s,
    var_s: varS,
    z,
    ...decide(z, alpha),
    tau: pairs > 0 ? s / pairs : NaN,
    slope,
    intercept: median(allValues) - (median(allTimes) / period) * slope,
  };
}
