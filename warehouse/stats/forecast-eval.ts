// Judging forecasts honestly: the seasonal-naive benchmark (with its normal prediction intervals),
// MASE, interval coverage and rolling-origin backtests. Pure functions over plain arrays; the
// model itself (augurs' MSTL/ETS) is plugged in as a `Forecaster`, so a backtest of the model and
// of the benchmark run through the same code on the same origins.
import { normalQuantile } from './distributions.ts';

/** A forecast `h` steps ahead with 80% and 95% prediction intervals. */
export interface IntervalForecast {
  mean: number[];
  lower80: number[];
  upper80: number[];
  lower95: number[];
  upper95: number[];
}

/** Fits on `train` and forecasts `h` steps; throws when it cannot fit (too little or degenerate data). */
export type Forecaster = (train: readonly number[], h: number) => IntervalForecast;

/** The two interval levels every forecast carries. */
export const LEVELS = [0.8, 0.95] as const;

/**
 * Seasonal naive (Hyndman & Athanasopoulos, FPP3 §5.2): each step repeats the value one season
 * earlier, ŷ(T+j) = y(T+j−m(k+1)), k = ⌊(j−1)/m⌋; with m = 1 it is the naive forecast (the last
 * value). Needs at least m values.
 */
export function seasonalNaive(y: readonly number[], m: number, h: number): number[] {
  const n = y.length;
  if (!Number.isInteger(m) || m < 1) throw new RangeError(`season length ${m} must be a whole number ≥ 1`);
  if (n < m) throw new RangeError(`seasonal naive with season ${m} needs at least ${m} values (got ${n})`);
  return Array.from({ length: h }, (_, i) => {
    const j = i + 1;
    return y[n + j - m * (Math.floor((j - 1) / m) + 1) - 1];
  });
}

/** The benchmark's in-sample residuals y(t) − y(t−m), t = m … n−1. */
export function seasonalNaiveResiduals(y: readonly number[], m: number): number[] {
  const out: number[] = [];
  for (let t = m; t < y.length; t++) out.push(y[t] - y[t - m]);
  return out;
}

/**
 * Seasonal naive with normal prediction intervals (FPP3 table 5.2): σ̂ is the root mean square of
 * the in-sample residuals (as R's forecast::snaive computes it, no drift), and the j-step
 * standard deviation is σ̂·√j for naive (m = 1) and σ̂·√(k+1), k = ⌊(j−1)/m⌋, for a season m > 1.
 * The in-sample residuals rather than the backtest's: there are n − m of them against a handful of
 * backtest errors per step, and the rule uses only data before the forecast, so its own coverage
 * can be backtested without peeking. Needs at least m + 1 values (one residual).
 */
export function seasonalNaiveForecast(y: readonly number[], m: number, h: number): IntervalForecast {
  const res = seasonalNaiveResiduals(y, m);
  if (res.length === 0) throw new RangeError(`seasonal naive intervals with season ${m} need at least ${m + 1} values (got ${y.length})`);
  const sigma = Math.sqrt(res.reduce((a, e) => a + e * e, 0) / res.length);
  const mean = seasonalNaive(y, m, h);
  const sd = mean.map((_, i) => sigma * Math.sqrt(m === 1 ? i + 1 : Math.floor(i / m) + 1));
  const z80 = normalQuantile(0.9);
  const z95 = normalQuantile(0.975);
  return {
    mean,
    lower80: mean.map((f, i) => f - z80 * sd[i]),
    upper80: mean.map((f, i) => f + z80 * sd[i]),
    lower95: mean.map((f, i) => f - z95 * sd[i]),
    upper95: mean.map((f, i) => f + z95 * sd[i]),
  };
}

/**
 * Counts are never negative: the mean and both ends of each interval are raised to 0 where they
 * fall below it. Raising a lower bound to 0 cannot change whether a count (≥ 0) lies inside, so
 * coverage is unchanged; a mean raised to 0 is only ever closer to the count.
 */
export function clipAtZero(f: IntervalForecast): IntervalForecast {
  const clip = (xs: number[]) => xs.map((x) => Math.max(0, x));
  return { mean: clip(f.mean), lower80: clip(f.lower80), upper80: clip(f.upper80), lower95: clip(f.lower95), upper95: clip(f.upper95) };
}

