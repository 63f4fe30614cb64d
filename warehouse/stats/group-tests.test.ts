import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { logRank, logRankOf, LogRankWalk, proportionsTest } from './group-tests.ts';
import { DistinctTimes, observationsFrom } from './kaplan-meier.ts';
import { seededRandom } from './random.ts';

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

describe('log-rank test off sorted durations (a large city\'s areas)', () => {
  it('gives logRank\'s statistic to the bit, at once and in steps, on random groups with ties and censoring', () => {
    const rnd = seededRandom(30);
    for (let trial = 0; trial < 60; trial++) {
      const k = 2 + Math.floor(rnd() * 6);
      const groups = Array.from({ length: k }, () => {
        const n = 1 + Math.floor(rnd() * (trial % 4 === 0 ? 5 : 3000));
        const distinct = 1 + Math.floor(rnd() * (trial % 2 ? 40 : 1e6));
        const times = Array.from({ length: n }, () => Math.floor(rnd() * distinct) * 30);
        const status = times.map(() => (rnd() < 0.2 ? 0 : 1) as 0 | 1);
        return { times, status };
      });
      const want = logRank(new Map(groups.map((g, i) => [String(i), observationsFrom(g.times, g.status)])));
      const sorted = groups.map((g) => ({
        ends: Float64Array.from(g.times.filter((_, i) => g.status[i])).sort(),
        censored: Float64Array.from(g.times.filter((_, i) => !g.status[i])).sort(),
      }));
      const cursors = () => sorted.map((g) => new DistinctTimes(g.ends, g.censored));
      const cases = groups.map((g) => g.times.length);
      expect(logRankOf(cursors(), cases), `trial ${trial}`).toEqual(want);
      const walk = new LogRankWalk(cursors(), cases);
      while (!walk.done) walk.advance(13);
      expect(walk.result(), `trial ${trial} in steps`).toEqual(want);
    }
  });

  it('has no test for fewer than two groups', () => {
    expect(logRankOf([new DistinctTimes(Float64Array.of(1, 2), new Float64Array(0))], [2])).toBeNull();
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
