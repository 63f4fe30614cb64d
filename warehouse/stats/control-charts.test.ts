import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { cusum, ewma, generalizedEsd, robustBaseline } from './control-charts.ts';

const known = JSON.parse(readFileSync(new URL('../../test/fixtures/known_answers.json', import.meta.url), 'utf8'));

/** The reference was rounded to `decimals`: ours must lie within half a unit of its last digit. */
function expectRounded(actual: number, printed: number, decimals: number): void {
  expect(Math.abs(actual - printed)).toBeLessThanOrEqual(0.5 * 10 ** -decimals + 1e-9);
}

/**
 * The reference was truncated (not rounded) to `decimals`, as the handbook's Dataplot output is:
 * e.g. the first ESD statistic is 3.11891 and prints as 3.118. Ours must lie in [printed, printed + 1 unit).
 */
function expectTruncated(actual: number, printed: number, decimals: number): void {
  expect(actual).toBeGreaterThanOrEqual(printed - 1e-12);
  expect(actual).toBeLessThan(printed + 10 ** -decimals);
}

describe('EWMA against the NIST e-Handbook 6.3.2.4 (ewma_nist)', () => {
  const ref = known.ewma_nist;
  const chart = ewma(ref.x, { lambda: ref.lambda, target: ref.target, sigma: ref.s, L: ref.L });

  it('every EWMA value to the 2 decimals printed', () => {
    expect(chart.points).toHaveLength(ref.ewma.length);
    chart.points.forEach((p, i) => expectRounded(p.z, ref.ewma[i], 2));
  });

  it('the handbook uses the asymptotic (constant) limits: UCL 52.5884, LCL 47.4115 (truncated)', () => {
    expectTruncated(chart.ucl, ref.UCL, 4);
    expectTruncated(chart.lcl, ref.LCL, 4);
    for (const p of chart.points) {
      expect(p.ucl).toBe(chart.ucl);
      expect(p.lcl).toBe(chart.lcl);
    }
  });

  it('the process is in control throughout, as the handbook concludes', () => {
    expect(chart.points.every((p) => p.signal === null)).toBe(true);
    expect(chart.firstSignalIndex).toBeNull();
  });

  it('exact limits start narrower and approach the asymptotic ones', () => {
    const exact = ewma(ref.x, { lambda: ref.lambda, target: ref.target, sigma: ref.s, L: ref.L, limits: 'exact' });
    const width = chart.ucl - ref.target;
    expect(exact.points[0].ucl - ref.target).toBeCloseTo(width * Math.sqrt(1 - 0.7 ** 2), 12);
    expect(exact.points[19].ucl - ref.target).toBeCloseTo(width * Math.sqrt(1 - 0.7 ** 40), 12);
  });

  it('flags a sustained upward shift', () => {
    const shifted = [50, 50, 50, 54, 54, 54, 54];
    const r = ewma(shifted, { lambda: 0.3, target: 50, sigma: 2, L: 3 });
    // z from index 3 on: 51.2, 52.04, 52.63; UCL = 50 + 6·√(0.3/1.7) = 52.52.
    expect(r.firstSignalIndex).toBe(5);
    expect(r.points[4].signal).toBeNull();
    expect(r.points[5].signal).toBe('high');
  });
});

describe('tabular CUSUM against the NIST e-Handbook 6.3.2.3 (cusum_nist)', () => {
  const ref = known.cusum_nist;
  const chart = cusum(ref.x, { target: ref.target, k: ref.k, h: ref.h });

  it('S_hi and S_lo at every point to the 2 decimals printed', () => {
    expect(chart.points).toHaveLength(ref.x.length);
    chart.points.forEach((p, i) => {
      expectRounded(p.sHi, ref.S_hi[i], 2);
      expectRounded(p.sLo, ref.S_lo[i], 2);
    });
  });

  it(`first signal at group ${ref.first_signal_index_1based}, upward, and it persists`, () => {
    expect(chart.firstSignalIndex).toBe(ref.first_signal_index_1based - 1);
    chart.points.forEach((p, i) => {
      expect(p.signal).toBe(ref.S_hi[i] > ref.h ? 'high' : null);
    });
  });
});

describe('generalized ESD against the NIST e-Handbook 1.3.5.17.3 (gesd_nist_rosner)', () => {
  const ref = known.gesd_nist_rosner;
  // Rosner (1983), Technometrics 25(2), the 54 observations tabulated on the handbook page
  // (https://www.itl.nist.gov/div898/handbook/eda/section3/eda35h3.htm); the fixture holds only
  // the outputs, so the input is restated here.
  const rosner = [
    -0.25, 0.68, 0.94, 1.15, 1.2, 1.26, 1.26, 1.34, 1.38, 1.43, 1.49, 1.49, 1.55, 1.56, 1.58, 1.65, 1.69, 1.7, 1.76,
    1.77, 1.81, 1.91, 1.94, 1.96, 1.99, 2.06, 2.09, 2.1, 2.14, 2.15, 2.23, 2.24, 2.26, 2.35, 2.37, 2.4, 2.47, 2.54,
    2.62, 2.64, 2.9, 2.92, 2.92, 2.93, 3.21, 3.26, 3.3, 3.59, 3.68, 4.3, 4.64, 5.34, 5.42, 6.01,
  ];
  const result = generalizedEsd(rosner, { maxOutliers: ref.r, alpha: ref.alpha });

  it('R_i and λ_i for all ten steps, to the 3 decimals printed', () => {
    expect(rosner).toHaveLength(54);
    expect(result.steps).toHaveLength(ref.r);
    result.steps.forEach((s, k) => {
      expect(s.i).toBe(k + 1);
      expectTruncated(s.r, ref.R[k], 3);
      expectTruncated(s.lambda, ref.lambda[k], 3);
    });
  });

  it(`finds ${ref.n_outliers} outliers although R_1 and R_2 alone would not reject (masking)`, () => {
    expect(result.nOutliers).toBe(ref.n_outliers);
    expect(result.steps[0].r).toBeLessThan(result.steps[0].lambda);
    expect(result.outlierIndices.map((i) => rosner[i])).toEqual([6.01, 5.42, 5.34]);
  });

  it('caps the number of steps so the t quantile keeps a degree of freedom', () => {
    expect(generalizedEsd([1, 2, 3, 50], { maxOutliers: 10 }).steps).toHaveLength(2);
  });
});

describe('same-weekday robust baseline', () => {
  it('median and MAD·1.4826 per weekday, unmoved by one spike', () => {
    const counts = [10, 3, 12, 3, 11, 3, 100, 13];
    const weekdays = [1, 0, 1, 0, 1, 0, 1, 1];
    const b = robustBaseline(counts, weekdays);
    expect([...b.keys()]).toEqual([0, 1]);
    // Mondays 10, 12, 11, 100, 13: median 12, |deviations| 2, 0, 1, 88, 1 → MAD 1.
    expect(b.get(1)).toEqual({ weekday: 1, n: 5, median: 12, mad: 1.4826 });
    expect(b.get(0)).toEqual({ weekday: 0, n: 3, median: 3, mad: 0 });
  });

  it('rejects counts and weekdays of different lengths', () => {
    expect(() => robustBaseline([1, 2], [0])).toThrow(RangeError);
  });
});