/**
 * The MASE scale (Hyndman & Koehler 2006): the in-sample mean absolute error of the one-season-ago
 * forecast, mean |y(t) − y(t−m)| over t = m … n−1. NaN with no residual; 0 for a series that
 * repeats itself exactly (MASE is then undefined).
 */
export function maseScale(y: readonly number[], m: number): number {
  const res = seasonalNaiveResiduals(y, m);
  return res.length ? res.reduce((a, e) => a + Math.abs(e), 0) / res.length : NaN;
}

/** Mean absolute error of `forecast` against `actual` over the steps both have. */
export function meanAbsoluteError(actual: readonly number[], forecast: readonly number[]): number {
  const k = Math.min(actual.length, forecast.length);
  let s = 0;
  for (let i = 0; i < k; i++) s += Math.abs(actual[i] - forecast[i]);
  return k ? s / k : NaN;
}

/** MASE: the forecast's MAE over the scale; null when the scale is 0 or undefined. */
export function mase(actual: readonly number[], forecast: readonly number[], scale: number): number | null {
  return Number.isFinite(scale) && scale > 0 ? meanAbsoluteError(actual, forecast) / scale : null;
}

/** How many actual values lie inside [lower, upper] (ends included). */
export function coveredCount(actual: readonly number[], lower: readonly number[], upper: readonly number[]): number {
  let c = 0;
  for (let i = 0; i < actual.length; i++) if (actual[i] >= lower[i] && actual[i] <= upper[i]) c++;
  return c;
}

/** One rolling origin: the model fitted on the first `t` values, its raw forecast and what happened. */
export interface OriginForecast { t: number; actual: number[]; forecast: IntervalForecast }

/**
 * Fits at each origin (a training length) and forecasts `h` steps: the raw, unclipped forecasts a
 * backtest and the interval calibration are judged from. Throws if the forecaster does.
 */
export function rollingForecasts(y: readonly number[], h: number, origins: readonly number[], forecaster: Forecaster): OriginForecast[] {
  return origins.map((t) => ({ t, actual: y.slice(t, t + h), forecast: forecaster(y.slice(0, t), h) }));
}

/** Rolling origins one step apart: `calibrate + h − 1` for the calibration, then `evaluate` judged ones, the last forecasting the final h values. */
export interface OriginPlan { origins: number[]; evaluate: number; calibrate: number }

/**
 * The origins for a series of n values: `evaluate` judged origins (the last forecasting the series'
 * final h values), and before them enough origins that each judged one has `calibrate` earlier
 * origins whose h weeks were all seen before it (those are what its intervals are calibrated
 * on). Prefers `want` and `wantCalibrate`; when the series is short, fewer calibration origins first, then fewer
 * judged ones, never below `min` of either; null when even that does not fit after `minTrain`.
 */
export function planOrigins(n: number, h: number, minTrain: number, want = 8, min = 4, wantCalibrate = want): OriginPlan | null {
  const available = n - h - minTrain + 1;
  for (let evaluate = want; evaluate >= min; evaluate--) {
    const calibrate = Math.min(wantCalibrate, available - (h - 1) - evaluate);
    if (calibrate >= min) {
      const count = calibrate + h - 1 + evaluate;
      return { origins: Array.from({ length: count }, (_, i) => n - h - count + 1 + i), evaluate, calibrate };
    }
  }
  return null;
}

/** The 95% interval's implied standard deviation at each step (half its width over z(0.975)). */
const impliedSd = (f: IntervalForecast) => f.upper95.map((u, i) => (u - f.lower95[i]) / (2 * normalQuantile(0.975)));

/** Narrowest a calibration may make an interval, relative to the method's own. */
export const MIN_INTERVAL_SCALE = 0.5;

/** What each level's intervals are multiplied by. */
export interface IntervalScale { scale80: number; scale95: number }

/**
 * Calibrates a method's intervals on its own past errors (split conformal prediction with
 * normalised scores, Lei et al. 2018): each past step's score is |error| ÷ the standard deviation
 * its 95% interval implies, and a level L's half-width becomes the ⌈(k+1)L⌉-th smallest of the k
 * scores (the largest if k is too small for that) times that step's standard deviation — so the
 * interval keeps the method's shape (wider further ahead) but takes its width from how wrong the
 * method has been. Returned as the factor on the method's own half-width (score ÷ z of the level),
 * at least MIN_INTERVAL_SCALE. Needed because model intervals are too narrow on weekly counts:
 * MSTL's seasonal component soaks up part of the noise on two or three years of data, so the
 * trend model never sees it, and a normal interval misses the skew of small counts. Steps whose
 * interval has no width are left out; 1 with nothing to judge by.
 */
