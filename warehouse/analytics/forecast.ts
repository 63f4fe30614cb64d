// Demand forecast (issue 12 item 4): weekly requests per service and/or area, 1–8 weeks ahead with
// 80% and 95% intervals, judged honestly. The weekly series are the trend findings' own
// (countSeries: the same window, filters, area kind, agency scope and local weeks; whole weeks
// only; each series from where its data starts). Per series the augurs model (MSTL with ETS, or
// ETS alone without a season) is backtested at rolling origins against the seasonal-naive
// benchmark; where it does not beat the benchmark's MASE the benchmark is what is published, and
// the series says so. `forecastCounts` is the same for any weekly series (the what-if calls it).
import type { Warehouse } from '../db.ts';
import { appliedFilter, type CaseFilter, type CaseScope, type CaseWindow } from '../queries/case-predicates.ts';
import type { SeriesGroup } from '../queries/series-sql.ts';
import { ParameterError } from '../errors.ts';
import { resolveSelection } from './dimensions.ts';
import { countSeries } from './findings.ts';
import { memoByData, memoKey } from './memo.ts';
import { nextTurn } from '../turns.ts';
import { median } from '../stats/distributions.ts';
import { augursForecaster } from '../stats/augurs.ts';
import {
  clipAtZero, judgeBacktest, planOrigins, rollingForecasts, scaleIntervals, seasonalNaiveForecast, seasonalNaiveForecaster,
  type BacktestResult, type Forecaster, type IntervalForecast,
} from '../stats/forecast-eval.ts';

/** Weeks in a year's season: weekly 311 demand follows the year (leaves, snow, school terms). */
export const SEASON_WEEKS = 52;
/** Judged backtest origins per series (one week apart, each forecasting the whole horizon), and the earlier origins each one's intervals are calibrated on. */
export const BACKTEST_ORIGINS = 8;
/** At least 8 calibration origins, and enough that they hold 20 forecast weeks (a 95% conformal interval needs 19). */
export const calibrationOrigins = (horizon: number) => Math.max(8, Math.ceil(20 / horizon));
/** Fewer judged (or calibration) origins than this is no judgement: the series is "too short to judge". */
export const MIN_BACKTEST_ORIGINS = 4;
/** The shortest training series a non-seasonal model is fitted to (a quarter). */
export const MIN_TRAIN_WEEKS = 13;
/** Below this many whole weeks nothing is forecast (the benchmark's interval needs two residuals). */
export const MIN_FORECAST_WEEKS = 3;
/** Horizons a caller may ask for. */
export const MAX_HORIZON = 8;
export const DEFAULT_HORIZON = 4;
/**
 * At most this many series per request, the busiest (most requests in the history) first: each
 * costs up to 25 model fits of 10–50 ms, and one request must not hold a core for minutes. The
 * answer says how many there were.
 */
export const MAX_FORECAST_SERIES = 40;
/**
 * Default history: three years. The 52-week season needs two full years before every origin, and
 * the origins (8 calibration + horizon − 1 + 8 judged) another half year.
 */
export const DEFAULT_HISTORY_WEEKS = 156;

export type ForecastMethod = 'mstl-ets' | 'ets' | 'seasonal-naive' | 'naive';

export interface ForecastPoint { week: string; mean: number; lower80: number; upper80: number; lower95: number; upper95: number }

export interface ForecastBacktest {
  /** Judged rolling origins, one week apart; the first forecast from `first_origin_weeks` weeks of history. */
  origins: number;
  first_origin_weeks: number;
  /** Earlier origins each judged origin's intervals were calibrated on. */
  calibration_origins: number;
  /** Forecast weeks judged: origins × horizon. */
  points: number;
  /** MASE of the published method (the lower of the two below); null when undefined (a series that never changed in training). */
  mase: number | null;
  /** MASE of the augurs model, whether or not it was published; null when it could not be fitted. */
  mase_model: number | null;
  /** MASE of the seasonal-naive benchmark (naive without a season). */
  mase_seasonal_naive: number | null;
  /** Shares of backtest weeks inside the published method's calibrated 80% and 95% intervals. */
  coverage80: number;
  coverage95: number;
  /** What the published forecast's 80% and 95% intervals were multiplied by (calibration on the last origins; 1 = as the method gives them). */
  interval_scale80: number;
  interval_scale95: number;
}

