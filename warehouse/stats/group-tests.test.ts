import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { logRank, proportionsTest } from './group-tests.ts';
import { observationsFrom } from './kaplan-meier.ts';

const known = JSON.parse(readFileSync(new URL('../../test/fixtures/known_answers.json', import.meta.url), 'utf8'));

describe('log-rank test', () => {
  it('reproduces R survdiff on the aml data: Chisq = 3.4 on 1 df, p = 0.07', () => {
    const arms = known.km_aml_R_survival;
    const groups = new Map(['Maintained', 'Nonmaintained'].map((g) => [g, observationsFrom(arms[g].time, arms[g].status)]));
    const r = logRank(groups)!;
    expect(r.df).toBe(1);
    expect(r.statistic).toBeCloseTo(3.4, 1);
    expect(r.p).toBeCloseTo(0.07, 2);
  });

  it('is symmetric in the order of the groups, and finds nothing between identical groups', () => {
    const a = observationsFrom([1, 2, 3, 4, 5, 6], [1, 1, 0, 1, 1, 1]);
    const b = observationsFrom([10, 20, 30, 40, 50, 60], [1, 1, 1, 1, 0, 1]);
    const c = observationsFrom([3, 5, 7, 9, 11, 13], [1, 1, 1, 1, 1, 0]);
    const one = logRank(new Map([['a', a], ['b', b], ['c', c]]))!;
    const two = logRank(new Map([['c', c], ['a', a], ['b', b]]))!;
    expect(one.df).toBe(2);
    expect(one.statistic).toBeCloseTo(two.statistic, 10);
    expect(one.p).toBeLessThan(0.05);
    const same = logRank(new Map([['x', a], ['y', a], ['z', a]]))!;
    expect(same.statistic).toBeCloseTo(0, 12);
    expect(same.p).toBeCloseTo(1, 12);
  });
});

describe('χ² test of proportions', () => {
  it('matches a hand computation', () => {
    // 30/100 vs 50/100: pooled 0.4; χ² = Σ (x − n·p)² / (n·p·(1−p)) = 2·100/24 = 8.333…, p = 0.00389
    const r = proportionsTest([{ successes: 30, trials: 100 }, { successes: 50, trials: 100 }])!;
    expect(r.statistic).toBeCloseTo(8.3333333, 6);
    expect(r.p).toBeCloseTo(0.003892417, 8);
  });
});
