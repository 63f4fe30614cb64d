import { describe, expect, it } from 'vitest';
import { DurationSort, GroupDurationsSort, GroupScatter, sortDurations, TaggedRunsSort } from './sort-durations.ts';
import { seededRandom } from './random.ts';

/** The built-in sort's answer, compared value by value (Object.is: -0 and NaN too). */
function expectSortedAsBuiltin(input: Float64Array, sorted: Float64Array) {
  const want = Float64Array.from(input).sort();
  expect(sorted.length).toBe(want.length);
  let same = true;
  for (let i = 0; i < want.length && same; i++) same = Object.is(sorted[i], want[i]);
  expect(same).toBe(true);
}

/** Sorted by DurationSort in steps of 997 values' work. */
function inSteps(input: Float64Array): Float64Array {
  const s = new DurationSort(Float64Array.from(input));
  while (!s.done) s.advance(997);
  return s.sorted;
}

describe('sortDurations', () => {
  const rand = seededRandom(20261129);
  const cases: [string, () => number][] = [
    // Whole seconds over a year (most 311 exports), microseconds, a narrow band sharing high words.
    ['whole seconds', () => Math.floor(rand() * 3.2e7)],
    ['microseconds', () => Math.floor(rand() * 3.2e13) / 1e6],
    ['one hour ± 1 s', () => 3600 + Math.floor(rand() * 2e6) / 1e6],
    ['ties', () => Math.floor(rand() * 50) * 60],
    ['zeros and tiny values', () => (rand() < 0.3 ? 0 : rand() * 1e-300)],
    ['decades', () => rand() * 3e9],
  ];
  for (const [name, draw] of cases) {
    for (const n of [0, 1, 511, 512, 5_000, 300_000]) {
      it(`sorts ${n} values (${name}) exactly as the built-in sort, at once and in steps`, () => {
        const input = Float64Array.from({ length: n }, draw);
        const once = sortDurations(Float64Array.from(input));
        expectSortedAsBuiltin(input, once);
        // In steps of 997 values' work, the same; the input array itself is sorted.
        const copy = Float64Array.from(input);
        const s = new DurationSort(copy);
        let steps = 0;
        while (!s.done) {
          expect(s.advance(997)).toBeLessThanOrEqual(997);
          steps++;
        }
        expect(s.sorted).toBe(copy);
        expectSortedAsBuiltin(input, copy);
        if (n >= 5_000) expect(steps).toBeGreaterThan(n / 997);
      });
    }
  }

  it('sorts long runs of values sharing a high word (the built-in sort for those runs)', () => {
    // 100,000 distinct values within a millionth of each other: one run.
    const input = Float64Array.from({ length: 100_000 }, (_, i) => 1e6 + ((i * 7919) % 100_000) * 1e-7);
    expectSortedAsBuiltin(input, sortDurations(Float64Array.from(input)));
    expectSortedAsBuiltin(input, inSteps(input));
  });

  it('sorts a pile of equal durations and input already in order (runs left as they are)', () => {
    const zeros = Float64Array.from({ length: 200_000 }, (_, i) => (i % 3 === 0 ? 0 : (i % 1000) * 60));
    expectSortedAsBuiltin(zeros, sortDurations(Float64Array.from(zeros)));
    expectSortedAsBuiltin(zeros, inSteps(zeros));
    const inOrder = Float64Array.from({ length: 50_000 }, (_, i) => 3600 + i * 1e-7);
    expectSortedAsBuiltin(inOrder, sortDurations(Float64Array.from(inOrder)));
  });

  it('leaves negative values, -0, ∞ and NaN to the built-in sort, with its answer', () => {
    for (const odd of [-1, -0, Number.POSITIVE_INFINITY, Number.NaN, Number.NEGATIVE_INFINITY]) {
      const input = Float64Array.from({ length: 2_000 }, (_, i) => (i === 1_234 ? odd : (i * 37) % 1000));
      expectSortedAsBuiltin(input, sortDurations(Float64Array.from(input)));
      expectSortedAsBuiltin(input, inSteps(input));
    }
  });

  it('refuses to hand out a result before it is done', () => {
    const s = new DurationSort(Float64Array.from({ length: 10_000 }, (_, i) => 10_000 - i));
    s.advance(10);
    expect(() => s.sorted).toThrow(/not done/);
  });

  it('sorts a group\'s two lists, one after the other, in steps', () => {
    const rand = seededRandom(7);
    const ends = Float64Array.from({ length: 20_000 }, () => Math.floor(rand() * 1e6));
    const censored = Float64Array.from({ length: 3_000 }, () => Math.floor(rand() * 1e6));
    const g = { ends: Float64Array.from(ends), censored: Float64Array.from(censored) };
    const s = new GroupDurationsSort(g);
    let work = 0;
    while (!s.done) work += s.advance(997);
    expect(work).toBeGreaterThanOrEqual(ends.length + censored.length);
    expectSortedAsBuiltin(ends, g.ends);
    expectSortedAsBuiltin(censored, g.censored);
  });
});