/** One series' forecast, without its labels and weeks. */
export interface CountsForecast {
  method: ForecastMethod;
  reason: string;
  /** Season length used (weeks), or null for none. */
  season: number | null;
  /** The forecast, clipped at 0; empty when the series is too short to forecast. */
  forecast: IntervalForecast;
  /** Null when the series is too short to backtest. */
  backtest: ForecastBacktest | null;
}

const r2 = (x: number) => Math.round(x * 100) / 100;
const r3 = (x: number | null) => (x === null ? null : Math.round(x * 1000) / 1000);
const fmt = (x: number | null) => (x === null ? 'undefined' : x.toFixed(2));
const EMPTY: IntervalForecast = { mean: [], lower80: [], upper80: [], lower95: [], upper95: [] };

/** The season a series can be judged with: 52 weeks when two full years precede every origin of its backtest, else none. */
export function seasonFor(weeks: number, horizon: number): number | null {
  return planOrigins(weeks, horizon, 2 * SEASON_WEEKS, BACKTEST_ORIGINS, MIN_BACKTEST_ORIGINS, calibrationOrigins(horizon)) ? SEASON_WEEKS : null;
}

/** Whole weeks a series needs to be judged: with a season, and without. */
export const weeksToJudge = (horizon: number, seasonal: boolean) => (seasonal ? 2 * SEASON_WEEKS : MIN_TRAIN_WEEKS) + 2 * horizon - 2 + 2 * MIN_BACKTEST_ORIGINS;

/**
 * Forecasts a weekly count series `horizon` weeks ahead (pure but for the model). With two years
 * before every backtest origin the model is MSTL (52-week season) with ETS and the benchmark
 * seasonal naive (the same week a year before); otherwise ETS without a season against naive
 * (last week's count). Both are backtested at the same origins (planOrigins: up to 8 judged, each
 * with its intervals calibrated on up to 8 earlier ones); the model is published only where its
 * MASE is lower (a tie goes to the simpler benchmark; where MASE is undefined, its mean absolute
 * error), and the intervals of whichever is published are scaled by its calibration on the last
 * origins. A series too short to judge gets the benchmark, unjudged, and says so. `model`
 * replaces augurs (tests).
 */
export function forecastCounts(y: readonly number[], horizon: number, model: (periods: readonly number[]) => Forecaster = augursForecaster): CountsForecast {
  checkHorizon(horizon);
  const n = y.length;
  const season = seasonFor(n, horizon);
  const m = season ?? 1;
  const benchName: ForecastMethod = season ? 'seasonal-naive' : 'naive';
  const benchWords = season ? 'seasonal naive (the same week a year before)' : "naive (last week's count)";
  const modelName: ForecastMethod = season ? 'mstl-ets' : 'ets';
  const modelWords = season ? 'MSTL (52-week season) with ETS' : 'ETS without a season';
  const whyNoSeason = season ? '' : ` No 52-week season: ${n} weeks of history, fewer than the ${weeksToJudge(horizon, true)} a seasonal model needs (two full years before every backtest origin at horizon ${horizon}).`;
  if (n < MIN_FORECAST_WEEKS) {
    return { method: 'naive', season: null, forecast: EMPTY, backtest: null, reason: `No forecast: only ${n} whole week${n === 1 ? '' : 's'} of history (at least ${MIN_FORECAST_WEEKS} needed).` };
  }
  const plan = planOrigins(n, horizon, season ? 2 * SEASON_WEEKS : MIN_TRAIN_WEEKS, BACKTEST_ORIGINS, MIN_BACKTEST_ORIGINS, calibrationOrigins(horizon));
  const bench = seasonalNaiveForecaster(m);
  if (!plan) {
    return {
      method: benchName, season, backtest: null, forecast: clipAtZero(seasonalNaiveForecast(y, m, horizon)),
      reason: `Not judged: ${n} weeks of history is too short to backtest a model (${weeksToJudge(horizon, false)} needed at horizon ${horizon}); the ${benchWords} forecast is shown, with normal intervals from its residuals, uncalibrated.`,
    };
  }
  const b = judgeBacktest(y, rollingForecasts(y, horizon, plan.origins, bench), plan, m);
  const fit = model(season ? [season] : []);
  let mb: BacktestResult | null = null;
  let final: IntervalForecast | null = null;
  let failure: string | null = null;
  try {
    mb = judgeBacktest(y, rollingForecasts(y, horizon, plan.origins, fit), plan, m);
    final = fit(y, horizon);
  } catch (err) {
    failure = (err as Error).message;
  }
  const modelWins = failure === null && mb !== null && final !== null && (mb.mase !== null && b.mase !== null ? mb.mase < b.mase : mb.mae < b.mae);
  const chosen = modelWins ? mb! : b;
  const judged: ForecastBacktest = {
    origins: plan.evaluate, first_origin_weeks: chosen.origins[0], calibration_origins: plan.calibrate, points: b.points,
    mase: r3(chosen.mase), mase_model: failure === null ? r3(mb?.mase ?? null) : null, mase_seasonal_naive: r3(b.mase),
    coverage80: r3(chosen.coverage80)!, coverage95: r3(chosen.coverage95)!, interval_scale80: r3(chosen.scale.scale80)!, interval_scale95: r3(chosen.scale.scale95)!,
  };
  const score = (r: BacktestResult) => (r.mase !== null && b.mase !== null ? `MASE ${fmt(r.mase)}` : `mean absolute error ${r.mae.toFixed(2)} a week`);
  const where = `in ${plan.evaluate} rolling-origin backtests of ${horizon} week${horizon === 1 ? '' : 's'}`;
  const scaled = ` Intervals calibrated on its errors at the last ${plan.calibrate} origins (80% ×${chosen.scale.scale80.toFixed(2)}, 95% ×${chosen.scale.scale95.toFixed(2)}).`;
  if (modelWins) {
    return {
      method: modelName, season, backtest: judged, forecast: clipAtZero(scaleIntervals(final!, chosen.scale)),
      reason: `${modelWords} beat ${benchWords} ${where} (${score(mb!)} against ${score(b)}).${scaled}${whyNoSeason}`,
    };
  }
  const lost = failure !== null ? `${modelWords} could not be fitted (${failure})` : `${modelWords} did not beat it ${where} (${score(mb!)} against ${score(b)})`;
  return {
    method: benchName, season, backtest: judged, forecast: clipAtZero(scaleIntervals(seasonalNaiveForecast(y, m, horizon), chosen.scale)),
    reason: `${benchWords[0].toUpperCase()}${benchWords.slice(1)}: ${lost}.${scaled}${whyNoSeason}`,
  };
}

