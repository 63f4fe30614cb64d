// forecastCounts: which method a series gets and why — the season rule, series too short to judge,
// the benchmark where the model loses (with an injected bad model, and with augurs' own ETS on a
// constructed staircase it forecasts worse than naive), and the model where it wins.
import { describe, expect, it } from 'vitest';
import { forecastCounts, seasonFor, weeksToJudge, weeksAfter } from './forecast.ts';
import { seasonalNaiveForecast, type Forecaster } from '../stats/forecast-eval.ts';

/** A steady series around 50 with a repeating wiggle (no trend, no season). */
const steady = (n: number) => Array.from({ length: n }, (_, i) => 50 + [3, -4, 6, -2, -5, 4, 1, -3][i % 8]);

describe('forecastCounts', () => {
  it('a 52-week season only with two full years before every backtest origin (118 weeks at horizon 4)', () => {
    expect(weeksToJudge(4, true)).toBe(118);
    expect(seasonFor(117, 4)).toBeNull();
    expect(seasonFor(118, 4)).toBe(52);
    expect(weeksToJudge(4, false)).toBe(27);
  });

  it('too short: no forecast under 3 weeks; the naive benchmark, unjudged, under 27 weeks, and it says so', () => {
    expect(forecastCounts([4, 5], 4)).toMatchObject({ method: 'naive', backtest: null, forecast: { mean: [] }, reason: expect.stringMatching(/^No forecast: only 2 whole weeks/) });
    const r = forecastCounts(steady(26), 4);
    expect(r.method).toBe('naive');
    expect(r.backtest).toBeNull();
    expect(r.reason).toMatch(/^Not judged: 26 weeks of history is too short .*27 needed at horizon 4/);
    expect(r.forecast.mean).toEqual(Array(4).fill(steady(26)[25]));
  });

  it('where the model does worse than the benchmark, the benchmark is published and the reason says so', () => {
    const y = steady(60);
    const worse: Forecaster = (train, h) => {
      const f = seasonalNaiveForecast(train, 1, h);
      return { ...f, mean: f.mean.map((x) => x + 20) };
    };
    const r = forecastCounts(y, 4, () => worse);
    expect(r.method).toBe('naive');
    expect(r.backtest!.mase_model!).toBeGreaterThan(r.backtest!.mase_seasonal_naive!);
    expect(r.backtest!.mase).toBe(r.backtest!.mase_seasonal_naive);
    expect(r.reason).toMatch(/^Naive \(last week's count\): ETS without a season did not beat it in 8 rolling-origin backtests of 4 weeks \(MASE \d\.\d\d against MASE \d\.\d\d\)/);
    expect(r.forecast.mean).toEqual(Array(4).fill(y[59]));
  });

  it('a model that cannot be fitted: the benchmark, saying why', () => {
    const r = forecastCounts(steady(60), 2, () => () => { throw new Error('not enough data'); });
    expect(r).toMatchObject({ method: 'naive', backtest: { mase_model: null } });
    expect(r.reason).toMatch(/ETS without a season could not be fitted \(not enough data\)/);
  });

  it('a model that beats the benchmark is published: the mean of the past beats last week on a steady series', () => {
    const mean: Forecaster = (train, h) => {
      const m = train.reduce((a, b) => a + b, 0) / train.length;
      const sd = 4;
      return { mean: Array(h).fill(m), lower80: Array(h).fill(m - 1.28 * sd), upper80: Array(h).fill(m + 1.28 * sd), lower95: Array(h).fill(m - 1.96 * sd), upper95: Array(h).fill(m + 1.96 * sd) };
    };
    const r = forecastCounts(steady(60), 4, () => mean);
    expect(r.method).toBe('ets');
    expect(r.backtest!.mase).toBe(r.backtest!.mase_model);
    expect(r.backtest!.mase_model!).toBeLessThan(r.backtest!.mase_seasonal_naive!);
    expect(r.reason).toMatch(/^ETS without a season beat naive \(last week's count\)/);
  });

  it('augurs’ own ETS loses to naive on a staircase (a new level every 6 weeks): naive is published', () => {
    const stairs = Array.from({ length: 60 }, (_, i) => 20 + ((30 * Math.floor(i / 6)) % 90));
    const r = forecastCounts(stairs, 4);
    expect(r.method).toBe('naive');
    expect(r.backtest!.mase_model!).toBeGreaterThan(r.backtest!.mase_seasonal_naive!);
    expect(r.forecast.mean).toEqual(Array(4).fill(stairs[59]));
  });

  it('with three years, MSTL with ETS runs, intervals are ordered and never negative', () => {
    const y = Array.from({ length: 156 }, (_, i) => Math.round(30 + 20 * Math.cos((2 * Math.PI * i) / 52) + [2, -3, 1, 0, -2, 3][i % 6]));
    const r = forecastCounts(y, 8);
    expect(r.season).toBe(52);
    expect(['mstl-ets', 'seasonal-naive']).toContain(r.method);
    expect(r.backtest).toMatchObject({ origins: 8, calibration_origins: 8, points: 64 });
    const f = r.forecast;
    for (let i = 0; i < 8; i++) {
      expect(f.lower95[i]).toBeGreaterThanOrEqual(0);
      expect(f.lower95[i]).toBeLessThanOrEqual(f.lower80[i]);
      expect(f.lower80[i]).toBeLessThanOrEqual(f.mean[i]);
      expect(f.mean[i]).toBeLessThanOrEqual(f.upper80[i]);
      expect(f.upper80[i]).toBeLessThanOrEqual(f.upper95[i]);
    }
  });

  it('a bad horizon is a parameter error; weeks follow Mondays', () => {
    expect(() => forecastCounts(steady(30), 9)).toThrow(/horizon "9" must be a whole number of weeks from 1 to 8/);
    expect(() => forecastCounts(steady(30), 0)).toThrow(/horizon/);
    expect(weeksAfter('2026-11-09', 1)).toBe('2026-11-16');
    expect(weeksAfter('2026-12-28', 2)).toBe('2027-01-11');
  });
});
