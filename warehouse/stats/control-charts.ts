// Anomaly and shift detection for volume series: EWMA and tabular CUSUM charts for sustained
// shifts, the generalized ESD test for isolated outliers (all as in the NIST/SEMATECH
// e-Handbook), and the same-weekday robust baseline that count anomalies are judged against.

import { mad, meanAndSd, median, studentTQuantile } from './distributions.ts';

export type Signal = 'high' | 'low' | null;

export interface EwmaOptions {
  /** Weight of the newest observation, 0 < λ ≤ 1. */
  lambda: number;
  /** Limit width in standard errors of the EWMA (3 is usual). */
  L: number;
  /** In-control mean; defaults to the series mean (a phase-I chart on the data itself). */
  target?: number;
  /** In-control standard deviation of one observation; defaults to the series' sample sd. */
  sigma?: number;
  /**
   * 'asymptotic' (default, the NIST handbook's chart): target ± L·σ·√(λ/(2−λ)).
   * 'exact': the time-varying width √(λ/(2−λ)·(1−(1−λ)^{2t})), narrower for the first points,
   * which catches a shift at start-up sooner.
   */
  limits?: 'asymptotic' | 'exact';
}

export interface EwmaPoint {
  index: number;
  x: number;
  /** The EWMA statistic z_t (NIST's name), not a standard score. */
  z: number;
  ucl: number;
  lcl: number;
  signal: Signal;
}

export interface EwmaResult {
  lambda: number;
  L: number;
  target: number;
  sigma: number;
  /** Asymptotic limits, whatever `limits` says: the steady-state band to draw. */
  ucl: number;
  lcl: number;
  points: EwmaPoint[];
  /** Index of the first out-of-control point, or null. */
  firstSignalIndex: number | null;
}

/** EWMA control chart: z_t = λx_t + (1−λ)z_{t−1}, z_0 = target. */
export function ewma(x: readonly number[], opts: EwmaOptions): EwmaResult {
  const { lambda, L } = opts;
  if (!(lambda > 0 && lambda <= 1)) throw new RangeError(`lambda must be in (0, 1], got ${lambda}`);
  const target = opts.target ?? meanAndSd(x).mean;
  const sigma = opts.sigma ?? meanAndSd(x).sd;
  const asymptotic = L * sigma * Math.sqrt(lambda / (2 - lambda));
  let z = target;
  let firstSignalIndex: number | null = null;
  const points = x.map((v, i): EwmaPoint => {
    z = lambda * v + (1 - lambda) * z;
    const width = opts.limits === 'exact' ? asymptotic * Math.sqrt(1 - (1 - lambda) ** (2 * (i + 1))) : asymptotic;
    const ucl = target + width;
    const lcl = target - width;
    const signal: Signal = z > ucl ? 'high' : z < lcl ? 'low' : null;
    if (signal !== null && firstSignalIndex === null) firstSignalIndex = i;
    return { index: i, x: v, z, ucl, lcl, signal };
  });
  return { lambda, L, target, sigma, ucl: target + asymptotic, lcl: target - asymptotic, points, firstSignalIndex };
}

export interface CusumOptions {
  /** In-control mean. */
  target: number;
  /** Allowance (slack) in the units of x, usually half the shift to detect (δσ/2). */
  k: number;
  /** Decision interval in the units of x (often 4σ–5σ). */
  h: number;
}

export interface CusumPoint {
  index: number;
  x: number;
  sHi: number;
  sLo: number;
  signal: Signal;
}

export interface CusumResult {
  points: CusumPoint[];
  firstSignalIndex: number | null;
}

/**
 * Tabular CUSUM: S_hi = max(0, S_hi + x − target − k), S_lo = max(0, S_lo + target − k − x),
 * signalling when either exceeds h. The sums are not reset after a signal (as in the handbook),
 * so the run of signals shows how long the shift lasts.
 */
export function cusum(x: readonly number[], opts: CusumOptions): CusumResult {
  const { target, k, h } = opts;
  let sHi = 0;
  let sLo = 0;
  let firstSignalIndex: number | null = null;
  const points = x.map((v, i): CusumPoint => {
    sHi = Math.max(0, sHi + v - target - k);
    sLo = Math.max(0, sLo + target - k - v);
    const signal: Signal = sHi > h ? 'high' : sLo > h ? 'low' : null;
    if (signal !== null && firstSignalIndex === null) firstSignalIndex = i;
    return { index: i, x: v, sHi, sLo, signal };
  });
  return { points, firstSignalIndex };
}