export function checkHorizon(horizon: number): void {
  if (!Number.isInteger(horizon) || horizon < 1 || horizon > MAX_HORIZON) throw new ParameterError('horizon', `horizon "${horizon}" must be a whole number of weeks from 1 to ${MAX_HORIZON}`);
}

/** The Monday `k` weeks after a Monday (YYYY-MM-DD). */
export const weeksAfter = (week: string, k: number) => new Date(Date.parse(`${week}T00:00:00Z`) + k * 7 * 86_400_000).toISOString().slice(0, 10);

export interface ForecastOptions {
  window: CaseWindow;
  by: SeriesGroup[];
  horizon?: number;
  filter?: CaseFilter;
  area_kind?: string;
  scope?: CaseScope;
}

export interface SeriesForecast {
  service?: string;
  area?: string;
  method: ForecastMethod;
  reason: string;
  season: number | null;
  total: number;
  history: { week: string; count: number }[];
  forecast: ForecastPoint[];
  backtest: ForecastBacktest | null;
}

export interface ForecastResult {
  from: string;
  to: string;
  as_of: string;
  timezone: string;
  area_kind: string;
  filter: CaseFilter;
  by: SeriesGroup[];
  horizon: number;
  /** Series the data has for `by`; `series` holds the busiest `max_series` of them. */
  series_total: number;
  max_series: number;
  series: SeriesForecast[];
  summary: {
    series: number;
    /** Series with a backtest (the rest were too short to judge). */
    judged: number;
    /** Median over judged series of the published method's backtest MASE (series with MASE defined). */
    median_mase: number | null;
    /** Pooled over every backtest week of every judged series, for the published methods. */
    coverage80: number | null;
    coverage95: number | null;
    model_used: number;
    seasonal_naive_used: number;
    not_judged: number;
    sentence: string;
  };
}

/** The forecast for a window and grouping: memoized per data version, like every analysis. */
export async function computeForecast(wh: Warehouse, o: ForecastOptions): Promise<ForecastResult> {
  const horizon = o.horizon ?? DEFAULT_HORIZON;
  checkHorizon(horizon);
  const key = memoKey('forecast', { ...o, horizon });
  return memoByData(wh, key, () => buildForecast(wh, { ...o, horizon }), (r) => r.series.reduce((a, s) => a + s.history.length + s.forecast.length, 0) / 10);
}