export function intervalScale(past: readonly OriginForecast[]): IntervalScale {
  const scores: number[] = [];
  for (const o of past) {
    const sd = impliedSd(o.forecast);
    o.actual.forEach((a, i) => {
      if (sd[i] > 0) scores.push(Math.abs(a - o.forecast.mean[i]) / sd[i]);
    });
  }
  if (scores.length === 0) return { scale80: 1, scale95: 1 };
  scores.sort((x, y) => x - y);
  const k = scores.length;
  const at = (level: number) => Math.max(MIN_INTERVAL_SCALE, scores[Math.min(k, Math.ceil((k + 1) * level)) - 1] / normalQuantile((1 + level) / 2));
  return { scale80: at(0.8), scale95: at(0.95) };
}

/** Each level's interval distance from the mean multiplied by its scale. */
export function scaleIntervals(f: IntervalForecast, s: IntervalScale): IntervalForecast {
  const at = (bound: number[], scale: number) => bound.map((b, i) => f.mean[i] + (b - f.mean[i]) * scale);
  return { mean: [...f.mean], lower80: at(f.lower80, s.scale80), upper80: at(f.upper80, s.scale80), lower95: at(f.lower95, s.scale95), upper95: at(f.upper95, s.scale95) };
}

export interface BacktestResult {
  /** Training lengths of the judged origins. */
  origins: number[];
  /** Mean over judged origins of each one's MASE (its h-step MAE over the scale of its own training data); null if any scale is 0. */
  mase: number | null;
  /** Mean absolute error over every step of every judged origin. */
  mae: number;
  /** Share of actual values inside the calibrated 80% and 95% intervals, over every judged step. */
  coverage80: number;
  coverage95: number;
  /** Steps judged (origins × h). */
  points: number;
  /** The interval scales for a forecast made after the last origin (from the last `calibrate` origins). */
  scale: IntervalScale;
}

/**
 * Rolling-origin evaluation (Tashman 2000; FPP3 §5.10) of forecasts already made at `plan`'s
 * origins. MASE is scaled per origin by the in-sample seasonal-naive MAE of that origin's training
 * data (season `m`), as Hyndman defines it for cross-validation. Each judged origin's intervals
 * are first calibrated (intervalScale) on the `calibrate` latest origins whose h weeks had all
 * happened before it — only the past, as a forecast made then could have been — and clipped at 0:
 * what would have been published is what is judged.
 */
export function judgeBacktest(y: readonly number[], fits: readonly OriginForecast[], plan: OriginPlan, m: number): BacktestResult {
  const h = fits[0]?.actual.length ?? 0;
  let absSum = 0;
  let points = 0;
  let c80 = 0;
  let c95 = 0;
  let maseSum = 0;
  let maseDefined = true;
  const judged = fits.slice(fits.length - plan.evaluate);
  for (const o of judged) {
    const past = fits.filter((p) => p.t + h <= o.t).slice(-plan.calibrate);
    const f = clipAtZero(scaleIntervals(o.forecast, intervalScale(past)));
    const q = mase(o.actual, f.mean, maseScale(y.slice(0, o.t), m));
    if (q === null) maseDefined = false;
    else maseSum += q;
    absSum += meanAbsoluteError(o.actual, f.mean) * o.actual.length;
    points += o.actual.length;
    c80 += coveredCount(o.actual, f.lower80, f.upper80);
    c95 += coveredCount(o.actual, f.lower95, f.upper95);
  }
  const k = judged.length;
  return {
    origins: judged.map((o) => o.t),
    mase: k && maseDefined ? maseSum / k : null,
    mae: points ? absSum / points : NaN,
    coverage80: points ? c80 / points : NaN,
    coverage95: points ? c95 / points : NaN,
    points,
    scale: intervalScale(fits.slice(-plan.calibrate)),
  };
}

/** The seasonal-naive benchmark as a Forecaster (season m; m = 1 is naive). */
export const seasonalNaiveForecaster = (m: number): Forecaster => (train, h) => seasonalNaiveForecast(train, m, h);