export interface EsdOptions {
  /** Upper bound r on the number of outliers tested for. */
  maxOutliers: number;
  /** Significance level; 0.05 by default. */
  alpha?: number;
}

export interface EsdStep {
  /** 1-based step number. */
  i: number;
  /** Test statistic R_i = max|x − mean|/sd over the values still in. */
  r: number;
  /** Critical value λ_i. */
  lambda: number;
  /** Index in the input of the value removed at this step, and the value. */
  index: number;
  value: number;
}

export interface EsdResult {
  steps: EsdStep[];
  /** The largest i with R_i > λ_i (0 when none). */
  nOutliers: number;
  /** Input indices of the outliers, in the order they were removed. */
  outlierIndices: number[];
}

/**
 * Rosner's generalized ESD test. All r steps are computed before deciding, because an outlier
 * can mask another: the count is the largest i with R_i > λ_i, even if an earlier step failed.
 * r is capped at n − 2 so that the t critical value keeps at least one degree of freedom.
 */
export function generalizedEsd(x: readonly number[], opts: EsdOptions): EsdResult {
  const alpha = opts.alpha ?? 0.05;
  const n = x.length;
  const r = Math.min(opts.maxOutliers, n - 2);
  const remaining = x.map((value, index) => ({ value, index }));
  const steps: EsdStep[] = [];
  for (let i = 1; i <= r; i++) {
    const { mean, sd } = meanAndSd(remaining.map((p) => p.value));
    if (!(sd > 0)) break; // all remaining values equal: nothing is extreme any more
    let worst = 0;
    for (let j = 1; j < remaining.length; j++) {
      if (Math.abs(remaining[j].value - mean) > Math.abs(remaining[worst].value - mean)) worst = j;
    }
    const [removed] = remaining.splice(worst, 1);
    const t = studentTQuantile(1 - alpha / (2 * (n - i + 1)), n - i - 1);
    const lambda = (t * (n - i)) / Math.sqrt((n - i - 1 + t * t) * (n - i + 1));
    steps.push({ i, r: Math.abs(removed.value - mean) / sd, lambda, index: removed.index, value: removed.value });
  }
  let nOutliers = 0;
  for (const step of steps) if (step.r > step.lambda) nOutliers = step.i;
  return { steps, nOutliers, outlierIndices: steps.slice(0, nOutliers).map((s) => s.index) };
}

export interface WeekdayBaseline {
  weekday: number;
  /** Days of this weekday in the history. */
  n: number;
  median: number;
  /** MAD × 1.4826: a standard deviation that a few past spikes cannot inflate. */
  mad: number;
}

/**
 * Robust baseline for daily counts: for each weekday, the median and the scaled MAD of the
 * counts on that weekday. 311 volume has a strong weekly cycle (Mondays are busy, Sundays quiet),
 * so a day is compared with its own weekday; median and MAD ignore the very spikes we are looking
 * for. `weekdays[i]` is the weekday of `counts[i]` in any numbering (keys are returned as given).
 * With sparse counts the MAD is often 0, which is why anomaly limits come from a Poisson or
 * negative-binomial quantile around the median rather than from median ± k·MAD alone.
 */
export function robustBaseline(counts: readonly number[], weekdays: readonly number[]): Map<number, WeekdayBaseline> {
  if (counts.length !== weekdays.length) {
    throw new RangeError(`counts (${counts.length}) and weekdays (${weekdays.length}) differ in length`);
  }
  const byDay = new Map<number, number[]>();
  counts.forEach((c, i) => {
    if (!Number.isFinite(c)) return;
    const list = byDay.get(weekdays[i]) ?? [];
    list.push(c);
    byDay.set(weekdays[i], list);
  });
  const out = new Map<number, WeekdayBaseline>();
  for (const weekday of [...byDay.keys()].sort((a, b) => a - b)) {
    const values = byDay.get(weekday)!;
    out.set(weekday, { weekday, n: values.length, median: median(values), mad: mad(values) });
  }
  return out;
}
