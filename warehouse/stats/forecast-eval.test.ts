// The forecast judges against hand computations: the seasonal-naive benchmark and its normal
// intervals (FPP3 table 5.2), MASE (Hyndman & Koehler), coverage, the rolling origins, the
// conformal interval calibration and a whole backtest on a series whose every error is known.
import { describe, expect, it } from 'vitest';
import {
  clipAtZero, coveredCount, intervalScale, judgeBacktest, mase, maseScale, planOrigins, rollingForecasts, scaleIntervals,
  seasonalNaive, seasonalNaiveForecast, seasonalNaiveForecaster, type IntervalForecast,
} from './forecast-eval.ts';

const Z80 = 1.2815515655446004;
const Z95 = 1.959963984540054;

describe('seasonal naive', () => {
  it('repeats the value one season earlier, wrapping past a season; m = 1 is the last value', () => {
    expect(seasonalNaive([1, 2, 3, 4, 5, 6], 3, 4)).toEqual([4, 5, 6, 4]);
    expect(seasonalNaive([1, 5, 2, 6, 3, 7], 2, 3)).toEqual([3, 7, 3]);
    expect(seasonalNaive([4, 9], 1, 2)).toEqual([9, 9]);
    expect(() => seasonalNaive([1, 2], 3, 1)).toThrow(/at least 3/);
  });

  it('naive intervals: σ = RMS of the residuals (2, −1, 2 → √3), widening with √h', () => {
    const f = seasonalNaiveForecast([10, 12, 11, 13], 1, 2);
    const s = Math.sqrt(3);
    expect(f.mean).toEqual([13, 13]);
    expect(f.lower80[0]).toBeCloseTo(13 - Z80 * s, 12);
    expect(f.upper95[1]).toBeCloseTo(13 + Z95 * s * Math.SQRT2, 12);
  });

  it('seasonal intervals widen once per season: residuals all 1 → sd 1, 1, √2 at h = 1, 2, 3 with m = 2', () => {
    const f = seasonalNaiveForecast([1, 5, 2, 6, 3, 7], 2, 3);
    expect(f.mean).toEqual([3, 7, 3]);
    expect(f.upper95.map((u, i) => (u - f.mean[i]) / Z95)).toEqual([1, 1, Math.SQRT2].map((x) => expect.closeTo(x, 12)));
  });

  it('clipping at zero raises the mean and both bounds, never lowers anything', () => {
    const f: IntervalForecast = { mean: [-1, 3], lower80: [-3, 1], upper80: [1, 5], lower95: [-4, -0.5], upper95: [-0.1, 6] };
    expect(clipAtZero(f)).toEqual({ mean: [0, 3], lower80: [0, 1], upper80: [1, 5], lower95: [0, 0], upper95: [0, 6] });
  });
});

describe('MASE and coverage', () => {
  it('the scale is the in-sample MAE of the one-season-ago forecast', () => {
    expect(maseScale([1, 3, 2, 5], 1)).toBe(2); // |2|, |−1|, |3|
    expect(maseScale([1, 3, 2, 5], 2)).toBe(1.5); // |1|, |2|
    expect(maseScale([7], 1)).toBeNaN();
  });

  it('MASE = MAE ÷ scale; undefined (null) when the series never changed', () => {
    expect(mase([4, 6], [5, 5], 2)).toBe(0.5);
    expect(mase([4, 6], [5, 5], 0)).toBeNull();
  });

  it('coverage counts values inside the interval, ends included', () => {
    expect(coveredCount([1, 2, 3, 4], [1, 0, 3.5, 0], [2, 1, 5, 4])).toBe(2);
  });
});

describe('rolling origins', () => {
  it('8 calibration + h − 1 + 8 judged origins, the last forecasting the final h values', () => {
    // n = 40, h = 4, at least 13 to fit: 24 possible origins; 8 + 3 + 8 = 19 used, training lengths 18…36.
    expect(planOrigins(40, 4, 13)).toEqual({ origins: Array.from({ length: 19 }, (_, i) => 18 + i), evaluate: 8, calibrate: 8 });
  });

  it('a short series gives up calibration origins first, then judged ones, never below 4 of either', () => {
    // 14 possible: 8 judged leave 3 to calibrate; 7 judged leave 4.
    expect(planOrigins(30, 4, 13)).toMatchObject({ evaluate: 7, calibrate: 4, origins: Array.from({ length: 14 }, (_, i) => 13 + i) });
    expect(planOrigins(28, 4, 13)).toMatchObject({ evaluate: 5, calibrate: 4 });
    expect(planOrigins(26, 4, 13)).toBeNull();
  });
});

describe('interval calibration (split conformal, normalised scores)', () => {
  it('19 scores 0.1…1.9: the 95% half-width is the 19th (largest) score, the 80% the 16th, as factors on the method’s own', () => {
    const h = 19;
    const sd = 2;
    const forecast: IntervalForecast = {
      mean: Array(h).fill(10), lower80: Array(h).fill(10 - Z80 * sd), upper80: Array(h).fill(10 + Z80 * sd),
      lower95: Array(h).fill(10 - Z95 * sd), upper95: Array(h).fill(10 + Z95 * sd),
    };
    const actual = Array.from({ length: h }, (_, i) => 10 + (i % 2 ? -1 : 1) * sd * 0.1 * (i + 1));
    const s = intervalScale([{ t: 50, actual, forecast }]);
    expect(s.scale95).toBeCloseTo(1.9 / Z95, 12);
    expect(s.scale80).toBeCloseTo(1.6 / Z80, 12);
    const scaled = scaleIntervals(forecast, s);
    expect(scaled.upper95[0] - 10).toBeCloseTo(1.9 * sd, 12);
    expect(scaled.lower80[0] - 10).toBeCloseTo(-1.6 * sd, 12);
  });

  it('never narrower than half the method’s own interval; nothing to judge by leaves it as it is', () => {
    const f: IntervalForecast = { mean: [5], lower80: [4], upper80: [6], lower95: [3], upper95: [7] };
    expect(intervalScale([{ t: 9, actual: [5], forecast: f }])).toEqual({ scale80: 0.5, scale95: 0.5 });
    expect(intervalScale([])).toEqual({ scale80: 1, scale95: 1 });
  });
});

describe('a whole backtest, by hand: naive on the straight line y = t', () => {
  it('errors 1 and 2 at every origin: MASE (1 + 2)/2 ÷ 1 = 1.5; calibrated intervals just cover them', () => {
    const y = Array.from({ length: 40 }, (_, t) => t);
    const plan = planOrigins(40, 2, 13)!;
    expect(plan).toMatchObject({ evaluate: 8, calibrate: 8 });
    const fits = rollingForecasts(y, 2, plan.origins, seasonalNaiveForecaster(1));
    const r = judgeBacktest(y, fits, plan, 1);
    // Residuals all 1, so sd √1, √2 at h = 1, 2; errors 1, 2 → scores 1, √2; 16 scores, the 95%
    // and 80% quantiles (17th → the largest, 14th) are both √2: half-widths √2 and 2 cover 1 and 2.
    expect(r.origins).toEqual([31, 32, 33, 34, 35, 36, 37, 38]);
    expect(r.mase).toBe(1.5);
    expect(r.mae).toBe(1.5);
    expect(r.points).toBe(16);
    expect(r.coverage80).toBe(1);
    expect(r.coverage95).toBe(1);
    expect(r.scale.scale95).toBeCloseTo(Math.SQRT2 / Z95, 12);
    expect(r.scale.scale80).toBeCloseTo(Math.SQRT2 / Z80, 12);
  });
});