async function buildForecast(wh: Warehouse, o: ForecastOptions & { horizon: number }): Promise<ForecastResult> {
  const sel = await resolveSelection(wh, o.window, { filter: o.filter, area_kind: o.area_kind, scope: o.scope });
  const all = (await countSeries(wh, o.by, 'week', sel))
    .map((s) => ({ s, total: s.counts.reduce((a, c) => a + c, 0) }))
    .sort((a, b) => b.total - a.total || JSON.stringify([a.s.service, a.s.area]).localeCompare(JSON.stringify([b.s.service, b.s.area])));
  const kept = all.slice(0, MAX_FORECAST_SERIES);
  const series: SeriesForecast[] = [];
  for (const { s, total } of kept) {
    // One series per turn of the event loop: its fits take up to half a second.
    await nextTurn();
    const f = forecastCounts(s.counts, o.horizon);
    const last = s.periods[s.periods.length - 1];
    series.push({
      ...(s.service !== undefined ? { service: s.service } : {}),
      ...(s.area !== undefined ? { area: s.area } : {}),
      method: f.method, reason: f.reason, season: f.season, total,
      history: s.periods.map((week, i) => ({ week, count: s.counts[i] })),
      forecast: f.forecast.mean.map((mean, i) => ({
        week: weeksAfter(last, i + 1), mean: r2(mean),
        lower80: r2(f.forecast.lower80[i]), upper80: r2(f.forecast.upper80[i]), lower95: r2(f.forecast.lower95[i]), upper95: r2(f.forecast.upper95[i]),
      })),
      backtest: f.backtest,
    });
  }
  const w = o.window;
  return {
    from: w.from, to: w.to, as_of: w.as_of, timezone: w.timezone, area_kind: sel.area_kind, filter: appliedFilter(sel.filter), by: [...o.by], horizon: o.horizon,
    series_total: all.length, max_series: MAX_FORECAST_SERIES, series, summary: summarize(series, all.length),
  };
}

function summarize(series: SeriesForecast[], total: number): ForecastResult['summary'] {
  const judged = series.filter((s) => s.backtest !== null);
  const mases = judged.map((s) => s.backtest!.mase).filter((x): x is number => x !== null);
  const points = judged.reduce((a, s) => a + s.backtest!.points, 0);
  const pooled = (k: 'coverage80' | 'coverage95') => (points ? r3(judged.reduce((a, s) => a + s.backtest![k] * s.backtest!.points, 0) / points) : null);
  const modelUsed = series.filter((s) => s.method === 'mstl-ets' || s.method === 'ets').length;
  const medianMase = mases.length ? r3(median(mases)) : null;
  const c80 = pooled('coverage80');
  const c95 = pooled('coverage95');
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  const shown = series.length < total ? `the ${series.length} busiest of ${total} series` : `${series.length} series`;
  const sentence = series.length === 0
    ? 'No whole week of requests in the window: nothing to forecast.'
    : judged.length === 0
    ? `None of ${shown} is long enough to backtest: the forecasts shown are the naive benchmark, not judged.`
    : `Across ${shown}, ${judged.length} backtested: median MASE ${medianMase === null ? 'undefined' : medianMase.toFixed(2)} (below 1 beats the in-sample seasonal-naive error), ` +
      `80% intervals covered ${pct(c80!)} and 95% intervals ${pct(c95!)} of ${points} backtest weeks; the model is used for ${modelUsed}, the benchmark for ${series.length - modelUsed}.`;
  return {
    series: series.length, judged: judged.length, median_mase: medianMase, coverage80: c80, coverage95: c95,
    model_used: modelUsed, seasonal_naive_used: series.length - modelUsed, not_judged: series.length - judged.length, sentence,
  };
}

/** The forecast as one flat table (CSV): every series' history and forecast weeks. */
export const FORECAST_CSV_COLUMNS = ['service', 'area', 'week', 'kind', 'count', 'mean', 'lower80', 'upper80', 'lower95', 'upper95', 'method', 'backtest_mase', 'backtest_coverage95'] as const;

export function forecastRows(r: ForecastResult): Record<string, unknown>[] {
  return r.series.flatMap((s) => {
    const labels = { service: s.service ?? null, area: s.area ?? null, method: s.method, backtest_mase: s.backtest?.mase ?? null, backtest_coverage95: s.backtest?.coverage95 ?? null };
    return [
      ...s.history.map((h) => ({ ...labels, week: h.week, kind: 'history', count: h.count })),
      ...s.forecast.map((f) => ({ ...labels, week: f.week, kind: 'forecast', count: null, mean: f.mean, lower80: f.lower80, upper80: f.upper80, lower95: f.lower95, upper95: f.upper95 })),
    ];
  });
}
