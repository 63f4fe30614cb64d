import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { mannKendall, seasonalMannKendall, type MannKendallResult } from './mann-kendall.ts';

const known = JSON.parse(readFileSync(new URL('../../test/fixtures/known_answers.json', import.meta.url), 'utf8'));

interface PmkTest { trend: string; h: boolean; p: number; z: number; Tau: number; s: number; var_s: number }
interface PmkSlope { slope: number; intercept: number }

// The references are float64 printouts of pyMannKendall. Agreement is asked to 1e-14 relative
// rather than to the last bit because p is formed differently: pyMannKendall computes
// 2·(1 − Φ(|z|)), we compute erfc(|z|/√2), which differs by ~1e-15.
function expectRel(actual: number, expected: number, rel = 1e-14): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.abs(expected));
}

function expectMatches(result: MannKendallResult, test: PmkTest, slope: PmkSlope): void {
  expect(result.s).toBe(test.s);
  expectRel(result.var_s, test.var_s);
  expectRel(result.z, test.z);
  expectRel(result.p, test.p);
  expectRel(result.tau, test.Tau);
  expect(result.h).toBe(test.h);
  expect(result.trend).toBe(test.trend);
  expectRel(result.slope, slope.slope);
  expectRel(result.intercept, slope.intercept);
}

describe('Mann–Kendall against pyMannKendall (mk_pymannkendall_rainfall)', () => {
  const ref = known.mk_pymannkendall_rainfall;
  const x: (number | null)[] = ref.input;

  it('the fixture is the 360-month Bogra series with 7 missing', () => {
    expect(x).toHaveLength(360);
    expect(x.filter((v) => v === null)).toHaveLength(7);
  });

  it('original_test and sens_slope: S, Var(S), z, p, Tau, h, trend, slope, intercept', () => {
    const r = mannKendall(x);
    expect(r.n).toBe(353);
    expectMatches(r, ref.original_test, ref.sens_slope);
  });

  it('seasonal_test and seasonal_sens_slope with period 12', () => {
    const r = seasonalMannKendall(x, 12);
    expect(r.period).toBe(12);
    expectMatches(r, ref.seasonal_test_period12, ref.seasonal_sens_slope_period12);
  });
});

describe('Mann–Kendall by hand', () => {
  it('a strictly increasing series', () => {
    const r = mannKendall([1, 2, 3, 4, 5]);
    expect(r.s).toBe(10);
    expect(r.var_s).toBeCloseTo(300 / 18, 12); // n(n−1)(2n+5)/18
    expect(r.z).toBeCloseTo(9 / Math.sqrt(300 / 18), 12);
    expect(r.tau).toBe(1);
    expect(r.slope).toBe(1);
    expect(r.intercept).toBe(1); // median 3 − median t 2 × 1
    expect(r.trend).toBe('increasing');
  });

  it('ties shrink Var(S): [1, 1, 2] has one tie group of 2', () => {
    const r = mannKendall([1, 1, 2]);
    expect(r.s).toBe(2);
    expect(r.var_s).toBeCloseTo((3 * 2 * 11 - 2 * 1 * 9) / 18, 12);
  });

  it('a gap keeps the original time index for the slope', () => {
    const r = mannKendall([1, null, 3]);
    expect(r.n).toBe(2);
    expect(r.slope).toBe(1); // (3 − 1)/(2 − 0), not (3 − 1)/1
    expect(r.intercept).toBe(1); // median(1, 3) − median(0, 2) × 1
  });

  it('no trend in a constant series', () => {
    const r = mannKendall([4, 4, 4, 4]);
    expect(r.s).toBe(0);
    expect(r.z).toBe(0);
    expect(r.p).toBe(1);
    expect(r.trend).toBe('no trend');
  });

  it('seasonal slope is per full cycle: weekly pattern plus 7 per week', () => {
    const pattern = [50, 60, 55, 52, 48, 20, 10];
    const x = Array.from({ length: 28 }, (_, t) => pattern[t % 7] + 7 * Math.floor(t / 7));
    const r = seasonalMannKendall(x, 7);
    expect(r.s).toBe(7 * 6); // 4 cycles per season, all rising: C(4,2) = 6 pairs each
    expect(r.tau).toBe(1);
    expect(r.slope).toBe(7);
  });
});