describe('TaggedRunsSort and GroupScatter (a group pooled from parts)', () => {
  it('sorts runs together as the built-in sort, each value tagged with its run, stably, and deals any union of runs out in order, in steps', () => {
    const rnd = seededRandom(113018);
    for (let g = 0; g < 200; g++) {
      // One run to hundreds, some empty, ties within and across runs, in no order; some long
      // runs of values sharing a high word out of order (g % 7), with ties (g % 14), some values only the built-in
      // sort orders (g % 11: negative, -0, ∞, NaN).
      const count = g % 9 === 0 ? 1 : 1 + Math.floor(rnd() * (g % 3 ? 10 : 300));
      const distinct = 1 + Math.floor(rnd() * (g % 2 ? 6 : 1_000_000));
      const odd = [-1, -0, 0, Number.POSITIVE_INFINITY, Number.NaN, 3.5];
      const value = () => (g % 11 === 0 && rnd() < 0.1 ? odd[Math.floor(rnd() * odd.length)] : g % 14 === 0 ? 1e9 + Math.floor(rnd() * 4) * 1e-4 : g % 7 === 0 ? 1e9 + rnd() * 1e-3 : Math.floor(rnd() ** 2 * distinct) * 0.25);
      const runs = Array.from({ length: count }, () => Float64Array.from({ length: rnd() < 0.15 ? 0 : Math.floor(rnd() * 200) }, value));
      const sort = new TaggedRunsSort(runs);
      try {
        if (!sort.done) expect(() => sort.values).toThrow(/not done/);
        const budget = 1 + (g % 50) * 7;
        while (!sort.done) sort.advance(budget);
        expectSortedAsBuiltin(Float64Array.from(runs.flatMap((r) => [...r])), sort.values);
        // Each run's values, picked out by their tags, are that run sorted; equal values keep
        // their runs' order (the tags of a tie never go down).
        const byRun = runs.map(() => [] as number[]);
        sort.tags.forEach((k, i) => byRun[k].push(sort.values[i]));
        runs.forEach((r, k) => expectSortedAsBuiltin(r, Float64Array.from(byRun[k])));
        let unstableAt = -1;
        for (let i = 1; i < sort.values.length && unstableAt < 0; i++) {
          if (Object.is(sort.values[i], sort.values[i - 1]) && sort.tags[i] < sort.tags[i - 1]) unstableAt = i;
        }
        expect(unstableAt, `case ${g}: a tie's tags go down`).toBe(-1);
        // Runs dealt to a few groups: each group's values are its runs' together, sorted, filling
        // the group's array exactly (it starts as a marker: a value not written would show).
        const groups = 1 + Math.floor(rnd() * 4);
        const groupOf = Int32Array.from(runs, () => Math.floor(rnd() * groups));
        const sizes = new Array<number>(groups).fill(0);
        runs.forEach((r, k) => (sizes[groupOf[k]] += r.length));
        const outs = sizes.map((n) => new Float64Array(n).fill(-12345.5));
        const scatter = new GroupScatter(sort.values, sort.tags, groupOf, outs);
        while (!scatter.done) scatter.advance(budget);
        outs.forEach((o, q) => expectSortedAsBuiltin(Float64Array.from(runs.filter((_, k) => groupOf[k] === q).flatMap((r) => [...r])), o));
      } finally {
        sort.release();
      }
    }
  });

  it('sorts a long run of values sharing a high word, in descending order and with ties, stably (by comparison, not by insertion)', () => {
    // 30,000 durations within a second of each other (one high word), descending: a leaf's
    // censored durations, its cases stored by opening. Two runs, so ties across runs too.
    const run = () => Float64Array.from({ length: 15_000 }, (_, i) => 1e9 + Math.floor((15_000 - i) / 3) * 1e-4);
    const runs = [run(), run()];
    const sort = new TaggedRunsSort(runs);
    try {
      while (!sort.done) sort.advance(8192);
      expectSortedAsBuiltin(Float64Array.from([...runs[0], ...runs[1]]), sort.values);
      let unstableAt = -1;
      for (let i = 1; i < sort.values.length && unstableAt < 0; i++) {
        if (sort.values[i] === sort.values[i - 1] && sort.tags[i] < sort.tags[i - 1]) unstableAt = i;
      }
      expect(unstableAt).toBe(-1);
    } finally {
      sort.release();
    }
  });
});
