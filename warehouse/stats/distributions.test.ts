import { describe, expect, it } from 'vitest';
import {
  erfc,
  mad,
  median,
  negBinomialCdf,
  negBinomialQuantile,
  normalCdf,
  normalQuantile,
  normalSf,
  poissonCdf,
  poissonQuantile,
  studentTCdf,
  studentTQuantile,
  studentTSf,
  twoSidedP,
} from './distributions.ts';

// Reference values were computed independently with mpmath at 50 digits (and agree with SciPy
// and R to the digits those print); the count quantiles are R's qpois/qnbinom (mu, size).
function expectRel(actual: number, expected: number, rel: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.abs(expected));
}

describe('normal distribution to full precision', () => {
  it('Φ(1.96) and Φ(−1.96)', () => {
    expectRel(normalCdf(1.96), 0.9750021048517795, 1e-15);
    expectRel(normalCdf(-1.96), 0.024997895148220436, 1e-14);
  });

  it('far upper tails stay positive and accurate instead of 1 − Φ underflowing to 0', () => {
    expectRel(normalSf(8), 6.2209605742717841e-16, 1e-13);
    expectRel(normalSf(20), 2.7536241186062337e-89, 1e-12);
    expectRel(normalSf(37), 5.7255712225245768e-300, 1e-11);
    expect(normalSf(40)).toBe(0); // below the smallest double: genuinely 0
  });

  it('erfc on both sides of every approximation interval', () => {
    expectRel(erfc(0.3), 0.67137324054087258, 1e-15);
    expectRel(erfc(1), 0.15729920705028513, 1e-15);
    expectRel(erfc(3), 2.2090496998585441e-5, 1e-15);
    expectRel(erfc(10), 2.0884875837625448e-45, 1e-14);
    expectRel(erfc(-1), 1.8427007929497149, 1e-15);
    expect(erfc(0)).toBe(1);
  });

  it('two-sided p is 2·(1 − Φ(|z|)) and symmetric', () => {
    expectRel(twoSidedP(1.96), 2 * 0.024997895148220436, 1e-14);
    expect(twoSidedP(-1.96)).toBe(twoSidedP(1.96));
    expect(twoSidedP(0)).toBe(1);
    expectRel(twoSidedP(8), 2 * 6.2209605742717841e-16, 1e-13);
  });

  it('normal quantile (AS 241)', () => {
    expectRel(normalQuantile(0.975), 1.9599639845400542, 1e-15);
    expectRel(normalQuantile(0.3), -0.52440051270804078, 1e-15);
    expectRel(normalQuantile(1e-10), -6.3613409024040562, 1e-15);
    expect(normalQuantile(0.5)).toBe(0);
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(1)).toBe(Infinity);
    expect(normalQuantile(1.5)).toBeNaN();
  });

  it('quantile inverts the CDF', () => {
    for (const p of [1e-12, 0.001, 0.2, 0.5, 0.8, 0.999]) expectRel(normalCdf(normalQuantile(p)), p, 1e-13);
  });
});

describe('Student t', () => {
  it('t quantile p = 0.975, df = 10', () => {
    // The exact value is 2.2281388519862747; R's qt prints 2.2281388519649385 (its own 1e-11 error).
    expectRel(studentTQuantile(0.975, 10), 2.2281388519862747, 1e-13);
    expect(studentTQuantile(0.975, 10)).toBeCloseTo(2.2281388519649385, 10);
  });

  it('heavy tails, fractional df and the GESD case', () => {
    expectRel(studentTQuantile(0.995, 1), 63.656741162871581, 1e-12);
    expectRel(studentTQuantile(0.95, 2.5), 2.5582186141359366, 1e-12);
    expectRel(studentTQuantile(1 - 0.05 / (2 * 54), 52), 3.5130863811669501, 1e-12);
    expectRel(studentTQuantile(0.025, 10), -2.2281388519862747, 1e-13);
  });

  it('t CDF and upper tail', () => {
    expectRel(studentTSf(2, 5), 0.050969739414929178, 1e-13);
    expectRel(studentTCdf(2, 5), 0.94903026058507082, 1e-14);
    expectRel(studentTSf(40, 3), 1.7190340394579264e-5, 1e-12);
    expect(studentTCdf(0, 7)).toBe(0.5);
  });
});

describe('median and MAD', () => {
  it('median of odd and even lengths, ignoring non-finite values', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([5, NaN, 1])).toBe(3);
    expect(median([])).toBeNaN();
  });

  it('MAD is scaled by 1.4826 unless asked not to be', () => {
    // |x − 3| = 2, 1, 0, 1, 97 → median 1
    expect(mad([1, 2, 3, 4, 100], { scaled: false })).toBe(1);
    expect(mad([1, 2, 3, 4, 100])).toBeCloseTo(1.4826, 12);
  });
});

describe('count quantiles for anomaly limits', () => {
  it('Poisson quantiles (R qpois)', () => {
    expect([0.5, 0.95, 0.99, 0.999].map((p) => poissonQuantile(p, 10))).toEqual([10, 15, 18, 21]);
    expect(poissonQuantile(0.99, 0.5)).toBe(3);
    expect(poissonQuantile(0.99, 1000)).toBe(1074);
    expect(poissonQuantile(0.99, 0)).toBe(0);
  });

  it('Poisson CDF', () => {
    expectRel(poissonCdf(18, 10), 0.9928134953961456, 1e-13);
    expectRel(poissonCdf(17, 10), 0.9857223864029503, 1e-13);
  });

  it('a p landing exactly on the CDF gives that k (left-continuous quantile)', () => {
    expect(poissonQuantile(poissonCdf(17, 10), 10)).toBe(17);
    // A p a few ulps above F(17) (rounded elsewhere, e.g. 1 − α) still gives 17, as R's fuzz does.
    expect(poissonQuantile(poissonCdf(17, 10) * (1 + 8 * Number.EPSILON), 10)).toBe(17);
    expect(negBinomialQuantile(negBinomialCdf(30, 10, 2), 10, 2)).toBe(30);
  });

  it('negative-binomial quantiles (R qnbinom with mu and size)', () => {
    expect([0.5, 0.95, 0.99].map((p) => negBinomialQuantile(p, 10, 2))).toEqual([8, 25, 35]);
    expect(negBinomialQuantile(0.99, 100, 50)).toBe(144);
    // Infinite size is the Poisson limit.
    expect(negBinomialQuantile(0.99, 10, Infinity)).toBe(18);
  });
});
